// The conversation outlives the tab: a shopper who leaves an address and
// goes gets the reply by email, and the email's link brings them back into
// the same conversation on the shop's page, on any device.
import { test, expect } from '@playwright/test';
import { setup, signIn, openShop, goOnline, closeContexts, newContext } from './helpers.mjs';

test.afterEach(closeContexts);

test('a shopper who leaves gets the reply by email, and its link opens the chat with it', async ({ browser, request }) => {
  const address = `grace-${Date.now()}@example.com`;
  const shopper = await openShop(browser);
  await shopper.say('Is the blue coat back in stock?');
  // Nobody is online: the widget offers to answer by email, once.
  const ask = shopper.page.getByRole('textbox', { name: /Leave your email/ });
  await expect(ask).toBeVisible();
  await ask.fill(address);
  await shopper.page.getByRole('button', { name: 'Save' }).click();
  await expect(shopper.page.locator('.rp-notice')).toContainText(address);
  await expect(ask).toBeHidden();
  await shopper.page.close();

  const inbox = await signIn(browser, setup.email);
  await goOnline(inbox);
  await inbox.getByRole('button', { name: /Is the blue coat back in stock/ }).click();
  const reply = inbox.getByLabel('Reply');
  await reply.fill('It is back: we put one aside for you.');
  await reply.press('Enter');
  await expect(inbox.locator('.events')).toContainText(/Emailed to grace-\d+@example.com: 1 reply/);

  let mail;
  await expect
    .poll(async () => {
      [mail] = await (await request.get(`${setup.mailboxUrl}/mails?to=${encodeURIComponent(address)}`)).json();
      return mail ? mail.text : '';
    }, { timeout: 20_000 })
    .toContain('It is back: we put one aside for you.');
  const link = mail.text.match(/https?:\/\/[^\s"<>]+#rapport-continue=[a-z0-9]+/)[0];
  expect(link.startsWith(setup.shopUrl)).toBe(true);

  // Another device: the link alone opens the chat, with the reply in it.
  const phone = await (await newContext(browser)).newPage();
  await phone.goto(link);
  const transcript = phone.locator('.rp-log');
  await expect(transcript).toContainText('It is back: we put one aside for you.');
  await expect(transcript).toContainText('Is the blue coat back in stock?');
  await expect(phone).not.toHaveURL(/rapport-continue/);
  await phone.screenshot({ path: 'test-results/email-continue.png' });

  // Answering there reaches the same conversation in the inbox.
  const message = phone.getByRole('textbox', { name: 'Message' });
  await message.fill('Great, I will pick it up tomorrow.');
  await message.press('Enter');
  await expect(inbox.locator('.events')).toContainText('Great, I will pick it up tomorrow.');
  await inbox.getByRole('button', { name: 'Close conversation' }).click();
  await expect(phone.locator('.rp-log')).toContainText('This chat has ended');
});
