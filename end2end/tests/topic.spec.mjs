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
