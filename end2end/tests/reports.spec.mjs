// The owner's reports, as an owner uses them: a chat happens and is rated;
// the owner opens Reports, clicks a figure to see the conversations it
// counts, opens one in the inbox, and downloads a CSV whose numbers are
// the screen's. The page is kept as a screenshot among the test's files.
import { test, expect } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { setup, signIn, openShop, goOnline, closeContexts } from './helpers.mjs';

test.afterEach(closeContexts);

/** "45s", "3m 05s", "2h 05m" back to whole seconds (minutes for hours). */
function seconds(text) {
  const h = /(\d+)h/.exec(text), m = /(\d+)m/.exec(text), s = /(\d+)s/.exec(text);
  return (h ? +h[1] * 3600 : 0) + (m ? +m[1] * 60 : 0) + (s ? +s[1] : 0);
}

/** A CSV of plain cells and quoted ones ("" inside quotes is a quote). */
function parseCsv(text) {
  const rows = [];
  let row = [], cell = '', quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; }
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(cell); cell = ''; }
    else if (c === '\n') { row.push(cell); rows.push(row); row = []; cell = ''; }
    else if (c !== '\r') cell += c;
  }
  if (cell || row.length) { row.push(cell); rows.push(row); }
  return rows;
}

test('the owner clicks a figure to see its conversations, opens one, and downloads a CSV that matches the screen', async ({ browser }) => {
  const ada = await signIn(browser, setup.email);
  await goOnline(ada);
  const shopper = await openShop(browser);
  const words = `Report me ${Date.now()}`;
  await shopper.say(words);
  await expect(shopper.transcript).toContainText('Ada joined the chat');
  await ada.getByRole('button', { name: new RegExp(words) }).click();
  await ada.getByLabel('Reply').fill('Here you are.');
  await ada.getByLabel('Reply').press('Enter');
  await expect(shopper.transcript).toContainText('Here you are.');
  await ada.getByRole('button', { name: 'Close conversation' }).click();
  const question = shopper.page.getByRole('group', { name: 'How was your chat?' });
  await question.getByRole('radio', { name: 'Good', exact: true }).check();
  const comment = `Comment ${Date.now()}`;
  await shopper.page.getByLabel('Anything to add? (optional)').fill(comment);
  await shopper.page.getByRole('button', { name: 'Send rating' }).click();
  await expect(ada.locator('.events')).toContainText('rated the chat 4/5');

  await ada.getByRole('button', { name: 'Reports', exact: true }).click();
  await expect(ada.getByRole('heading', { name: 'Reports' })).toBeVisible();
  const title = ada.locator('.report-rows-title');
  await expect(title).toContainText('All conversations');
  const all = Number((await title.textContent()).match(/(\d+) conversation/)[1]);
  expect(all).toBeGreaterThan(0);

  // A figure shows the conversations it counts: every one rated 4.
  await ada.getByRole('button', { name: /chats rated 4/ }).click();
  await expect(title).toContainText('Rated 4');
  const ours = ada.locator('.report-rows tbody tr').filter({ hasText: comment });
  await expect(ours).toHaveCount(1);
  for (const rating of await ada.locator('.report-rows td.rating').allTextContents()) expect(rating).toBe('4');
  const firstResponse = await ours.locator('td.first-response').textContent();
  const toClose = await ours.locator('td.time-to-close').textContent();
  await ada.screenshot({ path: test.info().outputPath('reports.png'), fullPage: true });

  // The CSV: one row per conversation, the same figures.
  await ada.getByRole('button', { name: 'Show all' }).click();
  const [download] = await Promise.all([
    ada.waitForEvent('download'),
    ada.getByRole('link', { name: 'Download CSV' }).click(),
  ]);
  const rows = parseCsv(readFileSync(await download.path(), 'utf8'));
  const header = rows[0];
  expect(rows.length - 1).toBe(all);
  const row = rows.find((r) => r[header.indexOf('rating_comment')] === comment);
  expect(row[header.indexOf('rating')]).toBe('4');
  expect(Number(row[header.indexOf('first_response_secs')])).toBe(seconds(firstResponse));
  expect(Number(row[header.indexOf('time_to_close_secs')])).toBe(seconds(toClose));

  // A conversation in the table opens in the inbox.
  await ada.getByRole('button', { name: /chats rated 4/ }).click();
  await ours.getByRole('link').click();
  await expect(ada.locator('.events')).toContainText(words);
});
