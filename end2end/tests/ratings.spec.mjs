// A rating after a chat, as a shopper gives it: the chat ends, the widget
// asks "How was your chat?" (its code fetched only then), the shopper picks
// a face by keyboard, adds a word and sends; the agent sees it live and the
// page hears it. An agent may close without asking.
import { test, expect } from '@playwright/test';
import { setup, signIn, openShop, goOnline, closeContexts } from './helpers.mjs';

test.afterEach(closeContexts);

test('the shopper rates a closed chat by keyboard, the agent sees it and the page hears it', async ({ browser }) => {
  const ada = await signIn(browser, setup.email);
  await goOnline(ada);
  const shopper = await openShop(browser);
  await shopper.page.evaluate(() => {
    window.heard = [];
    Rapport('on', 'rated', (value) => window.heard.push(value));
  });
  await shopper.say('Can I pay by invoice?');
  await expect(shopper.transcript).toContainText('Ada joined the chat');
  await ada.getByRole('button', { name: /Can I pay by invoice\?/ }).click();
  await ada.getByLabel('Reply').fill('Yes, within 30 days.');
  await ada.getByLabel('Reply').press('Enter');
  await expect(shopper.transcript).toContainText('Yes, within 30 days.');
  await ada.getByRole('button', { name: 'Close conversation' }).click();

  const question = shopper.page.getByRole('group', { name: 'How was your chat?' });
  await expect(question).toBeVisible();
  // Five named points, reached and picked by keyboard.
  await expect(question.getByRole('radio')).toHaveCount(5);
  await question.getByRole('radio', { name: 'Very bad' }).focus();
  for (let step = 0; step < 3; step++) await shopper.page.keyboard.press('ArrowRight');
  await expect(question.getByRole('radio', { name: 'Good', exact: true })).toBeChecked();
  await shopper.page.getByLabel('Anything to add? (optional)').fill('Quick answer, thanks');
  await shopper.page.getByRole('button', { name: 'Send rating' }).click();
  await expect(shopper.page.getByRole('status').filter({ hasText: 'Thank you for your rating!' })).toBeVisible();
  await expect(shopper.transcript).toContainText('You rated this chat 4 out of 5');
  await expect(ada.locator('.events')).toContainText('The shopper rated the chat 4/5: \u201cQuick answer, thanks\u201d');
  expect(await shopper.page.evaluate(() => window.heard)).toEqual([
    expect.objectContaining({ score: 4, comment: 'Quick answer, thanks' }),
  ]);
  await shopper.page.screenshot({ path: test.info().outputPath('rating.png') });

  // Changed within the day: the prompt shows what was given.
  await shopper.page.reload();
  await shopper.page.getByRole('button', { name: 'Chat' }).click();
  const again = shopper.page.getByRole('group', { name: 'How was your chat?' });
  await expect(again.getByRole('radio', { name: 'Good', exact: true })).toBeChecked();
  await again.getByRole('radio', { name: 'Very good' }).check();
  await shopper.page.getByRole('button', { name: 'Send rating' }).click();
  await expect(ada.locator('.events')).toContainText('The shopper rated the chat 5/5');
});

test('an agent closes a chat without asking for a rating', async ({ browser }) => {
  const ada = await signIn(browser, setup.email);
  await goOnline(ada);
  const shopper = await openShop(browser);
  await shopper.say('ok thanks bye');
  await expect(shopper.transcript).toContainText('Ada joined the chat');
  await ada.getByRole('button', { name: /ok thanks bye/ }).click();
  await ada.getByRole('button', { name: 'Close without rating' }).click();
  await expect(shopper.transcript).toContainText('This chat has ended');
  await expect(shopper.page.getByRole('button', { name: 'Start a new conversation' })).toBeVisible();
  // The widget asked the server and was told not to ask.
  await shopper.page.waitForTimeout(500);
  await expect(shopper.page.getByRole('group', { name: 'How was your chat?' })).toHaveCount(0);
});
