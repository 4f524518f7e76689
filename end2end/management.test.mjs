// Management keys and watching keys, in a real browser: an owner makes a management key in
// Settings (shown once), a script uses it on /v1 and is refused at /mcp, the owner revokes it;
// an API key with allowed networks is refused from elsewhere, its addresses show on its row, and
// the Overview tells of a new network, an error spike and a leak report. The server trusts
// 127.0.0.1 as a proxy, so each call's X-Forwarded-For is its client address.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serverAndBrowser, newPage, hydrated, signUp, uniqueEmail } from './harness.mjs';

const env = serverAndBrowser({ GATEHOUSE_TRUSTED_PROXIES: '127.0.0.1/32' });

function call(path, key, { from, method = 'GET', body } = {}) {
  const headers = { authorization: `Bearer ${key}` };
  if (from) headers['x-forwarded-for'] = from;
  if (body !== undefined) headers['content-type'] = 'application/json';
  return fetch(`${env.server.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
}

async function mcpTool(key, from, name, args = {}) {
  const res = await fetch(`${env.server.url}/mcp`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-06-18',
      authorization: `Bearer ${key}`,
      'x-forwarded-for': from,
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args } }),
  });
  return { status: res.status, body: await res.text() };
}

/** The page's errors, less the failed loads of answers the test asked for (a refused form, a 403). */
function unexpected(errors, ...statuses) {
  return errors.filter((e) => !statuses.some((s) => e.includes(`status of ${s}`)));
}

/** Reloads `page` until `testid` (optionally with text) is there: usage is written every few seconds. */
async function reloadUntil(page, locate) {
  for (let i = 0; i < 30; i++) {
    if ((await locate().count()) > 0) return;
    await new Promise((r) => setTimeout(r, 1000));
    await page.reload();
    await hydrated(page);
  }
  await locate().first().waitFor({ timeout: 1000 });
}

test('management keys: create in Settings, shown once, used on /v1, refused at /mcp, revoked', async () => {
  const page = await newPage(env.browser);
  await signUp(page, env.server.url, uniqueEmail('mgmt'));
  const overview = page.url();
  await page.goto(`${overview}/settings`);
  await hydrated(page);
  const section = page.getByTestId('management-keys');
  await section.getByTestId('management-keys-empty').waitFor();

  // A key with no scope is refused with the reason beside the scopes, and nothing is made.
  await section.getByTestId('create-management-key').locator('summary').click();
  await section.getByLabel('Name', { exact: true }).fill('Billing sync');
  await section.getByRole('button', { name: 'Create management key' }).click();
  await section.getByText('Choose at least one scope.').waitFor();
  assert.equal(await section.getByTestId('management-key-row').count(), 0);

  // The owner may give members:write; the key is revealed once.
  await section.getByLabel('keys:read').check();
  await section.getByLabel('keys:write').check();
  await section.getByLabel('members:write').check();
  await section.getByLabel('Expires').selectOption('30d');
  await section.getByRole('button', { name: 'Create management key' }).click();
  await section.getByTestId('key-reveal').waitFor();
  const key = await section.getByTestId('new-key').inputValue();
  assert.match(key, /^sk_live_[0-9A-Za-z]{61}$/);
  const row = section.getByTestId('management-key-row').first();
  await row.waitFor();
  assert.equal(await row.getByTestId('management-key-hint').textContent(), `${key.slice(0, 12)}…${key.slice(-4)}`);
  assert.match(await row.textContent(), /keys:read.*keys:write.*members:write/s);

  // A script uses it on the management API, and makes an API key with it.
  const listed = await call('/v1/keys', key);
  assert.equal(listed.status, 200);
  assert.deepEqual((await listed.json()).data, []);
  const made = await call('/v1/keys', key, { method: 'POST', body: { name: 'From a script', scopes: ['runs:read'], environment: 'live' } });
  assert.equal(made.status, 201);
  // It is not an API key: /mcp says which key to use.
  const refused = await mcpTool(key, '203.0.113.1', 'whoami');
  assert.equal(refused.status, 401);
  assert.match(refused.body, /WRONG_KEY_TYPE/);

  // After a reload only the hint remains; the row says it was used.
  await page.reload();
  await hydrated(page);
  assert.ok(!(await page.content()).includes(key.slice(12, 40)), 'no part of the secret after a reload');
  assert.equal(await page.getByTestId('key-reveal').count(), 0);
  await reloadUntil(page, () => page.getByTestId('management-key-row').filter({ hasText: 'last used' }));

  // Revoked with a confirmation: the next request with it fails.
  const again = page.getByTestId('management-key-row').first();
  await again.getByText('Revoke', { exact: true }).click();
  await again.getByRole('button', { name: 'Revoke management key' }).click();
  await page.getByTestId('management-key-status').filter({ hasText: 'Revoked' }).waitFor();
  const after = await call('/v1/keys', key);
  assert.equal(after.status, 410);
  assert.equal((await after.json()).code, 'KEY_REVOKED');
  assert.deepEqual(unexpected(page.errors, 422), []);
});

test("a key's allowed networks and addresses, and the Overview's alerts on keys", async () => {
  const page = await newPage(env.browser);
  await signUp(page, env.server.url, uniqueEmail('watch'));
  const overview = page.url();

  // The error-spike alert is set in Settings; a bad value is refused beside its field.
  await page.goto(`${overview}/settings`);
  await hydrated(page);
  const alerts = page.getByTestId('key-alerts');
  await alerts.getByLabel('Over (minutes)').fill('2');
  await alerts.getByRole('button', { name: 'Save alert' }).click();
  await alerts.getByText('Give a window from 5 to 1440 minutes.').waitFor();
  await alerts.getByLabel('Over (minutes)').fill('5');
  await alerts.getByLabel('Failing calls above (%)').fill('50');
  await alerts.getByLabel('Once it made (calls)').fill('3');
  await alerts.getByRole('button', { name: 'Save alert' }).click();
  await alerts.getByText('Saved.').waitFor();

  // A key that works only from 203.0.113.0/24; a range that does not parse is refused first.
  await page.goto(`${overview}/keys`);
  await hydrated(page);
  await page.getByTestId('create-key').locator('summary').click();
  await page.getByLabel('Name').first().fill('Office script');
  await page.getByLabel('runs:read').check();
  await page.getByLabel('Allowed networks').fill('203.0.113.0/33');
  await page.getByRole('button', { name: 'Create key' }).click();
  await page.getByTestId('field-error').filter({ hasText: '203.0.113.0/33' }).waitFor();
  await page.getByLabel('Allowed networks').fill('203.0.113.0/24');
  await page.getByRole('button', { name: 'Create key' }).click();
  await page.getByTestId('key-reveal').waitFor();
  const key = await page.getByTestId('new-key').inputValue();
  const row = () => page.getByTestId('key-row').first();
  assert.equal(await row().getByTestId('key-allowed-ips').textContent(), 'Only from: 203.0.113.0/24');

  assert.equal((await call('/v1/whoami', key, { from: '203.0.113.7' })).status, 200);
  const elsewhere = await call('/v1/whoami', key, { from: '198.51.100.9' });
  assert.equal(elsewhere.status, 403);
  const refusal = await elsewhere.json();
  assert.equal(refusal.code, 'IP_NOT_ALLOWED');
  assert.match(refusal.message, /198\.51\.100\.9/);

  // The row tells where it was used from; its Addresses list the details.
  await reloadUntil(page, () => page.getByTestId('key-used-from'));
  assert.equal(await row().getByTestId('key-used-from').textContent(), 'Used from 203.0.113.7');
  await row().getByText('Addresses', { exact: true }).click();
  const address = row().getByTestId('key-address').first();
  await address.waitFor();
  assert.match(await address.textContent(), /203\.0\.113\.7.*network 203\.0\.113\.0\/24.*1 call/s);

  // Widen its networks in Edit; its first call from the new network is an alert on the Overview.
  await page.reload();
  await hydrated(page);
  await row().getByText('Edit', { exact: true }).click();
  await row().getByLabel('Allowed networks').fill('203.0.113.0/24, 198.51.100.0/24');
  await row().getByRole('button', { name: 'Save changes' }).click();
  await page.getByTestId('key-allowed-ips').filter({ hasText: '198.51.100.0/24' }).waitFor();
  assert.equal((await call('/v1/whoami', key, { from: '198.51.100.9' })).status, 200);
  // Calls its scope does not allow fail: enough of them are an error spike.
  for (let i = 0; i < 3; i++) {
    const failed = await mcpTool(key, '198.51.100.9', 'create_agent', { name: 'x' });
    assert.equal(failed.status, 200);
  }
  await page.goto(overview);
  await hydrated(page);
  await reloadUntil(page, () => page.locator('[data-testid="overview-notice"][data-action="key.new_network"]'));
  const network = page.locator('[data-testid="overview-notice"][data-action="key.new_network"]');
  assert.match(await network.textContent(), /Office script.*198\.51\.100\.0\/24.*198\.51\.100\.9/s);
  await reloadUntil(page, () => page.locator('[data-testid="overview-notice"][data-action="key.error_spike"]'));
  assert.match(
    await page.locator('[data-testid="overview-notice"][data-action="key.error_spike"]').textContent(),
    /Office script.*% of its \d+ calls failed in 5 minutes/s,
  );

  // Found in public: the report revokes it, the Overview and the key's row say so.
  const report = await fetch(`${env.server.url}/v1/keys/leaked`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ keys: [key], url: 'https://gist.example.com/oops' }),
  });
  assert.equal(report.status, 202);
  assert.equal((await call('/v1/whoami', key, { from: '203.0.113.7' })).status, 410);
  await page.reload();
  await hydrated(page);
  const leaked = page.locator('[data-testid="overview-notice"][data-action="key.leaked"]');
  await leaked.waitFor();
  assert.match(await leaked.textContent(), /Office script.*found in public \(https:\/\/gist\.example\.com\/oops\)/s);
  await page.goto(`${overview}/keys`);
  await hydrated(page);
  assert.match(await row().getByTestId('key-leaked').textContent(), /found in public.*gist\.example\.com/);
  assert.deepEqual(unexpected(page.errors, 422), []);
});

test('a member sees no management keys, no addresses and no alerts', async () => {
  // An owner adds a second account as a member; the page hides what a member cannot use, and
  // the server function behind it refuses it too.
  const page = await newPage(env.browser);
  await signUp(page, env.server.url, uniqueEmail('owner2'));
  const slug = new URL(page.url()).pathname.split('/')[2];
  const memberEmail = uniqueEmail('member');
  const member = await newPage(env.browser);
  await signUp(member, env.server.url, memberEmail);
  await page.goto(`${page.url()}/settings`);
  await hydrated(page);
  await page.getByLabel('Email').fill(memberEmail);
  await page.getByRole('button', { name: 'Add member' }).click();
  await page.getByTestId('member-row').filter({ hasText: memberEmail }).waitFor();

  await member.goto(`${env.server.url}/w/${slug}/settings`);
  await hydrated(member);
  await member.getByText('Admins and owners make keys for the management API').waitFor();
  assert.equal(await member.getByTestId('management-keys').count(), 0);
  assert.equal(await member.getByTestId('key-alerts').count(), 0);
  const status = await member.evaluate(async (slug) => {
    const body = new URLSearchParams([['slug', slug], ['name', 'sneaky'], ['expiry', '30d'], ['scopes[]', 'keys:read']]);
    return (await fetch('/api/management/create', { method: 'POST', body })).status;
  }, slug);
  assert.equal(status, 403);
  assert.deepEqual(unexpected(member.errors, 403), []);
});
