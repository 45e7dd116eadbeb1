// An agent finds last week's conversation by a word, in another form than
// the one written, opens it at the message with the word marked, and
// labels it.
import { test, expect } from '@playwright/test';
import { setup, signIn, openShop, goOnline, closeContexts, ageConversation } from './helpers.mjs';

test.afterEach(closeContexts);

test('an agent finds last week\'s conversation by a word, opens it at the message and labels it', async ({ browser }) => {
  const ada = await signIn(browser, setup.email);
  await goOnline(ada);
  const shopper = await openShop(browser);
  await shopper.say('My umbrella broke in the first storm');
  await expect(shopper.transcript).toContainText('Ada joined the chat');
  await ada.getByRole('button', { name: /My umbrella broke/ }).click();
  await ada.getByLabel('Reply').fill('Sorry to hear that! Send us a photo please.');
  await ada.getByLabel('Reply').press('Enter');
  await ada.getByRole('button', { name: 'Close conversation' }).click();
  await expect(ada.getByText('This conversation is closed')).toBeVisible();

  // A week later: the agent searches in another form of the word.
  ageConversation('My umbrella broke in the first storm', 7);
  const weekAgo = new Date(Date.now() - 7 * 86400000);
  const box = ada.getByRole('searchbox', { name: 'Search messages and customers' });
  await box.fill('umbrellas storms');
  await box.press('Enter');
  const hit = ada.locator('.search-results .message-hit').first();
  await expect(hit).toContainText('My umbrella broke in the first storm');
  await expect(hit.locator('mark')).toHaveText(['umbrella', 'storm']);
  // Dated a week ago ("Sun 29 Nov 14:02"), not today ("14:02").
  await expect(hit.locator('time')).toContainText(String(weekAgo.getDate()));
  await expect(hit.locator('time')).not.toHaveText(/^\d{2}:\d{2}$/);
  await hit.click();
  const found = ada.locator('.events .line.found');
  await expect(found).toContainText('My umbrella broke in the first storm');
  await expect(found.locator('mark')).toHaveText(['umbrella', 'storm']);
  await expect(found).toBeInViewport();
  await expect(ada.locator('.events')).toContainText('Sorry to hear that!');

  await ada.getByPlaceholder('Add a label').fill('warranty');
  await ada.getByRole('button', { name: 'Label', exact: true }).click();
  await expect(ada.locator('.labels-editor .tag')).toHaveText(['warranty×']);
  // Emptying the box brings the lists back.
  await box.fill('');
  await expect(ada.locator('.search-results')).toHaveCount(0);
});
