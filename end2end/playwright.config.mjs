// Browser tests: a real rapport server on a fresh SQLite file, a fixture
// shop on another origin, Debian's Chromium. `cargo xtask test` runs this
// with RAPPORT_BIN, RAPPORT_E2E_STATE and RAPPORT_ASSETS_DIR set.
import { defineConfig } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const bin = process.env.RAPPORT_BIN;
const stateDir = process.env.RAPPORT_E2E_STATE;
if (!bin || !stateDir) throw new Error('run the browser tests with `cargo xtask test`');

const serverPort = Number(process.env.RAPPORT_E2E_PORT || 18470);
const shopPort = serverPort + 1;
// The mailbox the server sends its mail to, and where tests read it.
const smtpPort = serverPort + 2;
const mailboxPort = serverPort + 3;
const baseUrl = `http://127.0.0.1:${serverPort}`;
// "localhost" vs "127.0.0.1": a different origin, as a real shop would be.
const shopUrl = `http://localhost:${shopPort}`;
const databaseUrl = `sqlite://${join(stateDir, 'e2e.db')}`;
const setupFile = join(stateDir, 'setup.json');

// Runs once: the config is evaluated again in each worker, after this exists.
if (!existsSync(setupFile)) {
  const env = { ...process.env, RAPPORT_DATABASE_URL: databaseUrl, RAPPORT_PUBLIC_URL: baseUrl };
  const password = 'e2e password ' + Math.random().toString(36).slice(2);
  execFileSync(bin, ['add-user', '--email', 'ada@shop.test', '--name', 'Ada', '--role', 'owner'], {
    env: { ...env, RAPPORT_NEW_PASSWORD: password },
  });
  // A second agent who holds one conversation at a time, for the queue test.
  execFileSync(bin, ['add-user', '--email', 'cy@shop.test', '--name', 'Cy', '--role', 'agent', '--capacity', '1'], {
    env: { ...env, RAPPORT_NEW_PASSWORD: password },
  });
  // Replies a shopper has not seen are emailed after two seconds here.
  const site = JSON.parse(execFileSync(bin, ['add-site', '--name', 'Fixture shop', '--origin', shopUrl,
    '--email-delay-secs', '2'], { env }));
  // Billing, a team of one (Cy), and the site's "billing" topic routed to it.
  execFileSync(bin, ['add-team', '--name', 'Billing', '--member', 'cy@shop.test'], { env });
  execFileSync(bin, ['add-topic', `--site=${site.site_key}`, '--topic', 'billing', '--label', 'Billing', '--team', 'Billing'], { env });
  // The secret the shop's backend signs identity tokens with.
  const identity = JSON.parse(execFileSync(bin, ['site-secret', `--site=${site.site_key}`], { env }));
  writeFileSync(setupFile, JSON.stringify({
    baseUrl, shopUrl, siteKey: site.site_key, email: 'ada@shop.test', password, oneAtATime: 'cy@shop.test',
    identitySecret: identity.secret, mailboxUrl: `http://127.0.0.1:${mailboxPort}`,
  }));
}

export default defineConfig({
  testDir: './tests',
  timeout: 60_000,
  expect: { timeout: 10_000 },
  workers: 1,
  reporter: [['list']],
  outputDir: './test-results',
  use: {
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    },
  },
  webServer: [
    {
      command: `${bin} serve`,
      url: `${baseUrl}/healthz`,
      env: {
        RAPPORT_ADDR: `127.0.0.1:${serverPort}`,
        RAPPORT_PUBLIC_URL: baseUrl,
        RAPPORT_DATABASE_URL: databaseUrl,
        RAPPORT_ASSETS_DIR: process.env.RAPPORT_ASSETS_DIR,
        RAPPORT_LOG: 'warn',
        // Tests close an agent's browser and expect them offline at once.
        RAPPORT_OFFLINE_GRACE_SECS: '0',
        RAPPORT_SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
        RAPPORT_MAIL_FROM: 'Fixture shop <chat@shop.test>',
        RAPPORT_MAIL_RETRY_SECS: '1',
        // Every shopper of every test comes from 127.0.0.1 within a minute
        // or two: a crowd behind one address, not an attack. The server's
        // own tests check the default limits.
        RAPPORT_LIMIT_SOCKETS_PER_IP: '1000',
        RAPPORT_LIMIT_VISITORS_PER_IP: '1000',
        RAPPORT_LIMIT_CONVERSATIONS_PER_IP: '1000',
        RAPPORT_LIMIT_OPEN_CONVERSATIONS_PER_IP: '0',
        // The browser tests start a new chat right after an agent closed
        // one; the server's own tests check the wait.
        RAPPORT_LIMIT_AFTER_CLOSE_SECS: '0',
        RAPPORT_LIMIT_MAIL_ASKS_PER_IP: '1000',
      },
      reuseExistingServer: false,
      stdout: 'pipe',
      stderr: 'pipe',
    },
    {
      command: `node fixtures/mailbox.mjs ${smtpPort} ${mailboxPort}`,
      url: `http://127.0.0.1:${mailboxPort}/health`,
      reuseExistingServer: false,
    },
    {
      command: `node fixtures/serve.mjs ${shopPort}`,
      url: `${shopUrl}/health`,
      env: { RAPPORT_E2E_SETUP: setupFile },
      reuseExistingServer: false,
    },
  ],
});
