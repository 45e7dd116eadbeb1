// The inbox remembers, as an agent uses it: a chat set aside comes back by
// itself when the customer writes; a shopper's word after a close reopens
// the same conversation in the same agent's inbox; the closed view keeps
// what ended, and a label sticks to it and filters the views.
import { test, expect } from '@playwright/test';
import { setup, signIn, openShop, goOnline, closeContexts } from './helpers.mjs';

test.afterEach(closeContexts);

/** The view button named `name` (its count follows the name). */
function viewButton(ada, name) {
  return ada.locator(`.views .view[data-view="${name}"]`);
}

async function closeIt(ada) {
  await ada.getByRole('button', { name: 'Close conversation' }).click();
  await expect(ada.getByText('This conversation is closed')).toBeVisible();
}

test('a snoozed chat comes back when the customer writes', async ({ browser }) => {
  const ada = await signIn(browser, setup.email);
  await goOnline(ada);
  const shopper = await openShop(browser);
  await shopper.say('Let me find my order number');
  await expect(shopper.transcript).toContainText('Ada joined the chat');
  await ada.getByRole('button', { name: /Let me find my order number/ }).click();
  await ada.locator('select.snooze').selectOption('reply');
  await expect(ada.locator('.conversation-status')).toHaveText('Snoozed until the customer writes');
  await expect(ada.locator('.events')).toContainText('Snoozed by Ada until the customer writes');
  // Out of Mine, into Snoozed, with the counts to say so.
  await expect(viewButton(ada, 'snoozed').locator('.count')).not.toHaveText('0');
  await viewButton(ada, 'snoozed').click();
  await expect(ada.locator('.view-list')).toContainText('Let me find my order number');
  await expect(ada.locator('.view-list .status-badge')).toContainText('snoozed until they write');
  await ada.getByRole('button', { name: 'Live', exact: true }).click();
  await expect(ada.getByRole('button', { name: /Let me find my order number/ })).toHaveCount(0);

  await shopper.say('Found it: 1042');
  await expect(ada.locator('.events')).toContainText('Open again: the customer wrote');
  await expect(ada.locator('.conversation-status')).toHaveText('Open');
  await expect(ada.getByRole('button', { name: /Found it: 1042/ })).toBeVisible();
  await closeIt(ada);
});

test('a shopper writing after a close reopens it in the same agent\'s inbox; it can be labelled and found by label', async ({ browser }) => {
  const ada = await signIn(browser, setup.email);
  await goOnline(ada);
  const shopper = await openShop(browser);
  await shopper.say('Do you ship to Iceland?');
  await expect(shopper.transcript).toContainText('Ada joined the chat');
  await ada.getByRole('button', { name: /Do you ship to Iceland\?/ }).click();
  await ada.getByLabel('Reply').fill('Yes, in five days.');
  await ada.getByLabel('Reply').press('Enter');
  await closeIt(ada);

  // It is kept in the Closed view, where a label goes on it.
  await viewButton(ada, 'closed').click();
  await ada.locator('.view-list').getByRole('button', { name: /Yes, in five days\./ }).click();
  await ada.getByPlaceholder('Add a label').fill('Shipping');
  await ada.getByRole('button', { name: 'Label', exact: true }).click();
  await expect(ada.locator('.labels-editor .tag')).toHaveText(['shipping×']);
  await ada.locator('select[name=label-filter]').selectOption('shipping');
  await expect(ada.locator('.view-list .conversation')).toHaveCount(1);
  await expect(ada.locator('.view-list .tag')).toHaveText('shipping');
  await ada.locator('select[name=label-filter]').selectOption('');
  await ada.getByRole('button', { name: 'Live', exact: true }).click();

  // The shopper comes back: the same conversation opens again, to Ada.
  await shopper.page.getByRole('button', { name: 'Start a new conversation' }).click();
  await shopper.say('And to the Faroe Islands?');
  await expect(shopper.transcript).toContainText('Ada joined the chat');
  const row = ada.getByRole('button', { name: /And to the Faroe Islands\?/ });
  await expect(row).toBeVisible();
  await row.click();
  await expect(ada.locator('.events')).toContainText('Yes, in five days.');
  await expect(ada.locator('.events')).toContainText('Reopened: the customer wrote again');
  await expect(ada.locator('.labels-editor .tag')).toHaveText(['shipping×']);
  // The shopper may read what came before.
  await shopper.page.getByRole('button', { name: 'Earlier messages' }).click();
  await expect(shopper.transcript).toContainText('Yes, in five days.');
  await closeIt(ada);
});
