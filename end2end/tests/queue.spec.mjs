// A shopper who has to wait is told their place in line and about how long,
// and is connected the moment an agent frees up, without reloading.
import { test, expect } from '@playwright/test';
import { setup, signIn, openShop, goOnline, closeContexts, lineExits, closeConversation } from './helpers.mjs';

test.afterEach(closeContexts);

test('a waiting shopper sees their place in line and is connected when an agent frees up', async ({ browser }) => {
  // Cy holds one conversation at a time.
  const inbox = await signIn(browser, setup.oneAtATime);
  await goOnline(inbox);

  // One finished chat gives the estimate something to go on.
  const earlier = await openShop(browser);
  await earlier.say('Quick question about sizes');
  await expect(earlier.transcript).toContainText('Cy joined the chat');
  await closeConversation(inbox, 'Quick question about sizes');
  await expect(earlier.transcript).toContainText('This chat has ended');

  const first = await openShop(browser);
  await first.say('I am first');
  await expect(first.transcript).toContainText('Cy joined the chat');

  const second = await openShop(browser);
  await second.say('I am second');
  await expect(second.status).toContainText('You are number 1 in line, about');

  const third = await openShop(browser);
  await third.say('I am third');
  await expect(third.status).toContainText(/You are number 2 in line, about \d+ min\./);

  // The third closes the chat while waiting, the page still open: kept for
  // the reports (once), and their place is kept.
  await third.page.getByRole('button', { name: 'Close chat' }).click();
  await expect.poll(() => lineExits('I am third')).toBe('closed_panel');
  await third.page.getByRole('button', { name: 'Chat' }).click();
  await expect(third.status).toContainText('You are number 2 in line');

  // Cy finishes with the first shopper: the second is connected, the third moves up.
  await closeConversation(inbox, 'I am first');
  await expect(second.transcript).toContainText('Cy joined the chat');
  await expect(second.status).toBeHidden();
  await expect(third.status).toContainText('You are number 1 in line');

  await closeConversation(inbox, 'I am second');
  await expect(third.transcript).toContainText('Cy joined the chat');
  await expect(third.status).toBeHidden();
  await third.page.screenshot({ path: 'test-results/queue-connected.png' });
});
