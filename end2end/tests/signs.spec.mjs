// Signs of life: typing, "Seen", unread counts on the launcher and in the
// title, the page's listeners, times in the reader's zone, and desktop
// alerts for the agent who should act, only them.
import { test, expect } from '@playwright/test';
import { setup, newContext, signIn, goOnline, closeContexts } from './helpers.mjs';

test.afterEach(closeContexts);

/** "14:02" for `date` on a clock in `timeZone`, as `locale` writes it. */
function clock(date, timeZone, locale = 'en-GB') {
  return new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit', timeZone }).format(date);
}

/** The clock times a moment between `from` and now may show. */
function clocksSince(from, timeZone, locale) {
  const times = new Set();
  for (let at = from.getTime(); at <= Date.now() + 60_000; at += 30_000) {
    times.add(clock(new Date(at), timeZone, locale));
  }
  return [...times];
}

/** Makes the page's tab look hidden (another tab in front), or visible again. */
async function setHidden(page, hidden) {
  await page.evaluate((hidden) => {
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => hidden });
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (hidden ? 'hidden' : 'visible') });
    document.hasFocus = () => !hidden;
    document.dispatchEvent(new Event('visibilitychange'));
    window.dispatchEvent(new Event(hidden ? 'blur' : 'focus'));
  }, hidden);
}

/** A shop page whose own script listens to the widget from the start. */
async function listeningShop(browser, options = {}) {
  const context = await newContext(browser);
  await context.addInitScript(() => {
    window.heard = [];
    window.Rapport = window.Rapport || function () { (Rapport.q = Rapport.q || []).push(arguments); };
    for (const name of ['ready', 'open', 'close', 'unread', 'message']) {
      Rapport('on', name, (value) => window.heard.push([name, value ?? null]));
    }
  });
  const page = await context.newPage(options);
  await page.goto(setup.shopUrl);
  return page;
}

async function heard(page, name) {
  return page.evaluate((name) => window.heard.filter(([n]) => n === name).map(([, v]) => v), name);
}

