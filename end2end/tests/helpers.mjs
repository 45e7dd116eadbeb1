// What every browser test needs: the setup written by the config, browser
// contexts that are closed after each test, and the two people's first steps.
import { test, expect } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const setup = JSON.parse(readFileSync(join(process.env.RAPPORT_E2E_STATE, 'setup.json'), 'utf8'));

// Every context a test opens (a shopper's device, an agent's) is closed
// after it, so no test sees another's open inbox.
const contexts = [];
export async function newContext(browser) {
  const context = await browser.newContext();
  contexts.push(context);
  return context;
}
test.afterEach(async () => {
  await Promise.all(contexts.splice(0).map((context) => context.close()));
});

/** An agent signed in to the inbox in a fresh context. */
export async function signIn(browser, email) {
  const inbox = await (await newContext(browser)).newPage();
  await inbox.goto(setup.baseUrl + '/app');
  await inbox.getByLabel('Email').fill(email);
  await inbox.getByLabel('Password').fill(setup.password);
  await inbox.getByRole('button', { name: 'Sign in' }).click();
  await expect(inbox.getByRole('button', { name: 'Sign out' })).toBeVisible();
  return inbox;
}

/** A new shopper on the shop's page with the chat open. */
export async function openShop(browser) {
  const page = await (await newContext(browser)).newPage();
  await page.goto(setup.shopUrl);
  await page.getByRole('button', { name: 'Chat' }).click();
  const message = page.getByRole('textbox', { name: 'Message' });
  const transcript = page.locator('.rp-log');
  return {
    page,
    message,
    transcript,
    status: page.getByRole('status'),
    async say(text) {
      await message.fill(text);
      await message.press('Enter');
      await expect(transcript).toContainText(text);
    },
  };
}
