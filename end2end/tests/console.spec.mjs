// Site owners in the console: a new site's snippet pasted into a fresh page
// lets a shopper chat (and does nothing on a stranger's page); look, words
// and language show on the next load; outside business hours a shopper
// leaves a message with their email and an agent finds it waiting.
// Screenshots of the console and of the widget in each language are kept
// as test artifacts.
import { test, expect } from '@playwright/test';
import { setup, newContext, signIn, goOnline, closeContexts } from './helpers.mjs';

test.afterEach(closeContexts);

// Two origins of the fixture shop server: the owner's shop, and a
// stranger's page that copied its snippet.
const shopOrigin = setup.shopUrl.replace('//localhost:', '//127.0.0.1:');
const strangerOrigin = setup.shopUrl;

/** A fresh page on `origin` holding `snippet`, as pasted by its owner. */
async function pageWithSnippet(browser, origin, snippet) {
  const page = await (await newContext(browser)).newPage();
  const problems = [];
  page.on('console', (message) => message.type() === 'error' && problems.push(message.text()));
  await page.goto(`${origin}/fresh?snippet=${encodeURIComponent(snippet)}`);
  return { page, problems };
}

/** A screenshot kept in the test's output folder (a CI artifact) and attached to the report. */
async function keep(testInfo, page, name, options = {}) {
  const path = testInfo.outputPath(`${name}.png`);
  await page.screenshot({ path, ...options });
  await testInfo.attach(name, { path, contentType: 'image/png' });
}

/** Saves a site's settings through the owner's own session. */
async function patchSite(owner, id, change) {
  const response = await owner.request.patch(`${setup.baseUrl}/api/admin/sites/${id}`, { data: change });
  expect(response.ok(), await response.text()).toBeTruthy();
}

test('an owner creates a site, its snippet works on their shop only, and their look, words and language show', async ({ browser }, testInfo) => {
  const owner = await signIn(browser, setup.email);
  await owner.getByRole('button', { name: 'Console' }).click();
  await owner.getByLabel('New site').fill('Bakery');
  await owner.getByRole('button', { name: 'Create site' }).click();
  const editor = owner.getByRole('form', { name: 'Site settings' });
  await expect(editor.getByRole('heading', { name: 'Bakery' })).toBeVisible();
  await expect(editor).toContainText('No origins listed');
  // Email: the delay (three minutes for a new site), where replies go, and the queue.
  const mail = editor.getByRole('group', { name: 'Email' });
  await expect(mail.getByLabel(/Email replies the shopper has not seen after/)).toHaveValue('3');
  await expect(mail).toContainText('reply+…@127.0.0.1');
  await expect(mail).toContainText('0 waiting, 0 sent, 0 given up.');
  await mail.getByLabel(/Email replies the shopper has not seen after/).fill('5');
  // Drafts are private unless the owner says otherwise, and the console says why.
  const privacy = editor.getByRole('group', { name: 'Privacy' });
  const preview = privacy.getByLabel('Agents see what shoppers type before they send it');
  await expect(preview).not.toBeChecked();
  await expect(privacy).toContainText('Off by default: shoppers do not expect their unsent words to be read.');
  await preview.check();
  await editor.getByLabel(/Allowed origins/).fill(shopOrigin);
  await editor.getByLabel('Show agents as').selectOption('avatar');
  await editor.getByRole('button', { name: 'Save' }).click();
  await expect(editor.getByRole('status').filter({ hasText: 'Saved' })).toBeVisible();
  await expect(editor).not.toContainText('No origins listed');
  await owner.reload();
  await owner.getByRole('button', { name: 'Console' }).click();
  await owner.getByRole('button', { name: 'Bakery' }).click();
  await expect(editor.getByLabel(/Email replies the shopper has not seen after/)).toHaveValue('5');
  await expect(editor.getByLabel('Agents see what shoppers type before they send it')).toBeChecked();

  // The snippet, as copied from the console, into a fresh page of the shop.
  const snippet = await editor.getByLabel('Embed snippet').inputValue();
  expect(snippet).toMatch(/^<script async src="http:\/\/127\.0\.0\.1:\d+\/widget\.js" data-site="[^"]+"><\/script>$/);
  await expect(editor.locator('.installed')).toContainText('Not installed yet');
  const { page: shop } = await pageWithSnippet(browser, shopOrigin, snippet);
  await shop.getByRole('button', { name: 'Chat' }).click();
  const message = shop.getByRole('textbox', { name: 'Message' });
  await message.fill('Is the rye bread vegan?');
  await message.press('Enter');
  await owner.getByRole('button', { name: 'Inbox' }).click();
  await goOnline(owner);
  await expect(shop.locator('.rp-log')).toContainText('Ada joined the chat');
  // Her picture (initials here: she has none) beside her name.
  const avatar = shop.locator('.rp-avatar');
  await expect(avatar).toBeVisible();
  await expect.poll(() => avatar.evaluate((img) => img.naturalWidth)).toBeGreaterThan(0);
  await owner.getByRole('button', { name: /Is the rye bread vegan\?/ }).click();
  // This site shows agents the draft as the shopper types it.
  await message.pressSequentially('And the spelt');
  await expect(owner.locator('.typing .draft')).toHaveText('And the spelt');
  await owner.getByRole('button', { name: 'Close conversation' }).click();
  await expect(shop.locator('.rp-log')).toContainText('This chat has ended');

  // The same snippet on a stranger's page does nothing, and says why.
  const { page: stranger, problems } = await pageWithSnippet(browser, strangerOrigin, snippet);
  await expect.poll(() => problems.join('\n')).toContain(`not allowed on ${strangerOrigin}`);
  await expect(stranger.getByRole('button', { name: 'Chat' })).toHaveCount(0);

  // Back in the console: installed, and where; a new look previewed, saved, shown.
  await owner.getByRole('button', { name: 'Console' }).click();
  await expect(editor.locator('.installed')).toContainText(`${shopOrigin}/fresh`);
  await editor.locator('input[name=accent]').fill('#aa3300');
  await editor.getByLabel('Greeting', { exact: true }).fill('Fresh bread daily! Ask the baker anything.');
  await editor.getByLabel('Launcher label').fill('Ask the baker');
  await expect(editor.locator('.preview')).toContainText('Fresh bread daily!');
  await expect(editor.locator('.preview')).toContainText('Ask the baker');
  await editor.getByRole('button', { name: 'Save' }).click();
  await expect(editor.getByRole('status').filter({ hasText: 'Saved' })).toBeVisible();
  await keep(testInfo, owner, 'console', { fullPage: true });

  await shop.reload();
  const launcher = shop.getByRole('button', { name: 'Ask the baker' });
  await expect(launcher).toHaveCSS('background-color', 'rgb(170, 51, 0)');
  await launcher.click();
  await expect(shop.locator('.rp-greeting')).toHaveText('Fresh bread daily! Ask the baker anything.');

  // The widget in each language, fixed by the owner; the Dutch one in Dutch.
  const siteId = (await (await owner.request.get(`${setup.baseUrl}/api/admin/sites`)).json())
    .find((site) => site.name === 'Bakery').id;
  const words = {
    en: { send: 'Send', message: 'Message', again: 'Start a new conversation' },
    nl: { send: 'Versturen', message: 'Bericht', again: 'Begin een nieuw gesprek' },
    ru: { send: 'Отправить', message: 'Сообщение', again: 'Начать новый разговор' },
    bn: { send: 'পাঠান', message: 'বার্তা', again: 'নতুন কথোপকথন শুরু করুন' },
  };
  for (const [language, expected] of Object.entries(words)) {
    await patchSite(owner, siteId, { settings: { accent: '#aa3300', language } });
    await shop.reload();
    await shop.locator('[data-rapport]').getByRole('button').click();
    // The chat above ended: the shopper starts another, in their words.
    await shop.getByRole('button', { name: expected.again }).click();
    await expect(shop.getByRole('button', { name: expected.send })).toBeVisible();
    await expect(shop.getByRole('textbox', { name: expected.message })).toBeVisible();
    await keep(testInfo, shop, `widget-${language}`);
  }
  await expect(shop.getByRole('dialog', { name: 'চ্যাট' })).toBeVisible();

  const deleted = await owner.request.delete(`${setup.baseUrl}/api/admin/sites/${siteId}`);
  expect(deleted.status()).toBe(204);
});

