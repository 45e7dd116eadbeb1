// What every browser test needs: the setup written by the config, browser
// contexts that are closed after each test, and the two people's first steps.
import { test, expect } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { createHmac } from 'node:crypto';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';

export const setup = JSON.parse(readFileSync(join(process.env.RAPPORT_E2E_STATE, 'setup.json'), 'utf8'));

// Every context a test opens (a shopper's device, an agent's) is closed
// after it, so no test sees another's open inbox. Each spec file registers
// `test.afterEach(closeContexts)` itself: this module is evaluated once per
// worker, so a hook registered here would only apply to the first file.
const contexts = [];
export async function newContext(browser, options = {}) {
  const context = await browser.newContext(options);
  contexts.push(context);
  return context;
}

export async function closeContexts({ request }) {
  await Promise.all(contexts.splice(0).map((context) => context.close()));
  // The server notices closed sockets a moment later; wait until every
  // agent is offline so the next test starts with nobody online.
  await request.post(setup.baseUrl + '/api/auth/login', { data: { email: setup.email, password: setup.password } });
  await expect
    .poll(async () => (await (await request.get(setup.baseUrl + '/api/agents')).json()).filter((m) => m.status !== 'offline').length)
    .toBe(0);
}

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

/** Puts a signed-in agent online (they may already be, from a tab just closed). */
export async function goOnline(inbox) {
  const status = inbox.getByLabel('Status');
  await status.selectOption('online');
  await expect(status).toHaveValue('online');
}

/** A new shopper on one of the shop's pages with the chat open. */
export async function openShop(browser, path = '/') {
  const page = await (await newContext(browser)).newPage();
  await page.goto(setup.shopUrl + path);
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

/** What the shop's backend does: an HS256 token for one of its customers. */
export function signIdentity(claims) {
  const encode = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const body = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode({
    aud: setup.siteKey, exp: Math.floor(Date.now() / 1000) + 600, ...claims,
  })}`;
  return `${body}.${createHmac('sha256', setup.identitySecret).update(body).digest('base64url')}`;
}

/**
 * Moves the conversation holding a message with `text` `days` into the
 * past, as if it had happened then: its times, its events' and its search
 * entries' (the server's SQLite file, written beside the running server,
 * which waits for the lock; Python's sqlite3 is on every machine the tests
 * run on, as the S3 test server needs it).
 */
export function ageConversation(text, days) {
  const db = join(process.env.RAPPORT_E2E_STATE, 'e2e.db');
  const script = `
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=30)
shift = int(sys.argv[3]) * 86400000
ids = [r[0] for r in db.execute("SELECT DISTINCT conversation_id FROM events WHERE body LIKE ?", ('%' + sys.argv[2] + '%',))]
assert ids, 'no conversation holds the text'
for cid in ids:
    db.execute("UPDATE events SET created_at = created_at - ? WHERE conversation_id = ?", (shift, cid))
    db.execute("UPDATE conversations SET created_at = created_at - ?, updated_at = updated_at - ?, closed_at = closed_at - ? WHERE id = ?", (shift, shift, shift, cid))
    db.execute("UPDATE search_entries SET created_at = created_at - ? WHERE conversation_id = ?", (shift, cid))
db.commit()
`;
  execFileSync('python3', ['-c', script, db, text, String(days)]);
}

/**
 * How the line's exits of the conversation holding a message with `text`
 * were kept: `left` or `closed_panel`, one entry per exit (read from the
 * server's SQLite file, as `ageConversation` writes it).
 */
export function lineExits(text) {
  const db = join(process.env.RAPPORT_E2E_STATE, 'e2e.db');
  const script = `
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=30)
rows = db.execute("SELECT x.how FROM queue_exits x WHERE x.conversation_id IN (SELECT conversation_id FROM events WHERE body LIKE ?) ORDER BY x.left_at", ('%' + sys.argv[2] + '%',)).fetchall()
print(','.join(r[0] for r in rows))
`;
  return execFileSync('python3', ['-c', script, db, text]).toString().trim();
}

/** Opens the conversation holding `text` in the inbox and closes it. */
export async function closeConversation(inbox, text) {
  await inbox.getByRole('button', { name: new RegExp(text) }).click();
  await expect(inbox.locator('.events')).toContainText(text);
  await inbox.getByRole('button', { name: 'Close conversation' }).click();
  await expect(inbox.getByRole('button', { name: new RegExp(text) })).toHaveCount(0);
}
