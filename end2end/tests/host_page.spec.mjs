// The widget is a guest on a stranger's page: until the shopper acts, the
// loader fetches no WASM unless the page is idle, and adds no long task
// (over 50 ms) to the page's main thread, not even while warming up.
import { test, expect } from '@playwright/test';
import { setup, newContext, closeContexts } from './helpers.mjs';

test.afterEach(closeContexts);

/** Requests the widget may make until the shopper can type. */
const REQUEST_BUDGET = 4;

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

  // The shopper acts: what it took until they can type.
  await page.getByRole('button', { name: 'Chat' }).click();
  await expect(page.getByRole('textbox', { name: 'Message' })).toBeEditable();
  const fetched = fromServer.filter((url) => !url.startsWith(setup.baseUrl.replace('http', 'ws')));
  test.info().annotations.push({ type: 'requests until the shopper can type', description: fetched.join(' ') });
  console.log(`requests until the shopper can type: ${fetched.length}: ${fetched.join(', ')}`);
  expect(fetched.length).toBeLessThanOrEqual(REQUEST_BUDGET);
});
