// Files, links and the widget on a phone, as people use them: a shopper
// pastes a screenshot and the agent opens it; an agent sends a PDF and the
// shopper downloads it; a message's web address is a link and nothing else
// is; on a phone the widget takes the screen, does not zoom, keeps the
// message box above the keyboard and sends with the button.
import { test, expect } from '@playwright/test';
import { setup, signIn, openShop, goOnline, closeContexts, newContext } from './helpers.mjs';

test.afterEach(closeContexts);

/** The agent opens the conversation whose preview matches `text`. */
async function openConversation(ada, text) {
  await ada.getByRole('button', { name: text }).click();
}

/** The agent closes the open conversation: the tests share one server,
    and a chat left open would come back to the next test's agent. */
async function closeIt(ada) {
  await ada.getByRole('button', { name: 'Close conversation' }).click();
  await expect(ada.getByText('This conversation is closed')).toBeVisible();
}

test('a pasted screenshot reaches the agent as a picture that opens full size', async ({ browser }) => {
  const ada = await signIn(browser, setup.email);
  await goOnline(ada);
  const shopper = await openShop(browser);
  await shopper.say('The checkout shows an error');
  await expect(shopper.transcript).toContainText('Ada joined the chat');

  // A screenshot on the clipboard, pasted into the message box.
  await shopper.message.focus();
  await shopper.page.evaluate(async () => {
    const canvas = document.createElement('canvas');
    canvas.width = 120;
    canvas.height = 60;
    const g = canvas.getContext('2d');
    g.fillStyle = '#c00';
    g.fillRect(0, 0, 120, 60);
    const blob = await new Promise((done) => canvas.toBlob(done, 'image/png'));
    const data = new DataTransfer();
    data.items.add(new File([blob], 'image.png', { type: 'image/png' }));
    const box = document.querySelector('[data-rapport]').shadowRoot.querySelector('.rp-input');
    box.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, composed: true }));
  });
  const tray = shopper.page.locator('.rp-tray-file');
  await expect(tray).toContainText('image.png');
  await expect(tray.locator('progress')).toHaveCount(0);
  await shopper.message.press('Enter');
  const sent = shopper.transcript.locator('.rp-me .rp-file img');
  await expect(sent).toBeVisible();
  await expect(tray).toHaveCount(0);

  // The inbox's preview names the file sent last.
  await openConversation(ada, /image\.png/);
  const picture = ada.locator('.line.visitor .file.image img');
  await expect(picture).toBeVisible();
  await expect.poll(() => picture.evaluate((img) => img.naturalWidth)).toBe(120);
  const [full] = await Promise.all([
    ada.context().waitForEvent('page'),
    ada.locator('.line.visitor .file.image').click(),
  ]);
  const response = await full.waitForLoadState().then(() => full.request.get(full.url()));
  expect(response.headers()['content-type']).toBe('image/png');
  await closeIt(ada);
});

test('an agent sends a PDF and the shopper downloads it', async ({ browser }) => {
  const ada = await signIn(browser, setup.email);
  await goOnline(ada);
  const shopper = await openShop(browser);
  await shopper.say('Can I have my return label?');
  await expect(shopper.transcript).toContainText('Ada joined the chat');
  await openConversation(ada, /Can I have my return label\?/);

  const pdf = Buffer.from('%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n');
  await ada.locator('.reply input[type=file]').setInputFiles({ name: 'return label.pdf', mimeType: 'application/pdf', buffer: pdf });
  await expect(ada.locator('.tray-file .size')).toBeVisible();
  await ada.getByLabel('Reply').fill('Here is your label');
  await ada.getByLabel('Reply').press('Enter');

  const link = shopper.transcript.locator('.rp-agent .rp-file');
  await expect(link).toContainText('return label.pdf');
  const href = await link.getAttribute('href');
  expect(href).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/files\/[0-9a-f-]+\?e=\d+&s=/);
  const download = await shopper.page.request.get(href);
  expect(download.status()).toBe(200);
  expect(download.headers()['content-type']).toBe('application/pdf');
  expect(download.headers()['content-disposition']).toMatch(/^attachment;/);
  expect(Buffer.compare(await download.body(), pdf)).toBe(0);
  await closeIt(ada);
});

