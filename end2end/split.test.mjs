// The wasm split per page: a first visit downloads the main module and the shown page's modules
// (named in preload links by the server), not the rest of the dashboard; moving to another page
// fetches that page's modules, and the page works.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serverAndBrowser, newPage, hydrated, signUp, uniqueEmail } from './harness.mjs';

const env = serverAndBrowser();

/** Records the wasm files the page fetches, with their status and content type. */
function recordWasm(page) {
  const fetched = [];
  page.on('response', (r) => {
    const path = new URL(r.url()).pathname;
    if (path.endsWith('.wasm')) fetched.push({ path, status: r.status(), type: r.headers()['content-type'] });
  });
  return fetched;
}

const pageModule = (name) => new RegExp(`^/pkg/split___${name}_view_\\d+\\.wasm$`);

test('a page loads its own wasm modules, and the next page loads its own', async () => {
  const page = await newPage(env.browser);
  const fetched = recordWasm(page);
  await page.goto(`${env.server.url}/signin`);
  await hydrated(page);

  const preloads = await page.locator('link[rel="preload"][as="fetch"]').evaluateAll((links) =>
    links.map((l) => new URL(l.href).pathname));
  assert.ok(preloads.some((p) => pageModule('sign_in').test(p)), `sign-in's module is preloaded: ${preloads}`);
  assert.ok(!preloads.some((p) => pageModule('keys').test(p)), 'the keys page is not preloaded on sign-in');

  const paths = fetched.map((f) => f.path);
  assert.ok(paths.includes('/pkg/gatehouse_bg.wasm'), 'the main module');
  assert.ok(paths.some((p) => pageModule('sign_in').test(p)), `sign-in's module: ${paths}`);
  assert.ok(!paths.some((p) => /^\/pkg\/split___/.test(p) && !pageModule('sign_in').test(p)), `no other page's module: ${paths}`);

  // Sign up, then go to the keys page through the navigation: its module arrives when asked for,
  // and while it is on its way a progress bar shows that the click was taken.
  await signUp(page, env.server.url, uniqueEmail('lazy'));
  assert.ok(!fetched.some((f) => pageModule('keys').test(f.path)), 'keys not fetched before it is opened');
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  await page.route((url) => pageModule('keys').test(url.pathname), async (route) => { await held; await route.continue(); });
  const bar = page.getByTestId('routing-progress');
  const progress = bar.locator('progress');
  // Idle (once sign-up's own navigation has settled), the bar is hidden from assistive technology too.
  await page.waitForSelector('[data-testid="routing-progress"][aria-hidden="true"]', { state: 'attached' });
  await page.getByRole('navigation', { name: 'Workspace sections' }).getByRole('link', { name: 'API keys' }).click();
  await progress.waitFor({ state: 'visible' });
  assert.equal(await bar.getAttribute('aria-hidden'), 'false');
  release();
  await page.waitForURL(/\/keys$/);
  await page.getByTestId('keys-empty').waitFor();
  await progress.waitFor({ state: 'hidden' });
  await page.waitForSelector('[data-testid="routing-progress"][aria-hidden="true"]', { state: 'attached' });
  assert.ok(fetched.some((f) => pageModule('keys').test(f.path)), 'the keys page module');
  // The page is live: its create form opens and takes input.
  await page.getByTestId('create-key').locator('summary').click();
  await page.getByLabel('Name').first().fill('Lazy');
  assert.equal(await page.getByLabel('Name').first().inputValue(), 'Lazy');

  for (const f of fetched) {
    assert.equal(f.status, 200, f.path);
    assert.equal(f.type, 'application/wasm', f.path);
  }
  assert.deepEqual(page.errors, []);
});
