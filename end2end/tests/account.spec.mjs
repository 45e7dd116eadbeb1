// Getting in, as a person does it: an owner invites a colleague who joins
// from the mailed link; an invitation can be revoked; a forgotten password
// is reset from a mailed link; a signed-in agent changes their password.
import { test, expect } from '@playwright/test';
import { setup, signIn, closeContexts, newContext } from './helpers.mjs';

test.afterEach(closeContexts);

/** The newest mail to `address` (polled: mail goes out in the background). */
async function mailTo(request, address) {
  let mail;
  await expect
    .poll(async () => {
      const mails = await (await request.get(`${setup.mailboxUrl}/mails?to=${encodeURIComponent(address)}`)).json();
      mail = mails[mails.length - 1];
      return mail ? mail.text : '';
    }, { timeout: 20_000 })
    .toContain(setup.baseUrl);
  return mail.text;
}

test('an invited colleague joins from the mailed link; an invitation can be revoked', async ({ browser, request }) => {
  const owner = await signIn(browser, setup.email);
  await owner.getByRole('button', { name: 'Console' }).click();
  const joining = `dee-${Date.now()}@shop.test`;
  const dropped = `eve-${Date.now()}@shop.test`;
  for (const address of [joining, dropped]) {
    await owner.getByLabel('Invite by email').fill(address);
    await owner.getByRole('button', { name: 'Send invitation' }).click();
    await expect(owner.locator('.invite-sent')).toContainText(address);
  }
  await owner.getByRole('button', { name: `Revoke the invitation of ${dropped}` }).click();
  await expect(owner.locator('.invites')).not.toContainText(dropped);

  // The revoked link says so; the other one signs its colleague in.
  const revokedLink = (await mailTo(request, dropped)).match(/https?:\/\/\S+#invite=[A-Za-z0-9_-]+/)[0];
  const stranger = await (await newContext(browser)).newPage();
  await stranger.goto(revokedLink);
  await expect(stranger.getByRole('alert')).toContainText(/no longer valid|not found|expired/i);

  const link = (await mailTo(request, joining)).match(/https?:\/\/\S+#invite=[A-Za-z0-9_-]+/)[0];
  const colleague = await (await newContext(browser)).newPage();
  await colleague.goto(link);
  await expect(colleague.getByRole('heading', { name: /Join .* on Rapport/ })).toBeVisible();
  await colleague.getByLabel('Your name').fill('Dee');
  await colleague.getByLabel(/Choose a password/).fill('dee has a long password');
  await colleague.getByRole('button', { name: 'Join' }).click();
  await expect(colleague.getByRole('button', { name: 'Sign out' })).toBeVisible();
  expect(colleague.url()).not.toContain('invite=');
});

test('a forgotten password is reset from the mailed link, and changed again once signed in', async ({ browser, request }) => {
  // Cy's password ends as it began: other tests sign in with it.
  const page = await (await newContext(browser)).newPage();
  await page.goto(setup.baseUrl + '/app');
  await page.getByLabel('Email').fill(setup.oneAtATime);
  await page.getByRole('button', { name: 'Forgot your password?' }).click();
  await expect(page.getByRole('status')).toContainText('a link to choose a new password is on its way');

  const link = (await mailTo(request, setup.oneAtATime)).match(/https?:\/\/\S+#reset=[A-Za-z0-9_-]+/)[0];
  const reset = await (await newContext(browser)).newPage();
  await reset.goto(link);
  // The link says whose password it chooses, and signs them in.
  await expect(reset.getByText(`For Cy, who signs in as ${setup.oneAtATime}.`)).toBeVisible();
  await reset.getByLabel(/New password/).fill('cy chose this one');
  await reset.getByRole('button', { name: 'Save and sign in' }).click();
  await expect(reset.getByRole('button', { name: 'Sign out' })).toBeVisible();
  // The new password is the one that signs in.
  await reset.getByRole('button', { name: 'Sign out' }).click();
  await reset.getByLabel('Email').fill(setup.oneAtATime);
  await reset.getByLabel('Password').fill('cy chose this one');
  await reset.getByRole('button', { name: 'Sign in' }).click();
  await expect(reset.getByRole('button', { name: 'Sign out' })).toBeVisible();

  await reset.getByText('Password', { exact: true }).click();
  await reset.getByLabel('Current password').fill('cy chose this one');
  await reset.getByLabel('New password').fill(setup.password);
  await reset.getByRole('button', { name: 'Change password' }).click();
  await expect(reset.getByText('Your other sessions are signed out')).toBeVisible();
  const again = await signIn(browser, setup.oneAtATime);
  await expect(again.getByRole('button', { name: 'Sign out' })).toBeVisible();
});
