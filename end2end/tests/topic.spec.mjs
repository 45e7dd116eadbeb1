// The shop's page sets a topic through the command queue before the widget
// has loaded; the conversation goes to the team that handles it.
import { test, expect } from '@playwright/test';
import { setup, signIn, openShop, goOnline, closeContexts } from './helpers.mjs';

test.afterEach(closeContexts);

test("a page's topic routes the shopper to the team that handles it", async ({ browser }) => {
  const ada = await signIn(browser, setup.email);
  await goOnline(ada);
  const cy = await signIn(browser, setup.oneAtATime);
  await goOnline(cy);

  // Ada is free and first in line on load, but only Cy is in Billing.
  const shopper = await openShop(browser, '/billing');
  await shopper.say('My invoice is wrong');
  await expect(shopper.transcript).toContainText('Cy joined the chat');
  const conversation = cy.getByRole('button', { name: /My invoice is wrong/ });
  await conversation.click();
  await cy.getByRole('button', { name: 'Close conversation' }).click();
  await expect(shopper.transcript).toContainText('This chat has ended');
});

test('a shopper picks a topic in the widget and waits in that team\'s line', async ({ browser }) => {
  const ada = await signIn(browser, setup.email);
  await goOnline(ada);

  const shopper = await openShop(browser, '/');
  const topics = shopper.page.getByRole('group', { name: 'What is it about?' });
  const billing = topics.getByRole('button', { name: 'Billing' });
  await billing.click();
  await expect(billing).toHaveAttribute('aria-pressed', 'true');
  await shopper.say('I was charged twice');
  // Ada is online with room, but not in Billing: the chat waits in Billing's line.
  await expect(shopper.status).toContainText('No agent is online');
  await expect(ada.getByRole('heading', { name: /Billing · 1 waiting/ })).toBeVisible();
  await expect(ada.getByRole('list', { name: 'Waiting for Billing' })).toContainText('I was charged twice');
  await expect(topics).toBeHidden();

  const cy = await signIn(browser, setup.oneAtATime);
  await goOnline(cy);
  await expect(shopper.transcript).toContainText('Cy joined the chat');
  await cy.getByRole('button', { name: /I was charged twice/ }).click();
  await cy.getByRole('button', { name: 'Close conversation' }).click();
  await expect(shopper.transcript).toContainText('This chat has ended');
});
