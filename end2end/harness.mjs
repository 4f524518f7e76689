// Browser-test harness: starts the real `gatehouse` binary on a free port with a fresh SQLite
// database, and opens Debian's Chromium through playwright-core.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, after } from 'node:test';
import { chromium } from 'playwright-core';

export const PASSWORD = 'correct horse battery staple';

export function uniqueEmail(name) {
  return `${name}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}@example.com`;
}

/** Starts a server (with extra environment, if given); resolves with { url, stop }. */
export async function startServer(extraEnv = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-e2e-'));
  const bin = process.env.GATEHOUSE_BIN ?? 'target/debug/gatehouse';
  const child = spawn(bin, ['serve'], {
    env: {
      ...process.env,
      GATEHOUSE_ADDR: '127.0.0.1:0',
      DATABASE_URL: `sqlite://${dir}/e2e.db`,
      GATEHOUSE_SITE_ROOT: process.env.GATEHOUSE_SITE_ROOT ?? 'target/site',
      RUST_LOG: 'info',
      NO_COLOR: '1',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${log}`)), 30_000);
    const onData = (chunk) => {
      log += chunk.toString();
      const match = log.match(/url=(http:\/\/127\.0\.0\.1:\d+)/);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`server exited with ${code}:\n${log}`)));
  });
  return {
    url,
    log: () => log,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}

/** A new page that fails the test on any uncaught error in the page. */
export async function newPage(browser, options = {}) {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  if (process.env.E2E_DEBUG) page.on('response', (r) => { if (r.status() >= 400) console.log('HTTP', r.status(), r.url()); });
  page.on('console', (m) => {
    if (m.type() === 'error') page.errors.push(m.text());
  });
  return page;
}

/** Waits until the wasm has hydrated the page. */
export async function hydrated(page) {
  await page.waitForSelector('html[data-hydrated="true"]', { timeout: 20_000 });
}

/** Signs up over HTTP and creates a live key through the dashboard's server function; resolves with { slug, key }. */
export async function signUpWithKey(base, scopes, name = 'e2e') {
  const form = (pairs) => new URLSearchParams(pairs);
  const signedUp = await fetch(`${base}/api/auth/sign_up`, {
    method: 'POST',
    body: form([['email', uniqueEmail(name)], ['password', PASSWORD]]),
    redirect: 'manual',
  });
  if (signedUp.status !== 200) throw new Error(`sign-up failed: ${signedUp.status}`);
  const cookie = signedUp.headers.get('set-cookie').split(';')[0];
  const slug = signedUp.headers.get('location').replace('/w/', '');
  const created = await fetch(`${base}/api/keys/create`, {
    method: 'POST',
    headers: { cookie },
    body: form([['slug', slug], ['name', name], ['environment', 'live'], ['expiry', '30d'], ...scopes.map((s) => ['scopes[]', s])]),
  });
  if (created.status !== 200) throw new Error(`key creation failed: ${created.status}`);
  return { slug, key: (await created.json()).secret };
}

export async function signUp(page, base, email) {
  await page.goto(`${base}/signup`);
  await hydrated(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL(/\/w\/[a-z0-9-]+$/);
  await hydrated(page);
}

export async function signIn(page, base, email, password = PASSWORD) {
  await page.goto(`${base}/signin`);
  await hydrated(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

export async function signOut(page) {
  await page.getByTestId('account-menu').locator('summary').click();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(/\/signin$/);
}

/**
 * Registers hooks that start a server and a browser for the test file; the returned object's
 * `server` and `browser` are set once they run.
 */
export function serverAndBrowser(extraEnv = {}) {
  const env = { server: undefined, browser: undefined };
  before(async () => {
    env.server = await startServer(typeof extraEnv === 'function' ? extraEnv() : extraEnv);
    env.browser = await launchBrowser();
  });
  after(async () => {
    await env.browser?.close();
    await env.server?.stop();
  });
  return env;
}
