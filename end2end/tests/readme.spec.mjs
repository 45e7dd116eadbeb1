// The README, literally: `cargo xtask run` starts the server on an empty
// database at http://127.0.0.1:8080 and logs a setup link; the newcomer opens
// it, names themselves, chooses a password and lands signed in; goes online
// from the first inbox; opens the demo shop at the address the server
// printed, sees the chat button, chats, and answers from the inbox. Every
// address comes from the server's own log, never from this test.
//
// `cargo xtask run` builds dist/ and runs `rapport` with RAPPORT_ASSETS_DIR
// set and nothing else; this test runs that same binary the same way, in an
// empty folder of its own (so `./data/rapport.db` is a new database) rather
// than the checkout, whose data folder is the developer's.
import { test, expect } from '@playwright/test';
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

/** The README's address. Another program on it would make this test lie. */
const README_PORT = 8080;

let server;
const log = [];

/** Resolves with the first log line matching `pattern`'s first group. */
function fromLog(pattern, timeout = 30_000) {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const look = () => {
      for (const line of log) {
        const found = line.match(pattern);
        if (found) return resolve(found[1]);
      }
      if (server.exitCode !== null) return reject(new Error(`the server stopped:\n${log.join('\n')}`));
      if (Date.now() - started > timeout) return reject(new Error(`not in the log: ${pattern}\n${log.join('\n')}`));
      setTimeout(look, 50);
    };
    look();
  });
}

test.beforeAll(async () => {
  const folder = join(process.env.RAPPORT_E2E_STATE, 'readme');
  mkdirSync(folder, { recursive: true });
  const env = { ...process.env, RAPPORT_ASSETS_DIR: process.env.RAPPORT_ASSETS_DIR, NO_COLOR: '1' };
  for (const name of Object.keys(env)) {
    if (name.startsWith('RAPPORT_') && name !== 'RAPPORT_ASSETS_DIR') delete env[name];
  }
  server = spawn(process.env.RAPPORT_BIN, [], { cwd: folder, env });
  const take = (chunk) => {
    // Without colour codes: the log's words, as a person reads them.
    log.push(...chunk.toString().replace(/\x1b\[[0-9;]*m/g, '').split('\n'));
  };
  server.stdout.on('data', take);
  server.stderr.on('data', take);
  await fromLog(new RegExp(`(listening|Rapport is running|Address already in use)`), 30_000);
  if (log.some((line) => /Address already in use/.test(line))) {
    throw new Error(`port ${README_PORT} is taken: the README's address must be free for this test`);
  }
});

test.afterAll(async () => {
  server?.kill('SIGTERM');
});

test('the README, followed literally: set up, go online, chat on the demo shop, answer', async ({ browser }, testInfo) => {
  const demoShop = await fromLog(/demo shop at (\S+?)\/? ,/);
  const inboxUrl = await fromLog(/inbox at (\S+\/app)\b/);
  const setupLink = await fromLog(/set up the owner's account .* at (\S+#reset=\S+)/);
  expect(demoShop).toBe(`http://127.0.0.1:${README_PORT}`);
  expect(inboxUrl).toBe(`http://127.0.0.1:${README_PORT}/app`);

  // The setup link names the account and asks for what is missing.
  const owner = await browser.newContext({ locale: 'en-US' });
  const inbox = await owner.newPage();
  const inboxErrors = [];
  inbox.on('console', (message) => message.type() === 'error' && inboxErrors.push(message.text()));
  inbox.on('pageerror', (error) => inboxErrors.push(error.message));
  await inbox.goto(setupLink);
  await expect(inbox.getByRole('heading', { name: 'Set up My shop on Rapport' })).toBeVisible();
  await expect(inbox.getByLabel(/Your email/)).toHaveValue('owner@example.com');
  await inbox.screenshot({ path: testInfo.outputPath('1-setup-link.png'), fullPage: true });
  await inbox.getByLabel('Your name').fill('Grace Hopper');
  await inbox.getByLabel(/Your email/).fill('grace@shop.example');
  await inbox.getByLabel(/Choose a password/).fill('a long first password');
  await inbox.getByRole('button', { name: 'Save and sign in' }).click();

  // Signed in, named, and told what Offline means, with the way online.
  await expect(inbox.getByRole('button', { name: 'Sign out' })).toBeVisible();
  await expect(inbox.locator('.topbar .who')).toHaveText('Grace Hopper');
  const help = inbox.getByRole('region', { name: /You are offline/ });
  await expect(help).toBeVisible();
  await inbox.screenshot({ path: testInfo.outputPath('2-first-inbox.png'), fullPage: true });
  await help.getByRole('button', { name: 'Go online' }).click();
  await expect(inbox.getByLabel('Status')).toHaveValue('online');
  await expect(help).toBeHidden();

  // The demo shop, at the address printed: the chat button is there.
  const shopper = await (await browser.newContext()).newPage();
  const shopErrors = [];
  shopper.on('console', (message) => message.type() === 'error' && shopErrors.push(message.text()));
  shopper.on('pageerror', (error) => shopErrors.push(error.message));
  await shopper.goto(demoShop + '/');
  const launcher = shopper.getByRole('button', { name: 'Chat' });
  await expect(launcher).toBeVisible();
  await launcher.click();
  await expect(shopper.locator('.rp-status')).toHaveText('Online');
  const message = shopper.getByRole('textbox', { name: 'Message' });
  await message.fill('Hello from the demo shop');
  await message.press('Enter');
  const transcript = shopper.locator('.rp-log');
  await expect(transcript).toContainText('Grace Hopper joined the chat');
  await shopper.screenshot({ path: testInfo.outputPath('3-demo-shop.png') });

  // The inbox's link on the demo page is the one the server printed.
  await expect(shopper.getByRole('link', { name: 'inbox' })).toHaveAttribute('href', inboxUrl);

  // Answered from the inbox.
  await inbox.getByRole('button', { name: /Hello from the demo shop/ }).click();
  await expect(inbox.locator('.events')).toContainText('Hello from the demo shop');
  await expect(inbox.locator('.line.visitor .who')).toHaveText('Visitor 1');
  const reply = inbox.getByLabel('Reply');
  await reply.fill('Hi! How can I help?');
  await reply.press('Enter');
  await expect(transcript).toContainText('Hi! How can I help?');
  await inbox.screenshot({ path: testInfo.outputPath('4-answered.png'), fullPage: true });

  // A normal visit, start to end, says nothing alarming in either console.
  expect(shopErrors).toEqual([]);
  expect(inboxErrors).toEqual([]);
  await owner.close();
});
