// A logged-in customer: the shop identifies them with a token its backend
// signed; the widget greets them by name, the agent sees who they are and
// their earlier conversation, another device shows the same conversation,
// and after a logout the next person on that browser sees nothing of them.
import { test, expect } from '@playwright/test';
import { setup, signIn, openShop, goOnline, closeContexts, signIdentity, newContext } from './helpers.mjs';

test.afterEach(closeContexts);

test('a known customer is greeted, recognised, followed across devices and forgotten on logout', async ({ browser, request }) => {
  // Ada's canned reply, with placeholders the customer's profile fills.
  await request.post(setup.baseUrl + '/api/auth/login', { data: { email: setup.email, password: setup.password } });
  const reply = await request.post(setup.baseUrl + '/api/replies', {
    data: { shortcut: 'order', body: 'Hi {first_name}, order {last_order} left our warehouse today.' },
  });
  expect(reply.status()).toBe(201);
  const ada = await signIn(browser, setup.email);
  await goOnline(ada);
  const customer = {
    sub: 'cust-e2e', name: 'Grace Hopper', email: 'grace@customers.test',
    attributes: { tier: 'gold', last_order: '#1042' },
  };

  const laptop = await openShop(browser, '/account?token=' + signIdentity(customer));
  await expect(laptop.transcript).toContainText('Hi Grace!');
  await laptop.page.evaluate(() => window.Rapport('track', 'added to cart', { sku: 'A1', price: 59 }));
  await laptop.say('Where is my order?');
  await expect(laptop.transcript).toContainText('Ada joined the chat');
  await ada.getByRole('button', { name: /Where is my order\?/ }).click();
  const profile = ada.getByRole('complementary', { name: 'Customer' });
  await expect(profile).toContainText('Grace Hopper');
  await expect(profile).toContainText('verified');
  await expect(profile).toContainText('#1042');
  await expect(profile).toContainText('added to cart');
  await expect(profile).toContainText('"sku":"A1"');
  // The page they are on, as the widget told it, and their own clock.
  await expect(profile.locator('.pages')).toContainText('Hostile shop');
  await expect(profile).toContainText('Local time:');
  // Grace writes again while the panel's reload is slow (held back here):
  // the panel keeps showing her meanwhile, it is not emptied.
  await ada.route('**/api/conversations/*/profile', async (route) => {
    await new Promise((resolve) => setTimeout(resolve, 3000));
    // Unrouted meanwhile: the request has already gone on by itself.
    await route.continue().catch(() => {});
  });
  await laptop.say('It was a gift');
  await expect(ada.locator('.events')).toContainText('It was a gift');
  await expect(profile).toContainText('Grace Hopper', { timeout: 1000 });
  // The agent types the shortcut; the reply comes filled in for Grace.
  const replyBox = ada.getByRole('textbox', { name: 'Reply' });
  await replyBox.fill('/ord');
  await expect(ada.getByRole('button', { name: /\/order/ })).toBeVisible();
  await replyBox.press('Tab');
  await expect(replyBox).toHaveValue('Hi Grace, order #1042 left our warehouse today.');
  await ada.unroute('**/api/conversations/*/profile');
  await replyBox.press('Enter');
  await expect(laptop.transcript).toContainText('Hi Grace, order #1042 left our warehouse today.');
  await ada.getByRole('button', { name: 'Close conversation' }).click();
  await expect(laptop.transcript).toContainText('This chat has ended');

  // Back with another question within the site's reopen window: the same
  // conversation opens again, its earlier part on the agent's screen.
  await laptop.page.getByRole('button', { name: 'Start a new conversation' }).click();
  await laptop.say('One more thing');
  await ada.getByRole('button', { name: /One more thing/ }).click();
  await expect(ada.locator('.events')).toContainText('Hi Grace, order #1042 left our warehouse today.');
  await expect(ada.locator('.events')).toContainText('Reopened: the customer wrote again');
  await expect(profile).toContainText('Conversations (1)');

  // The phone: the shop identifies the same customer there.
  const phone = await openShop(browser, '/account?token=' + signIdentity(customer));
  await expect(phone.transcript).toContainText('One more thing');
  await expect(phone.transcript).toContainText('Hi Grace!');
  // Done: no open chat is left for the next test's agents.
  await ada.getByRole('button', { name: 'Close conversation' }).click();
  await expect(phone.transcript).toContainText('This chat has ended');

  // Logging out on the phone: the next person there sees nothing of Grace.
  await phone.page.evaluate(() => window.Rapport('logout'));
  await expect(phone.transcript).not.toContainText('One more thing');
  await phone.page.goto(setup.shopUrl + '/');
  await phone.page.getByRole('button', { name: 'Chat' }).click();
  await expect(phone.page.getByRole('textbox', { name: 'Message' })).toBeEditable();
  await expect(phone.transcript).not.toContainText('One more thing');
  await expect(phone.transcript).not.toContainText('Grace');
});

test('a name the page only states is shown as unverified and fills no canned reply', async ({ browser, request }) => {
  await request.post(setup.baseUrl + '/api/auth/login', { data: { email: setup.email, password: setup.password } });
  const reply = await request.post(setup.baseUrl + '/api/replies', {
    data: { shortcut: 'greet', body: 'Hi {first_name}, how can I help?' },
  });
  expect(reply.status()).toBe(201);
  const ada = await signIn(browser, setup.email);
  await goOnline(ada);

  // Anyone's page can state any name, unsigned: the protocol as a script
  // on the shop's page would speak it.
  const page = await (await newContext(browser)).newPage();
  await page.goto(setup.shopUrl + '/');
  await page.evaluate(async ({ base, key }) => {
    const ws = new WebSocket(base.replace('http', 'ws') + '/ws/widget?site=' + key);
    const next = (type) => new Promise((resolve) => {
      const on = (e) => {
        const frame = JSON.parse(e.data);
        if (frame.type === type) { ws.removeEventListener('message', on); resolve(frame); }
      };
      ws.addEventListener('message', on);
    });
    await new Promise((resolve) => ws.addEventListener('open', resolve));
    ws.send(JSON.stringify({ type: 'hello' }));
    await next('welcome');
    ws.send(JSON.stringify({ type: 'identify', details: { name: 'Grace Stated' } }));
    ws.send(JSON.stringify({ type: 'send', client_id: 'm1', body: 'Refund my last order' }));
    await next('ack');
    window.keepOpen = ws;
  }, { base: setup.baseUrl, key: setup.siteKey });

  await ada.getByRole('button', { name: /Refund my last order/ }).click();
  const profile = ada.getByRole('complementary', { name: 'Customer' });
  await expect(profile.locator('h2')).toContainText('Grace Stated');
  await expect(profile.locator('h2 .badge')).toHaveText('unverified');
  const replyBox = ada.getByRole('textbox', { name: 'Reply' });
  await replyBox.fill('/greet');
  await expect(ada.getByRole('button', { name: /\/greet/ })).toBeVisible();
  await replyBox.press('Tab');
  await expect(replyBox).toHaveValue('Hi {first_name}, how can I help?');
  await replyBox.fill('');
  await ada.getByRole('button', { name: 'Close conversation' }).click();
});
