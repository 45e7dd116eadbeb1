// Words and controls that say what they mean: the widget's header says
// whether someone can answer, a closed chat looks closed on both sides,
// shoppers are told apart and named, times read in the agent's language,
// alert switches show what the browser allows, buttons look like what they
// do, and pages the site does not allow are still refused.
import { test, expect } from '@playwright/test';
import { setup, signIn, openShop, goOnline, closeContexts, signIdentity, newContext } from './helpers.mjs';

test.afterEach(closeContexts);

test('the header says whether someone can answer, and a closed chat looks closed on both sides', async ({ browser }) => {
  const early = await openShop(browser);
  // Connected, but nobody is there: the header does not say "Online".
  await expect(early.page.locator('.rp-status')).toHaveText('Nobody is online right now');

  const ada = await signIn(browser, setup.email);
  await goOnline(ada);
  const shopper = await openShop(browser);
  await expect(shopper.page.locator('.rp-status')).toHaveText('Online');
  await shopper.say('Can I return shoes?');
  await expect(shopper.transcript).toContainText('Ada joined the chat');
  await ada.getByRole('button', { name: /Can I return shoes\?/ }).click();
  await ada.getByRole('button', { name: 'Close conversation' }).click();

  // The agent's side: no reply box, no close or hand-over, and why.
  await expect(ada.getByText('This conversation is closed')).toBeVisible();
  await expect(ada.getByLabel('Reply')).toBeHidden();
  await expect(ada.getByRole('button', { name: 'Close conversation' })).toBeHidden();
  // The shopper's side: ended, no composer, nobody typing, a way to start again.
  await expect(shopper.transcript).toContainText('This chat has ended');
  await expect(shopper.message).toBeHidden();
  await expect(shopper.page.locator('.rp-typing')).toBeEmpty();
  const again = shopper.page.getByRole('button', { name: 'Start a new conversation' });
  await expect(again).toBeVisible();
  await again.click();
  await expect(shopper.message).toBeFocused();
  await expect(shopper.transcript).not.toContainText('Can I return shoes?');
  await shopper.say('And one more question');
  await expect(shopper.transcript).toContainText('Ada joined the chat');
  await expect(ada.getByRole('button', { name: /And one more question/ })).toBeVisible();
});

test('anonymous shoppers are told apart, a known customer is named, times read in the agent\'s language', async ({ browser }) => {
  const ada = await signIn(browser, setup.email);
  const labels = [];
  for (const question of ['First question', 'Second question', 'Third question']) {
    const shopper = await openShop(browser);
    await shopper.say(question);
    const row = ada.getByRole('button', { name: new RegExp(question) });
    await expect(row).toBeVisible();
    labels.push(await row.locator('.label').innerText());
  }
  expect(new Set(labels).size, labels.join(' | ')).toBe(3);
  for (const label of labels) expect(label).toMatch(/^Visitor \d+/);

  const grace = await openShop(browser, '/account?token=' + signIdentity({ sub: 'cust-named', name: 'Grace Hopper' }));
  await expect(grace.transcript).toContainText('Hi Grace!');
  await grace.say('It is me, Grace');
  await goOnline(ada);
  const row = ada.getByRole('button', { name: /It is me, Grace/ });
  await row.click();
  await expect(ada.locator('.line.visitor .who').last()).toHaveText('Grace Hopper');

  // An agent whose browser reads en-US sees en-US dates and times, and a
  // long value stays inside the customer panel.
  const american = await (await newContext(browser, { locale: 'en-US' })).newPage();
  await american.goto(setup.baseUrl + '/app');
  await american.getByLabel('Email').fill(setup.email);
  await american.getByLabel('Password').fill(setup.password);
  await american.getByRole('button', { name: 'Sign in' }).click();
  await american.getByRole('button', { name: /It is me, Grace/ }).click();
  const profile = american.getByRole('complementary', { name: 'Customer' });
  await expect(profile).toContainText('Grace Hopper');
  const expected = await american.evaluate(() =>
    new Date().toLocaleDateString(navigator.language, { day: 'numeric', month: 'short', year: 'numeric' }));
  expect(expected).toMatch(/^[A-Z][a-z]{2} \d+, \d{4}$/);
  await expect(profile.locator('.history li').first()).toContainText(expected);
  const long = 'x'.repeat(300);
  await profile.getByPlaceholder(/attribute/i).fill('note');
  await profile.getByPlaceholder(/value/i).fill(long);
  await profile.getByPlaceholder(/value/i).press('Enter');
  await expect(profile).toContainText(long);
  const overflows = await profile.evaluate((panel) => panel.scrollWidth > panel.clientWidth + 1);
  expect(overflows).toBe(false);
});

