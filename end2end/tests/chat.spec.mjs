// A shopper on a hostile shop page chats with an agent in the inbox, live
// both ways, and finds the conversation again after a reload.
import { test, expect } from '@playwright/test';
import { setup, newContext, signIn, goOnline, closeContexts } from './helpers.mjs';

test.afterEach(closeContexts);

/** Boxes and computed styles of the shop's own elements. */
function pageFacts(page) {
  return page.evaluate(() =>
    ['header', 'main', 'h1', '#price', '.rp-line', '.rp-panel', '.cookie-banner'].map((selector) => {
      const el = document.querySelector(selector);
      const box = el.getBoundingClientRect();
      const style = getComputedStyle(el);
      return {
        selector, x: box.x, y: box.y, width: box.width, height: box.height,
        color: style.color, background: style.backgroundColor, font: style.fontFamily, display: style.display,
      };
    }),
  );
}

test('a shopper and an agent chat live, and the chat survives a reload', async ({ browser }) => {
  // The page as it is without Rapport, to compare with later.
  const plain = await newContext(browser);
  const plainPage = await plain.newPage();
  await plainPage.route('**/widget.js', (route) => route.abort());
  await plainPage.goto(setup.shopUrl);
  const withoutWidget = await pageFacts(plainPage);

  const shopper = await (await newContext(browser)).newPage();
  await shopper.goto(setup.shopUrl);
  const launcher = shopper.getByRole('button', { name: 'Chat' });
  await expect(launcher).toBeVisible();
  // The page's CSS (button display:none, opacity, transform, red text) does not reach it.
  await expect(launcher).toHaveCSS('background-color', 'rgb(37, 99, 235)');
  await expect(launcher).toHaveCSS('display', 'flex');
  // Clickable through the page's banner at the highest z-index.
  await launcher.click();

  const message = shopper.getByRole('textbox', { name: 'Message' });
  await expect(message).toBeFocused();
  await message.fill('Do you ship to Utrecht?');
  await message.press('Enter');
  const transcript = shopper.locator('.rp-log');
  await expect(transcript).toContainText('Do you ship to Utrecht?');
  // Nobody is online yet, and the widget says so rather than promising a wait.
  const waiting = shopper.getByRole('status');
  await expect(waiting).toContainText('No agent is online right now');

  const inbox = await signIn(browser, setup.email);
  const conversation = inbox.getByRole('button', { name: /Do you ship to Utrecht\?/ });
  await expect(conversation).toBeVisible();
  await expect(inbox.getByRole('heading', { name: /Waiting \(1\)/ })).toBeVisible();

  await goOnline(inbox);
  await expect(inbox.getByRole('heading', { name: /Mine \(1\)/ })).toBeVisible();
  await expect(transcript).toContainText('Ada joined the chat');
  await expect(waiting).toBeHidden();

  await conversation.click();
  const events = inbox.locator('.events');
  await expect(events).toContainText('Do you ship to Utrecht?');
  const reply = inbox.getByLabel('Reply');
  await reply.fill('Yes, within two days.');
  await reply.press('Enter');
  await expect(transcript).toContainText('Yes, within two days.');

  await message.fill('Great, thanks!');
  await message.press('Enter');
  await expect(events).toContainText('Great, thanks!');

  // The widget changed nothing of the page's own layout or styles.
  expect(await pageFacts(shopper)).toEqual(withoutWidget);

  await shopper.reload();
  await shopper.getByRole('button', { name: 'Chat' }).click();
  for (const line of ['Do you ship to Utrecht?', 'Ada joined the chat', 'Yes, within two days.', 'Great, thanks!']) {
    await expect(transcript).toContainText(line);
  }
  await shopper.screenshot({ path: 'test-results/shopper-after-reload.png' });
  await inbox.screenshot({ path: 'test-results/inbox.png' });

  // Done: the agent closes the chat and the shopper is told.
  await inbox.getByRole('button', { name: 'Close conversation' }).click();
  await expect(transcript).toContainText('This chat has ended');
});

test('the widget reconnects by itself and delivers what was typed meanwhile', async ({ browser }) => {
  const shopperContext = await newContext(browser);
  // Keep a handle on the page's WebSockets so the test can cut one.
  await shopperContext.addInitScript(() => {
    const Native = window.WebSocket;
    window.__sockets = [];
    window.WebSocket = function (url, protocols) {
      const socket = new Native(url, protocols);
      window.__sockets.push(socket);
      return socket;
    };
    window.WebSocket.prototype = Native.prototype;
    Object.assign(window.WebSocket, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
  });
  const shopper = await shopperContext.newPage();
  await shopper.goto(setup.shopUrl);
  await shopper.getByRole('button', { name: 'Chat' }).click();
  const message = shopper.getByRole('textbox', { name: 'Message' });
  const transcript = shopper.locator('.rp-log');
  await message.fill('First line before the drop');
  await message.press('Enter');
  await expect(transcript).toContainText('First line before the drop');

  const inbox = await signIn(browser, setup.email);
  await goOnline(inbox);
  await inbox.getByRole('button', { name: /First line before the drop/ }).click();
  const events = inbox.locator('.events');
  await expect(events).toContainText('First line before the drop');

  // The network drops the shopper's socket; the shopper keeps typing.
  const socketsBefore = await shopper.evaluate(() => window.__sockets.length);
  await shopper.evaluate(() => window.__sockets.at(-1).close());
  await message.fill('Typed while the connection was down');
  await message.press('Enter');
  await expect.poll(() => shopper.evaluate(() => window.__sockets.length)).toBeGreaterThan(socketsBefore);

  await expect(events).toContainText('Typed while the connection was down');
  const reply = inbox.getByLabel('Reply');
  await reply.fill('Still here after your reconnect.');
  await reply.press('Enter');
  await expect(transcript).toContainText('Still here after your reconnect.');
  await expect(transcript.getByText('Typed while the connection was down')).toHaveCount(1);

  await inbox.getByRole('button', { name: 'Close conversation' }).click();
  await expect(transcript).toContainText('This chat has ended');
});
