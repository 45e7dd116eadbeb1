// An agent blocks an abusive shopper from the inbox: the chat closes and
// the shopper cannot start again; the owner sees the block in the console
// and lifts it.
import { test, expect } from '@playwright/test';
import { setup, signIn, openShop, goOnline, closeContexts } from './helpers.mjs';

test.afterEach(closeContexts);

test('an agent blocks a shopper, who cannot come back until the owner lifts it', async ({ browser }) => {
  const ada = await signIn(browser, setup.email);
  await goOnline(ada);
  const shopper = await openShop(browser);
  await shopper.say('Buy cheap watches now');
  await ada.getByRole('button', { name: /Buy cheap watches now/ }).click();

  await ada.getByText('Block…').click();
  await ada.getByLabel('Why block this shopper').fill('Spam');
  await ada.getByRole('button', { name: 'Block shopper' }).click();
  await expect(ada.getByText('Blocked: the chat is closed')).toBeVisible();

  // Back on the shop's page: the widget says so, and takes nothing.
  await shopper.page.reload();
  await shopper.page.getByRole('button', { name: 'Chat' }).click();
  await expect(shopper.page.locator('.rp-notice')).toContainText('no longer takes chats from you');

  // The owner lifts the block in the console; the shopper may chat again.
  await ada.getByRole('button', { name: 'Console' }).click();
  const blocks = ada.locator('.blocks');
  await expect(blocks).toContainText('blocked by Ada: Spam');
  await blocks.getByRole('button', { name: 'Lift' }).click();
  await expect(blocks).not.toContainText('Spam');
  await shopper.page.reload();
  await shopper.page.getByRole('button', { name: 'Chat' }).click();
  await shopper.page.getByRole('button', { name: 'Start a new conversation' }).click();
  await shopper.say('Sorry, a real question');
  await ada.getByRole('button', { name: 'Inbox' }).click();
  await ada.getByRole('button', { name: /Sorry, a real question/ }).click();
  await ada.getByRole('button', { name: 'Close conversation' }).click();
});