test('the agent types and the shopper sees it, then the reply; the agent sees "Seen"; times are on each reader\'s clock', async ({ browser }) => {
  const inbox = await (await newContext(browser, { timezoneId: 'America/New_York', locale: 'en-GB' })).newPage();
  await inbox.goto(setup.baseUrl + '/app');
  await inbox.getByLabel('Email').fill(setup.email);
  await inbox.getByLabel('Password').fill(setup.password);
  await inbox.getByRole('button', { name: 'Sign in' }).click();
  await goOnline(inbox);

  {
    const shopper = await (await newContext(browser, { timezoneId: 'Asia/Kolkata', locale: 'en-GB' })).newPage();
    await shopper.goto(setup.shopUrl);
    await shopper.getByRole('button', { name: 'Chat' }).click();
    const sentAt = new Date();
    const message = shopper.getByRole('textbox', { name: 'Message' });
    // Unique, so a conversation left over by an earlier run is not this one.
    const question = `Is the linen shirt in stock? (${Date.now().toString(36)})`;
    await message.fill(question);
    await message.press('Enter');
    const transcript = shopper.locator('.rp-log');
    await expect(transcript).toContainText('Ada joined the chat');

    // The shopper's message carries its time on the shopper's clock, under
    // the day it was sent.
    const mine = transcript.locator('.rp-me', { hasText: question });
    const shopperTimes = clocksSince(sentAt, 'Asia/Kolkata');
    await expect(mine.locator('small')).toHaveText(new RegExp(`^(${shopperTimes.join('|')})`));
    await expect(transcript.locator('.rp-day').first()).toHaveText('Today');

    // The inbox names the shopper by their number and where they are, and
    // tells their time.
    const conversation = inbox.getByRole('button', { name: question });
    await expect(conversation).toContainText(/Visitor \d+ · on \//);
    await expect(conversation).toContainText(new RegExp(`(${shopperTimes.join('|')}) their time`));
    await conversation.click();
    const events = inbox.locator('.events');
    // The agent reads it on their own clock.
    const agentTimes = clocksSince(sentAt, 'America/New_York');
    await expect(events.locator('.line', { hasText: question }).locator('.at'))
      .toHaveText(new RegExp(`^(${agentTimes.join('|')})$`));

    // The shopper types: the agent sees someone typing, not the draft (the
    // site has not turned previews on).
    await message.pressSequentially('And in bl');
    await expect(inbox.locator('.typing')).toHaveText('The shopper is typing…');
    await expect(inbox.locator('.typing .draft')).toHaveCount(0);

    // The agent types a reply: the shopper sees who is typing...
    const reply = inbox.getByLabel('Reply');
    await reply.pressSequentially('Yes, in all sizes');
    const typing = shopper.locator('.rp-typing');
    await expect(typing).toHaveText('Ada is typing…');
    await expect(typing).toBeVisible();
    // ...then the reply, which replaces the indicator.
    await reply.press('Enter');
    await expect(transcript).toContainText('Yes, in all sizes');
    await expect(typing).toBeHidden();

    // The shopper's panel is open on a visible page: the agent sees "Seen"
    // under the reply, and the shopper sees it under their own message once
    // the agent (focused on it) has read it.
    const answered = events.locator('.line', { hasText: 'Yes, in all sizes' });
    await expect(answered.locator('.seen')).toHaveText('Seen');
    await expect(mine.locator('small')).toContainText('Seen');
    await shopper.screenshot({ path: 'test-results/signs-shopper.png' });
    await inbox.screenshot({ path: 'test-results/signs-inbox.png' });

    // A note being typed never shows to the shopper (typed after the
    // inbox's own pause between typing signals, so it would be sent).
    await inbox.waitForTimeout(3100);
    await inbox.getByLabel('Private note').check();
    await reply.pressSequentially('Check the warehouse');
    await shopper.waitForTimeout(1500);
    await expect(typing).toBeHidden();
    await reply.fill('');
    await inbox.getByLabel('Private note').uncheck();

    await inbox.getByRole('button', { name: 'Close conversation' }).click();
    await expect(transcript).toContainText('This chat has ended');
  }
});

test('replies while the panel is closed show on the launcher, the page hears the counts, and a hidden tab\'s title flashes', async ({ browser }) => {
  const inbox = await signIn(browser, setup.email);
  await goOnline(inbox);

  const shopper = await listeningShop(browser);
  const launcher = shopper.getByRole('button', { name: 'Chat' });
  await expect(launcher).toBeVisible();
  expect(await heard(shopper, 'ready')).toEqual([null]);
  await launcher.click();
  expect(await heard(shopper, 'open')).toEqual([null]);
  const message = shopper.getByRole('textbox', { name: 'Message' });
  await message.fill('Where is my parcel?');
  await message.press('Enter');
  const transcript = shopper.locator('.rp-log');
  await expect(transcript).toContainText('Ada joined the chat');

  // The shopper closes the panel; two replies come in.
  await shopper.getByRole('button', { name: 'Close chat' }).click();
  expect(await heard(shopper, 'close')).toEqual([null]);
  await inbox.getByRole('button', { name: /Where is my parcel\?/ }).click();
  const reply = inbox.getByLabel('Reply');
  for (const text of ['It left our warehouse today.', 'It should arrive tomorrow.']) {
    await reply.fill(text);
    await reply.press('Enter');
    await expect(inbox.locator('.events')).toContainText(text);
  }
  const badge = shopper.locator('.rp-badge');
  await expect(badge).toHaveText('2');
  await expect(badge).toBeVisible();
  await expect.poll(() => heard(shopper, 'unread')).toEqual([0, 1, 2]);
  expect(await heard(shopper, 'message')).toEqual(['It left our warehouse today.', 'It should arrive tomorrow.']);

  // Still there after a reload: the count comes from the stored position.
  await shopper.reload();
  await expect(badge).toHaveText('2');
  await expect(badge).toBeVisible();

  // Opening the panel shows them: the count goes to 0, and stays so.
  await launcher.click();
  await expect(transcript).toContainText('It should arrive tomorrow.');
  await expect(badge).toBeHidden();
  await expect.poll(async () => (await heard(shopper, 'unread')).at(-1)).toBe(0);

  // The shopper switches to another tab with the panel open; a reply comes:
  // the title flashes, and the page's own title is back once they return.
  await setHidden(shopper, true);
  await reply.fill('Anything else?');
  await reply.press('Enter');
  await expect.poll(() => shopper.title(), { timeout: 5000 }).toBe('(1) New message');
  await expect.poll(() => shopper.title(), { timeout: 5000 }).toBe('Hostile shop');
  await expect(badge).toHaveText('1');
  await setHidden(shopper, false);
  await expect(badge).toBeHidden();
  await expect.poll(async () => (await heard(shopper, 'unread')).at(-1)).toBe(0);
  await shopper.waitForTimeout(1500);
  expect(await shopper.title()).toBe('Hostile shop');

  // The page can stop listening.
  await shopper.evaluate(() => {
    window.quiet = [];
    const listener = (n) => window.quiet.push(n);
    Rapport('on', 'message', listener);
    Rapport('off', 'message', listener);
  });
  await reply.fill('Have a nice day!');
  await reply.press('Enter');
  await expect(transcript).toContainText('Have a nice day!');
  expect(await shopper.evaluate(() => window.quiet)).toEqual([]);

  await inbox.getByRole('button', { name: 'Close conversation' }).click();
  await expect(transcript).toContainText('This chat has ended');
});

test('the agent a chat goes to is alerted while the inbox is in the background, and another agent is not', async ({ browser }) => {
  /** An agent's inbox that records its desktop notifications. */
  async function alertedInbox(email) {
    const context = await newContext(browser);
    await context.grantPermissions(['notifications'], { origin: setup.baseUrl });
    await context.addInitScript(() => {
      window.notes = [];
      const Native = window.Notification;
      window.Notification = class extends Native {
        constructor(title, options) {
          super(title, options);
          window.notes.push({ title, body: options?.body ?? '', tag: options?.tag ?? '', note: this });
        }
      };
    });
    const inbox = await context.newPage();
    await inbox.goto(setup.baseUrl + '/app');
    await inbox.getByLabel('Email').fill(email);
    await inbox.getByLabel('Password').fill(setup.password);
    await inbox.getByRole('button', { name: 'Sign in' }).click();
    await goOnline(inbox);
    await inbox.getByLabel('Desktop alerts').check();
    return inbox;
  }
  const notes = (inbox) => inbox.evaluate(() => window.notes.map(({ title, body, tag }) => ({ title, body, tag })));

  const ada = await alertedInbox(setup.email);
  const cy = await alertedInbox(setup.oneAtATime);
  // Both look at something else.
  await setHidden(ada, true);
  await setHidden(cy, true);

  // The billing page's chat goes to Cy, the Billing team.
  const shopper = await (await newContext(browser)).newPage();
  await shopper.goto(setup.shopUrl + '/billing');
  await shopper.getByRole('button', { name: 'Chat' }).click();
  const message = shopper.getByRole('textbox', { name: 'Message' });
  await message.fill('My invoice is wrong');
  await message.press('Enter');
  await expect(shopper.locator('.rp-log')).toContainText('Cy joined the chat');

  await expect.poll(() => notes(cy)).toHaveLength(1);
  const [first] = await notes(cy);
  expect(first.title).toMatch(/^New conversation: Visitor \d+ · on \/billing/);
  expect(first.body).toBe('My invoice is wrong');
  await expect(cy).toHaveTitle('(1) Rapport inbox');

  // A second message: one notification for the conversation, replaced.
  await message.fill('It charges me twice');
  await message.press('Enter');
  await expect.poll(() => notes(cy)).toHaveLength(2);
  const [, second] = await notes(cy);
  expect(second.body).toBe('It charges me twice');
  expect(second.tag).toBe(first.tag);
  await expect(cy).toHaveTitle('(2) Rapport inbox');

  // Ada was not offered the chat: nothing for her.
  await ada.waitForTimeout(1000);
  expect(await notes(ada)).toEqual([]);

  // Clicking the notification brings the inbox forward on that conversation.
  await setHidden(cy, false);
  await cy.evaluate(() => window.notes.at(-1).note.onclick());
  await expect(cy.locator('.events')).toContainText('It charges me twice');
  await expect(cy).toHaveTitle('Rapport inbox');
  await cy.getByRole('button', { name: 'Close conversation' }).click();
  await expect(shopper.locator('.rp-log')).toContainText('This chat has ended');
});