test('outside business hours a shopper leaves a message with their email, and an agent finds it', async ({ browser }) => {
  const owner = await signIn(browser, setup.email);
  const created = await owner.request.post(`${setup.baseUrl}/api/admin/sites`, {
    data: { name: 'Night shop', allowed_origins: [shopOrigin] },
  });
  const site = await created.json();
  // No opening hours at all: always away.
  await patchSite(owner, site.id, {
    settings: { accent: '#2563eb', away_message: 'The bakers are asleep.', hours: { time_zone: 'Europe/Amsterdam', weekly: [] } },
  });

  const { page: shop } = await pageWithSnippet(browser, shopOrigin, site.snippet);
  await shop.getByRole('button', { name: 'Chat' }).click();
  await expect(shop.locator('.rp-away')).toContainText('The bakers are asleep.');
  const email = shop.getByRole('textbox', { name: 'Your email, so we can answer' });
  await expect(email).toBeVisible();
  const message = shop.getByRole('textbox', { name: 'Message' });
  await message.fill('Can I order a cake for Saturday?');
  await message.press('Enter');
  await expect(shop.locator('.rp-notice')).toContainText('Your email');
  await email.fill('night.owl@customers.test');
  await shop.getByRole('button', { name: 'Leave a message' }).click();
  await expect(shop.locator('.rp-notice')).toContainText('We will answer by email');
  await expect(email).toBeHidden();

  // The agent, signing in the next morning, finds it waiting with the note and the email.
  const conversation = owner.getByRole('button', { name: /Can I order a cake for Saturday\?/ });
  await expect(conversation).toBeVisible();
  await conversation.click();
  await expect(owner.locator('.events .note')).toContainText('Left outside business hours');
  await expect(owner.getByRole('complementary', { name: 'Customer' })).toContainText('night.owl@customers.test');

  // Coming back, the shopper is not asked for their email again.
  await shop.reload();
  await shop.getByRole('button', { name: 'Chat' }).click();
  await expect(shop.locator('.rp-log')).toContainText('Can I order a cake for Saturday?');
  await expect(shop.getByRole('textbox', { name: 'Your email, so we can answer' })).toBeHidden();

  const deleted = await owner.request.delete(`${setup.baseUrl}/api/admin/sites/${site.id}`);
  expect(deleted.status()).toBe(204);
});

test('an agent the owner deactivates is signed out of their open inbox at once', async ({ browser }) => {
  const owner = await signIn(browser, setup.email);
  const cy = await signIn(browser, setup.oneAtATime);
  await owner.getByRole('button', { name: 'Console' }).click();
  const active = owner.getByLabel('Cy is active');
  await active.uncheck();
  await expect(cy.getByRole('button', { name: 'Sign in' })).toBeVisible();
  await expect(owner.locator('.people-table tr.inactive')).toContainText('Cy');
  // Back for the next tests: Cy is needed there.
  await owner.getByLabel('Cy is active').check();
  await expect(owner.locator('.people-table tr.inactive')).toHaveCount(0);
});
