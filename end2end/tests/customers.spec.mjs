// The customer list: an agent finds a customer by name without any
// conversation open, reads their page, labels them, opens a past
// conversation from it in the inbox; the owner erases them for good.
import { test, expect } from '@playwright/test';
import { setup, signIn, openShop, goOnline, closeContexts, signIdentity } from './helpers.mjs';

test.afterEach(closeContexts);

test('an agent finds a customer in the list, labels them, opens a past chat from their page; the owner erases them', async ({ browser }) => {
  const ada = await signIn(browser, setup.email);
  await goOnline(ada);
  const customer = { sub: 'cust-list-e2e', name: 'Linnea Scarf', email: 'linnea@customers.test' };
  const shopper = await openShop(browser, '/account?token=' + signIdentity(customer));
  await shopper.say('My scarf is too short');
  await expect(shopper.transcript).toContainText('Ada joined the chat');
  await ada.getByRole('button', { name: /My scarf is too short/ }).click();
  await ada.getByRole('button', { name: 'Close conversation' }).click();
  await expect(ada.getByText('This conversation is closed')).toBeVisible();

  await ada.getByRole('button', { name: 'Customers', exact: true }).click();
  const search = ada.getByRole('searchbox', { name: 'Search customers' });
  await search.fill('linnea');
  await search.press('Enter');
  const line = ada.locator('.customer-line');
  await expect(line).toHaveCount(1);
  await expect(line).toContainText('Linnea Scarf');
  await expect(line).toContainText('1 conversation');
  await line.click();

  const page = ada.getByRole('region', { name: 'Customer page' });
  await expect(page.getByRole('heading', { name: /Linnea Scarf/ })).toBeVisible();
  await expect(page).toContainText('cust-list-e2e');
  await page.getByLabel('New customer label').fill('vip');
  await page.getByRole('button', { name: 'Label', exact: true }).click();
  await expect(page.locator('.labels .tag')).toHaveText(['vip×']);
  await page.getByLabel('Note about this customer').fill('Wants a longer scarf in blue');
  await page.getByRole('button', { name: 'Add note' }).click();
  await expect(page.locator('.notes')).toContainText('Wants a longer scarf in blue');

  // The past conversation opens in the inbox.
  await page.getByRole('link', { name: /My scarf is too short/ }).click();
  await expect(ada.locator('.events')).toContainText('My scarf is too short');
  const profile = ada.getByRole('complementary', { name: 'Customer' });
  await expect(profile).toContainText('Wants a longer scarf in blue');
  // And back to their page from the customer panel.
  await profile.getByRole('button', { name: 'Customer page' }).click();
  await expect(page.getByRole('heading', { name: /Linnea Scarf/ })).toBeVisible();

  // The owner erases them: gone from the list, their chat with them.
  ada.once('dialog', (dialog) => dialog.accept());
  await page.getByRole('button', { name: 'Erase this customer' }).click();
  await expect(page).toHaveCount(0);
  await search.fill('linnea');
  await search.press('Enter');
  await expect(ada.getByText('No customer matches.')).toBeVisible();
  await expect(ada.locator('.customer-line')).toHaveCount(0);
});
