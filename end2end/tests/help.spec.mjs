// Help articles, as people use them: an owner writes one in the console;
// a shopper who asks how to return shoes is offered it, reads it inside
// the chat and says it answered; another opens the help view, searches,
// reads one and still talks to a person, and the agent sees what they
// read; the agent sends an article from the reply box with /a, and the
// shopper reads it in the chat. The articles are deleted afterwards, so
// no later test sees a help button.
import { test, expect } from '@playwright/test';
import { fileURLToPath } from 'node:url';
import { setup, signIn, openShop, goOnline, closeContexts } from './helpers.mjs';

test.afterEach(closeContexts);

/** The shop's site id, as the console knows it. */
async function siteId(inbox) {
  const sites = await (await inbox.request.get(`${setup.baseUrl}/api/articles/sites`)).json();
  return sites[0].id;
}

/** Deletes every article of the site (each test leaves none behind). */
async function deleteArticles(inbox) {
  const site = await siteId(inbox);
  const articles = await (await inbox.request.get(`${setup.baseUrl}/api/articles?site=${site}`)).json();
  for (const article of articles) {
    expect((await inbox.request.delete(`${setup.baseUrl}/api/articles/${article.id}`)).status()).toBe(204);
  }
}

test('an owner writes an article; a shopper asking about returns is offered it, reads it in the chat, and it answered', async ({ browser }) => {
  const ada = await signIn(browser, setup.email);
  try {
    await ada.getByRole('button', { name: 'Help articles' }).click();
    await ada.getByRole('button', { name: 'New article' }).click();
    const editor = ada.locator('.article-editor');
    await editor.locator('input[name="article-collection"]').fill('Returns');
    await editor.locator('input[name="article-title"]').fill('Returning shoes');
    await editor.locator('textarea[name="article-body"]').fill(
      'Send **unworn** shoes back within 30 days.\n\n1. Print the return label\n2. Drop the box at any post office\n\n<script>alert(1)</script>');
    // A picture goes through the attachment store, its Markdown added to the text.
    await editor.locator('input[name="article-picture"]').setInputFiles(
      fileURLToPath(new URL('../../server/tests/fixtures/gps-photo.jpg', import.meta.url)));
    await expect(editor.locator('textarea[name="article-body"]')).toHaveValue(/!\[gps-photo\.jpg\]\(http.*\/help\/.*\/images\//);
    await editor.getByRole('button', { name: 'Preview' }).click();
    await expect(editor.locator('.article-preview strong')).toHaveText('unworn');
    await expect(editor.locator('.article-preview script')).toHaveCount(0);
    await editor.locator('input[name="article-published"]').check();
    await editor.getByRole('button', { name: 'Save' }).click();
    await expect(editor.getByRole('status')).toHaveText('Saved and published.');
    await expect(editor.locator('.article-history li')).toHaveCount(1);
    await expect(editor.locator('.article-history li')).toContainText('Ada · en: Returning shoes');
    // A second one, which the question must not bring first.
    const site = await siteId(ada);
    expect((await ada.request.post(`${setup.baseUrl}/api/articles`, {
      data: { site_id: site, language: 'en', title: 'Tracking your order', body: 'Every parcel has a tracking link.', published: true },
    })).status()).toBe(201);

    await ada.getByRole('button', { name: 'Inbox' }).click();
    await goOnline(ada);
    const shopper = await openShop(browser);
    await shopper.page.evaluate(() => {
      window.heard = [];
      Rapport('on', 'answered', (value) => window.heard.push(value));
    });
    await shopper.say('how do I return shoes');
    const offered = shopper.page.getByRole('region', { name: 'This might help' });
    await expect(offered.getByRole('button')).toHaveCount(1);
    await offered.getByRole('button', { name: /Returning shoes/ }).click();
    const article = shopper.page.locator('.rp-article');
    await expect(article.getByRole('heading', { name: 'Returning shoes' })).toBeFocused();
    await expect(article.locator('strong')).toHaveText('unworn');
    await expect(article.locator('script')).toHaveCount(0);
    // The picture shows (it was published with the article).
    await expect.poll(() => article.locator('img').evaluate((img) => img.complete && img.naturalWidth)).toBeGreaterThan(0);
    await article.getByRole('button', { name: 'This answered my question' }).click();
    await expect(article.getByRole('status')).toHaveText('Glad it helped!');
    expect(await shopper.page.evaluate(() => window.heard)).toEqual([
      expect.objectContaining({ title: 'Returning shoes' }),
    ]);
    await shopper.page.screenshot({ path: test.info().outputPath('help-article.png') });
    // Back to the chat: the question is still there.
    await shopper.page.getByRole('button', { name: /Back/ }).click();
    await expect(shopper.transcript).toContainText('how do I return shoes');

    // The console counts the view and the answer.
    await ada.reload();
    await ada.getByRole('button', { name: 'Help articles' }).click();
    const row = ada.locator('.articles-list tr', { hasText: 'Returning shoes' });
    await expect(row.locator('td').nth(3)).toHaveText('1');
    await expect(row.locator('td').nth(4)).toHaveText('1');
    // Once the agent answers, the offer goes; no conversation is left open
    // for the tests after this one.
    await ada.getByRole('button', { name: 'Inbox' }).click();
    await ada.getByRole('button', { name: /how do I return shoes/ }).click();
    await expect(offered).toBeVisible();
    await ada.getByLabel('Reply').fill('Glad the article helped!');
    await ada.getByLabel('Reply').press('Enter');
    await expect(shopper.transcript).toContainText('Glad the article helped!');
    await expect(offered).toHaveCount(0);
    await ada.getByRole('button', { name: 'Close conversation' }).click();
    await expect(shopper.transcript).toContainText('This chat has ended');
  } finally {
    await deleteArticles(ada);
  }
});

test('a shopper searches the help, reads, still talks to a person; the agent sees what they read and sends an article with /a', async ({ browser }) => {
  const ada = await signIn(browser, setup.email);
  try {
    const site = await siteId(ada);
    for (const [title, body] of [
      ['Tracking your order', 'Every parcel has a tracking link in the shipping email.'],
      ['Gift cards', 'Gift cards never expire.'],
    ]) {
      expect((await ada.request.post(`${setup.baseUrl}/api/articles`, {
        data: { site_id: site, language: 'en', title, body, published: true, collection: 'Orders' },
      })).status()).toBe(201);
    }
    await goOnline(ada);
    const shopper = await openShop(browser);
    // The help module comes on first use, not with the chat.
    const helpModule = [];
    shopper.page.on('request', (r) => /\/assets\/help-[0-9a-f]+\.js$/.test(r.url()) && helpModule.push(r.url()));
    await expect(shopper.message).toBeEditable();
    await shopper.page.waitForTimeout(500);
    expect(helpModule).toEqual([]);
    await shopper.page.getByRole('button', { name: 'Help' }).click();
    const search = shopper.page.getByRole('searchbox', { name: 'Search help articles' });
    await expect(search).toBeFocused();
    await search.fill('tracking');
    const results = shopper.page.locator('.rp-help-list');
    await expect(results.getByRole('button')).toHaveCount(1);
    await results.getByRole('button', { name: /Tracking your order/ }).click();
    expect(helpModule).toHaveLength(1);
    await shopper.page.getByRole('button', { name: 'Talk to a person' }).click();
    await expect(shopper.message).toBeFocused();
    await shopper.say('my parcel is late, the link shows nothing');
    await expect(shopper.transcript).toContainText('Ada joined the chat');

    await ada.getByRole('button', { name: /my parcel is late/ }).click();
    await expect(ada.locator('.articles-read')).toContainText('Tracking your order (from the help view');
    await expect(ada.locator('.articles-read')).toContainText('still wanted a person');

    // The agent finds an article from the reply box and sends it as a card.
    await ada.getByLabel('Reply').fill('/a gift');
    await ada.getByRole('button', { name: /Gift cards/ }).click();
    await expect(ada.getByLabel('Reply')).toHaveValue(/^Gift cards\nhttp/);
    await ada.getByLabel('Reply').press('Enter');
    const card = shopper.transcript.getByRole('link', { name: /\/help\// });
    await expect(card).toBeVisible();
    await card.click();
    await expect(shopper.page.locator('.rp-article').getByRole('heading', { name: 'Gift cards' })).toBeVisible();
    expect(shopper.page.url()).toBe(setup.shopUrl + '/');
    await shopper.page.getByRole('button', { name: 'This answered my question' }).click();
    await expect(shopper.page.locator('.rp-article').getByRole('status')).toHaveText('Glad it helped!');
    // No conversation is left open for the tests after this one.
    await ada.getByRole('button', { name: 'Close conversation' }).click();
    await expect(shopper.transcript).toContainText('This chat has ended');
  } finally {
    await deleteArticles(ada);
  }
});