test('alert switches show what the browser allows; primary and secondary buttons differ', async ({ browser }) => {
  // A browser that refuses notifications (as after a "Block").
  const context = await newContext(browser);
  await context.addInitScript(() => {
    Object.defineProperty(window.Notification, 'permission', { get: () => 'denied' });
    window.Notification.requestPermission = async () => 'denied';
  });
  const page = await context.newPage();
  await page.goto(setup.baseUrl + '/app');
  const signInButton = page.getByRole('button', { name: 'Sign in' });
  const forgot = page.getByRole('button', { name: 'Forgot your password?' });
  const look = (locator) => locator.evaluate((el) => {
    const style = getComputedStyle(el);
    return `${style.backgroundColor} ${style.color} ${style.textDecorationLine}`;
  });
  expect(await look(forgot)).not.toBe(await look(signInButton));
  await page.getByLabel('Email').fill(setup.email);
  await page.getByLabel('Password').fill(setup.password);
  await signInButton.click();
  const desktop = page.getByLabel('Desktop alerts');
  await expect(desktop).not.toBeChecked();
  await expect(desktop).toBeDisabled();
  await expect(page.locator('.alert-hint')).toContainText('blocks notifications');

  // A browser that has not decided yet, then says no when asked.
  const asking = await newContext(browser);
  await asking.addInitScript(() => {
    let answer = 'default';
    Object.defineProperty(window.Notification, 'permission', { get: () => answer });
    window.Notification.requestPermission = async () => { answer = 'denied'; return answer; };
  });
  const second = await asking.newPage();
  await second.goto(setup.baseUrl + '/app');
  await second.getByLabel('Email').fill(setup.email);
  await second.getByLabel('Password').fill(setup.password);
  await second.getByRole('button', { name: 'Sign in' }).click();
  const box = second.getByLabel('Desktop alerts');
  await box.check({ force: true }).catch(() => {});
  await expect(box).not.toBeChecked();
  await expect(second.locator('.alert-hint')).toContainText('blocks notifications');
});

test('a page the site does not allow is still refused, with or without Origin', async ({ browser }) => {
  // The fixture site allows the fixture shop only. From this server's own
  // page (same origin: no Origin header, Sec-Fetch-Site says same-origin)…
  const own = await (await newContext(browser)).newPage();
  await own.goto(setup.baseUrl + '/healthz');
  const fromOwn = await own.evaluate(async (key) =>
    (await fetch(`/api/widget/config?site=${key}`)).status, setup.siteKey);
  expect(fromOwn).toBe(403);
  // …and from a page of another origin that the site does not list.
  const foreign = await (await newContext(browser)).newPage();
  await foreign.goto(setup.mailboxUrl + '/health');
  const fromForeign = await foreign.evaluate(async ([base, key]) => {
    try { return (await fetch(`${base}/api/widget/config?site=${key}`)).status; } catch { return 'blocked'; }
  }, [setup.baseUrl, setup.siteKey]);
  expect(fromForeign).toBe(403);
  // The fixture shop itself still gets its chat.
  const shop = await openShop(browser);
  await expect(shop.message).toBeVisible();
});

test('a person changes the name colleagues and shoppers see, in their profile', async ({ browser }) => {
  const cy = await signIn(browser, setup.oneAtATime);
  const open = async () => {
    await cy.getByText('Profile', { exact: true }).click();
    return cy.locator('.your-profile form');
  };
  let form = await open();
  await form.getByLabel('Your name').fill('Cy Young');
  // Changing only the name needs no password.
  await expect(form.getByLabel('Your password, to change your email')).toBeHidden();
  await form.getByRole('button', { name: 'Save' }).click();
  await expect(form.getByRole('status')).toHaveText('Saved.');
  await expect(cy.locator('.topbar .who')).toHaveText('Cy Young');
  // A new sign-in address asks for the password first.
  await form.getByLabel('Email you sign in with').fill('cy.young@shop.test');
  await expect(form.getByLabel('Your password, to change your email')).toBeVisible();
  await form.getByRole('button', { name: 'Save' }).click();
  await expect(form.getByRole('alert')).toContainText('Your current password is needed');
  await form.getByLabel('Email you sign in with').fill(setup.oneAtATime);
  // As other tests know Cy.
  await form.getByLabel('Your name').fill('Cy');
  await form.getByRole('button', { name: 'Save' }).click();
  await expect(cy.locator('.topbar .who')).toHaveText('Cy');
});
