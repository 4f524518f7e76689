// The Usage page and the Overview in the browser: calls made with a key show up as numbers,
// server-drawn charts (with a readout on hover once the page is live), a table, a CSV link, and
// the Overview's live numbers; test traffic is apart and its empty state says what to do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serverAndBrowser, newPage, hydrated, signUp, uniqueEmail } from './harness.mjs';

const env = serverAndBrowser();

async function callTool(key, name, args = {}) {
  const res = await fetch(`${env.server.url}/mcp`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-06-18',
      authorization: `Bearer ${key}`,
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args } }),
  });
  assert.equal(res.status, 200);
}

test('usage: numbers, charts, hover readout, table, CSV, overview, and the empty test traffic', async () => {
  const base = env.server.url;
  const page = await newPage(env.browser);
  await signUp(page, base, uniqueEmail('usage'));
  const slug = new URL(page.url()).pathname.split('/')[2];
  const key = await page.evaluate(async (slug) => {
    const body = new URLSearchParams([['slug', slug], ['name', 'Reporter'], ['environment', 'live'], ['expiry', '30d'], ['scopes[]', 'runs:read']]);
    return (await (await fetch('/api/keys/create', { method: 'POST', body })).json()).secret;
  }, slug);
  for (let i = 0; i < 4; i++) await callTool(key, 'whoami');
  await callTool(key, 'create_agent', { name: 'x' });
  // Calls are written every few seconds.
  let calls = 0;
  for (let i = 0; i < 40 && calls < 5; i++) {
    calls = await page.evaluate(async (slug) => {
      const body = new URLSearchParams([['slug', slug], ['range', '24h'], ['environment', 'live']]);
      return (await (await fetch('/api/usage/report', { method: 'POST', body })).json()).total.calls;
    }, slug);
    if (calls < 5) await new Promise((r) => setTimeout(r, 250));
  }
  assert.equal(calls, 5);

  await page.goto(`${base}/w/${slug}/usage`);
  await hydrated(page);
  assert.equal(await page.getByTestId('usage-calls').textContent(), '5');
  assert.match(await page.getByTestId('usage-errors').textContent(), /^1 \(20\.0%\)/);
  const chart = page.getByTestId('chart-calls');
  assert.ok(await chart.locator('svg[role="img"] title').first().textContent());
  // Hover over the last period (where the calls are): the readout names them.
  const box = await chart.locator('svg').boundingBox();
  await page.mouse.move(box.x + box.width - 3, box.y + box.height / 2);
  await page.waitForFunction(() => document.querySelector('[data-testid="readout-calls"]')?.textContent.includes('5 calls'));
  assert.match(await page.getByTestId('usage-by-tool').textContent(), /whoami\s*4\s*0/);
  assert.match(await page.getByTestId('usage-by-caller').textContent(), /Reporter/);
  await page.getByText('Show the numbers as a table').click();
  assert.equal(await page.getByTestId('usage-table').locator('tbody tr').count(), 24);
  const csv = await page.getByTestId('usage-csv').getAttribute('href');
  const download = await page.evaluate(async (href) => (await fetch(href)).text(), csv);
  assert.match(download, /^period_start_utc,calls,errors/);

  // Test traffic is apart, and its empty state says what to do.
  await page.getByLabel('Traffic').selectOption('test');
  await page.getByRole('button', { name: 'Show' }).click();
  await page.waitForURL(/environment=test/);
  await page.getByTestId('usage-empty').waitFor();

  // A bad range in the URL is explained.
  await page.goto(`${base}/w/${slug}/usage?range=1y`);
  await page.getByTestId('usage-error').waitFor();
  assert.match(await page.getByTestId('usage-error').textContent(), /24h, 7d or 30d/);

  await page.goto(`${base}/w/${slug}`);
  await hydrated(page);
  assert.match(await page.getByTestId('overview-periods').textContent(), /5 calls/);
  assert.match(await page.getByTestId('overview-tools').textContent(), /whoami/);
  assert.match(await page.getByTestId('overview-keys').textContent(), /Reporter/);
  assert.deepEqual(page.errors.filter((e) => !e.includes('status of 422')), []);
});
