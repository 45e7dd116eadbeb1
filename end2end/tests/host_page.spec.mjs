// The widget is a guest on a stranger's page: until the shopper acts, the
// loader fetches no WASM unless the page is idle, and adds no long task
// (over 50 ms) to the page's main thread, not even while warming up.
import { test, expect } from '@playwright/test';
import { setup, newContext, closeContexts } from './helpers.mjs';

test.afterEach(closeContexts);

/** Requests the widget may make until the shopper can type. */
const REQUEST_BUDGET = 4;

/** The module of the parts few shoppers need, loaded on first use. */
const isExtras = (url) => /\/assets\/extras-[0-9a-f]+\.js$/.test(url);
const isLazyModule = (url) => /\/assets\/(files|help)-[0-9a-f]+\.js$/.test(url);

test('the loader adds no long task and fetches no WASM before interaction or idle', async ({ browser }) => {
  const page = await (await newContext(browser)).newPage();
  await page.addInitScript(() => {
    window.__longTasks = [];
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        window.__longTasks.push({ start: Math.round(entry.startTime), duration: Math.round(entry.duration) });
      }
    }).observe({ type: 'longtask', buffered: true });
    // Hold idle callbacks: this page is never idle until the test says so.
    window.__idle = [];
    window.requestIdleCallback = (callback) => window.__idle.push(callback);
  });
  const fromServer = [];
  page.on('request', (request) => {
    if (request.url().startsWith(setup.baseUrl)) fromServer.push(request.url());
  });

  await page.goto(setup.shopUrl + '/');
  await expect(page.getByRole('button', { name: 'Chat' })).toBeVisible();
  await page.waitForTimeout(2500);
  expect(fromServer.filter((url) => /\.(wasm|js)$/.test(url) && !url.endsWith('/widget.js')),
    'no chat code before interaction or idle').toEqual([]);
  const afterLoad = await page.evaluate(() => performance.now());

  // Now the page is idle: the loader warms the chat up.
  const wasm = page.waitForResponse((response) => response.url().endsWith('.wasm'));
  await page.evaluate(() => window.__idle.splice(0).forEach((callback) => callback({ didTimeout: false, timeRemaining: () => 50 })));
  await wasm;
  await page.waitForTimeout(1500);
  const longTasks = await page.evaluate((since) => window.__longTasks.filter((task) => task.start >= since), afterLoad);
  expect(longTasks, 'long tasks while the loader warmed up').toEqual([]);

  // The shopper acts: what it took until they can type. This site offers
  // topics, so the extras module (which draws them) comes too, beside the
  // core: the shopper can type without it.
  await page.getByRole('button', { name: 'Chat' }).click();
  await expect(page.getByRole('textbox', { name: 'Message' })).toBeEditable();
  await expect(page.getByRole('group', { name: 'What is it about?' })).toBeVisible();
  expect(fromServer.filter(isExtras), 'the extras, once, for the topics').toHaveLength(1);
  const fetched = fromServer.filter((url) => !url.startsWith(setup.baseUrl.replace('http', 'ws')) && !isExtras(url));
  test.info().annotations.push({ type: 'requests until the shopper can type', description: fetched.join(' ') });
  console.log(`requests until the shopper can type: ${fetched.length}: ${fetched.join(', ')}`);
  expect(fetched.length).toBeLessThanOrEqual(REQUEST_BUDGET);
});

test('what few shoppers need is not fetched for a shopper who needs none of it', async ({ browser }) => {
  const page = await (await newContext(browser)).newPage();
  const fromServer = [];
  page.on('request', (request) => {
    if (request.url().startsWith(setup.baseUrl)) fromServer.push(request.url());
  });
  // The page says the topic: no picker. A new shopper, no conversation yet:
  // no transcript button, nothing to ask. The core alone draws the chat.
  await page.goto(setup.shopUrl + '/billing');
  await page.getByRole('button', { name: 'Chat' }).click();
  const message = page.getByRole('textbox', { name: 'Message' });
  await expect(message).toBeEditable();
  await page.waitForTimeout(1000);
  expect(fromServer.filter(isExtras), 'no extras before they are needed').toEqual([]);
  expect(fromServer.filter(isLazyModule), 'no files or help module either').toEqual([]);
  await expect(page.getByRole('group', { name: 'What is it about?' })).toHaveCount(0);

  // (The first test sees them come when the topics are shown. No message
  // is sent here: a conversation left in Billing's line would meet the
  // next test's agents.)
});