test('a web address in a message is a link, and nothing else is', async ({ browser }) => {
  const ada = await signIn(browser, setup.email);
  await goOnline(ada);
  const shopper = await openShop(browser);
  await shopper.say('Where are the return rules? <b>bold</b>');
  await expect(shopper.transcript).toContainText('Ada joined the chat');
  await openConversation(ada, /Where are the return rules\?/);
  await ada.getByLabel('Reply').fill('See https://shop.example/returns. Not javascript:alert(1) nor <img src=x onerror=alert(2)>');
  await ada.getByLabel('Reply').press('Enter');

  const reply = shopper.transcript.locator('.rp-agent').last();
  await expect(reply).toContainText('javascript:alert(1) nor <img src=x onerror=alert(2)>');
  const links = reply.locator('a');
  await expect(links).toHaveCount(1);
  await expect(links).toHaveAttribute('href', 'https://shop.example/returns');
  await expect(links).toHaveAttribute('target', '_blank');
  await expect(links).toHaveAttribute('rel', 'noopener noreferrer nofollow');
  await expect(reply.locator('img')).toHaveCount(0);
  // The shopper's markup is text on both sides.
  await expect(shopper.transcript.locator('b')).toHaveCount(0);
  await expect(ada.locator('.events b')).toHaveCount(0);
  await expect(ada.locator('.events .line.me a')).toHaveCount(1);
  await closeIt(ada);
});

test('on a phone the chat takes the screen, does not zoom, stays above the keyboard and sends with the button', async ({ browser }) => {
  const ada = await signIn(browser, setup.email);
  await goOnline(ada);
  const phone = await (await newContext(browser, {
    viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 3,
  })).newPage();
  await phone.goto(setup.shopUrl + '/');
  const launcher = phone.getByRole('button', { name: 'Chat' });
  // The label folds away on a phone: the button is its icon (and still named).
  expect((await launcher.boundingBox()).width).toBeLessThan(80);
  await launcher.click();
  const box = phone.getByRole('textbox', { name: 'Message' });
  await expect(box).toBeVisible();
  const frame = phone.locator('.rp-frame');
  expect((await frame.boundingBox()).width).toBe(390);
  // 16 px at least: iPhone Safari zooms into smaller text boxes.
  expect(parseFloat(await box.evaluate((e) => getComputedStyle(e).fontSize))).toBeGreaterThanOrEqual(16);
  // The page under the chat does not scroll.
  expect(await phone.evaluate(() => document.documentElement.style.overflow)).toBe('hidden');

  // Enter makes a new line; the button sends.
  await box.fill('First line');
  await box.press('Enter');
  await box.type('second line');
  await expect(box).toHaveValue('First line\nsecond line');
  const transcript = phone.locator('.rp-log');
  await expect(transcript).not.toContainText('second line');

  // The keyboard takes the lower part of the screen: the panel ends
  // where it begins, the message box and the button in sight.
  await phone.setViewportSize({ width: 390, height: 480 });
  await expect.poll(async () => (await frame.boundingBox()).height).toBe(480);
  const send = phone.getByRole('button', { name: 'Send' });
  expect((await send.boundingBox()).y + (await send.boundingBox()).height).toBeLessThanOrEqual(480);
  await send.tap();
  await expect(transcript).toContainText('second line');
  await expect(transcript).toContainText('Ada joined the chat');

  // Closed: the page scrolls again.
  await phone.getByRole('button', { name: 'Close chat' }).tap();
  expect(await phone.evaluate(() => document.documentElement.style.overflow)).toBe('');
  await openConversation(ada, /second line/);
  await closeIt(ada);
});
