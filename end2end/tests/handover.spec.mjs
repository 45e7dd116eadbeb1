// Agents write private notes the shopper never sees, and hand a chat over
// with a note; the receiver finds the whole history.
import { test, expect } from '@playwright/test';
import { setup, signIn, openShop, goOnline, closeContexts } from './helpers.mjs';

test.afterEach(closeContexts);

test('a private note stays private and a handover carries the history', async ({ browser, request }) => {
  const ada = await signIn(browser, setup.email);
  await goOnline(ada);
  const shopper = await openShop(browser);
  await shopper.say('I need help with a return');
  await expect(shopper.transcript).toContainText('Ada joined the chat');

  const cy = await signIn(browser, setup.oneAtATime);
  await goOnline(cy);

  await ada.getByRole('button', { name: /I need help with a return/ }).click();
  const reply = ada.getByLabel('Reply');
  await ada.getByLabel('Private note').check();
  await reply.fill('Upset about shipping costs; offer a free return');
  await reply.press('Enter');
  await expect(ada.locator('.events .note')).toContainText('offer a free return');
  await ada.getByLabel('Private note').uncheck();
  await reply.fill('Let me get my colleague who handles returns.');
  await reply.press('Enter');
  await expect(shopper.transcript).toContainText('Let me get my colleague');
  await expect(shopper.transcript).not.toContainText('free return');

  await ada.getByText('Hand over…').click();
  const choice = ada.getByLabel('Hand over to').locator('option', { hasText: 'Cy' });
  await expect(choice).toHaveCount(1);
  await ada.getByLabel('Hand over to').selectOption(await choice.getAttribute('value'));
  await ada.getByLabel('Note for the next agent').fill('Returns are your area');
  await ada.getByRole('button', { name: 'Hand over', exact: true }).click();

  await expect(shopper.transcript).toContainText('Cy joined the chat');
  await expect(shopper.transcript).not.toContainText('Returns are your area');
  const handed = cy.getByRole('button', { name: /Let me get my colleague/ });
  await expect(handed).toBeVisible();
  await handed.click();
  const history = cy.locator('.events');
  for (const line of ['I need help with a return', 'offer a free return', 'Handed over to Cy: Returns are your area']) {
    await expect(history).toContainText(line);
  }
  await cy.screenshot({ path: 'test-results/handover-inbox.png' });
  await cy.getByRole('button', { name: 'Close conversation' }).click();
  await expect(shopper.transcript).toContainText('This chat has ended');

  // Signing out takes Ada offline at once: her inbox's socket goes with her.
  await ada.getByRole('button', { name: 'Sign out' }).click();
  await expect(ada.getByRole('button', { name: 'Sign in' })).toBeVisible();
  await request.post(setup.baseUrl + '/api/auth/login', { data: { email: setup.oneAtATime, password: setup.password } });
  await expect
    .poll(async () => (await (await request.get(setup.baseUrl + '/api/agents')).json()).find((m) => m.name === 'Ada').status)
    .toBe('offline');
});
