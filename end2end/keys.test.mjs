// API keys in a real browser: create, reveal once, copy, reload (only the hint remains), use the
// key against /v1/whoami, revoke it, and see it refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serverAndBrowser, newPage, hydrated, signUp, uniqueEmail } from './harness.mjs';

const env = serverAndBrowser();

async function whoami(key) {
  const res = await fetch(`${env.server.url}/v1/whoami`, { headers: { Authorization: `Bearer ${key}` } });
  return { status: res.status, body: await res.json() };
}

test('create, reveal once, copy, reload, revoke', async () => {
  const page = await newPage(env.browser, { permissions: ['clipboard-read', 'clipboard-write'] });
  await signUp(page, env.server.url, uniqueEmail('kai'));
  const keysUrl = `${page.url()}/keys`;
  await page.goto(keysUrl);
  await hydrated(page);
  await page.getByTestId('keys-empty').waitFor();

  await page.getByTestId('create-key').locator('summary').click();
  await page.getByLabel('Name').first().fill('Nightly export');
  await page.getByLabel('agents:read').check();
  await page.getByLabel('runs:read').check();
  await page.getByLabel('Expires').selectOption('30d');
  await page.getByRole('button', { name: 'Create key' }).click();

  const reveal = page.getByTestId('key-reveal');
  await reveal.waitFor();
  assert.match(await reveal.textContent(), /only time it is shown/);
  const key = await page.getByTestId('new-key').inputValue();
  assert.match(key, /^pk_live_[0-9A-Za-z]{61}$/);
  await page.getByTestId('copy-key').click();
  await page.getByText('Copied').waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), key);

  const row = page.getByTestId('key-row').first();
  await row.waitFor();
  const hint = await row.getByTestId('key-hint').textContent();
  assert.equal(hint, `${key.slice(0, 12)}…${key.slice(-4)}`);

  const ok = await whoami(key);
  assert.equal(ok.status, 200);
  assert.deepEqual(ok.body.scopes, ['agents:read', 'runs:read']);
  assert.equal(ok.body.environment, 'live');

  // After a reload the key is gone for good: only its hint remains anywhere in the page.
  await page.reload();
  await hydrated(page);
  const html = await page.content();
  assert.ok(!html.includes(key), 'the full key must not be in the page after a reload');
  assert.ok(!html.includes(key.slice(12, 40)), 'no part of the secret either');
  assert.equal(await page.getByTestId('key-reveal').count(), 0);
  assert.equal(await page.getByTestId('key-hint').first().textContent(), hint);
  assert.equal(await page.getByTestId('key-status').first().textContent(), 'Active');

  // Edit: the form is drawn when the popover first opens; the change applies to the next request.
  const editRow = page.getByTestId('key-row').first();
  await editRow.getByText('Edit', { exact: true }).click();
  await editRow.getByLabel('Name').fill('Nightly export v2');
  await editRow.getByLabel('runs:read').uncheck();
  await editRow.getByRole('button', { name: 'Save changes' }).click();
  await page.getByTestId('key-row').first().getByText('Nightly export v2', { exact: true }).waitFor();
  const edited = await whoami(key);
  assert.deepEqual(edited.body.scopes, ['agents:read']);

  // Revoke, with a confirmation step.
  await page.getByTestId('key-row').first().getByText('Revoke', { exact: true }).click();
  await page.getByRole('button', { name: 'Revoke key' }).click();
  await page.getByTestId('key-status').filter({ hasText: 'Revoked' }).waitFor();
  const revoked = await whoami(key);
  assert.equal(revoked.status, 410);
  assert.equal(revoked.body.code, 'KEY_REVOKED');

  // The status filter shows it under Revoked only.
  await page.getByRole('link', { name: /^Active/ }).click();
  await page.getByText('No keys with this status.').waitFor();
  await page.getByRole('link', { name: /^Revoked/ }).click();
  // The list for a status comes from the server: wait for it, then count.
  await page.waitForURL(/[?&]status=revoked/);
  await page.getByTestId('key-row').first().waitFor();
  assert.equal(await page.getByTestId('key-row').count(), 1);
  assert.deepEqual(page.errors, []);
});

test('a key needs a name and a scope', async () => {
  const page = await newPage(env.browser);
  await signUp(page, env.server.url, uniqueEmail('lin'));
  await page.goto(`${page.url()}/keys`);
  await hydrated(page);
  await page.getByTestId('create-key').locator('summary').click();
  await page.getByRole('button', { name: 'Create key' }).click();
  await page.getByText('Give the key a name').waitFor();
  await page.getByLabel('Name').first().fill('No scopes');
  await page.getByRole('button', { name: 'Create key' }).click();
  await page.getByText('Choose at least one scope.').waitFor();
  assert.equal(await page.getByTestId('key-reveal').count(), 0);
});

test('roll a key: the new one is revealed, the old one keeps working through its grace', async () => {
  const page = await newPage(env.browser);
  await signUp(page, env.server.url, uniqueEmail('mo'));
  await page.goto(`${page.url()}/keys`);
  await hydrated(page);
  await page.getByTestId('create-key').locator('summary').click();
  await page.getByLabel('Name').first().fill('Deploy bot');
  await page.getByLabel('runs:execute').check();
  await page.getByRole('button', { name: 'Create key' }).click();
  const oldKey = await page.getByTestId('new-key').inputValue();
  await page.getByRole('button', { name: 'I have stored it' }).click();

  await page.getByTestId('key-row').first().getByText('Roll', { exact: true }).click();
  await page.getByLabel('Grace period').selectOption('1h');
  await page.getByRole('button', { name: 'Roll key' }).click();
  await page.getByTestId('key-reveal').waitFor();
  const newKey = await page.getByTestId('new-key').inputValue();
  assert.notEqual(newKey, oldKey);
  assert.equal((await whoami(newKey)).status, 200);
  assert.equal((await whoami(oldKey)).status, 200, 'the old key works during its grace period');
  await page.getByTestId('key-status').filter({ hasText: 'Expiring soon' }).waitFor();
});

test('an owner limits key lifetimes, and the key form follows', async () => {
  const page = await newPage(env.browser);
  await signUp(page, env.server.url, uniqueEmail('ned'));
  const base = page.url();
  await page.goto(`${base}/settings`);
  await hydrated(page);
  await page.getByLabel('Longest key lifetime (days)').fill('30');
  await page.getByRole('button', { name: 'Save policy' }).click();
  await page.getByText('Saved.').waitFor();

  await page.goto(`${base}/keys`);
  await hydrated(page);
  await page.getByTestId('create-key').locator('summary').click();
  await page.getByText('This workspace allows keys to live at most 30 days.').waitFor();
  assert.equal(await page.locator('#new-key-expiry option[value="never"]').count(), 0);
  await page.locator('#field-name').fill('Too long');
  await page.getByLabel('runs:read').check();
  await page.getByLabel('Expires').selectOption('1y');
  await page.getByRole('button', { name: 'Create key' }).click();
  await page.getByText('at most 30 days', { exact: false }).last().waitFor();
  assert.equal(await page.getByTestId('key-reveal').count(), 0);
  await page.getByLabel('Expires').selectOption('30d');
  await page.getByRole('button', { name: 'Create key' }).click();
  await page.getByTestId('key-reveal').waitFor();
});

test('a key limited to one agent', async () => {
  const page = await newPage(env.browser);
  await signUp(page, env.server.url, uniqueEmail('ola'));
  const keysUrl = `${page.url()}/keys`;
  await page.goto(keysUrl);
  await hydrated(page);
  await page.getByTestId('create-key').locator('summary').click();
  await page.locator('#field-name').fill('Builder');
  await page.getByLabel('agents:write').check();
  await page.getByRole('button', { name: 'Create key' }).click();
  const builder = await page.getByTestId('new-key').inputValue();

  // Make an agent through MCP with that key.
  const res = await fetch(`${env.server.url}/mcp`, {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${builder}`,
      'Content-Type': 'application/json',
      Accept: 'application/json, text/event-stream',
      'MCP-Protocol-Version': '2025-06-18',
    },
    body: JSON.stringify({
      jsonrpc: '2.0', id: 1, method: 'tools/call',
      params: { name: 'create_agent', arguments: { name: 'Billing bot', graph: { nodes: [{ id: 'in', type: 'input' }], edges: [] } } },
    }),
  });
  const agentId = (await res.json()).result.structuredContent.id;

  await page.reload();
  await hydrated(page);
  await page.getByTestId('create-key').locator('summary').click();
  await page.locator('#field-name').fill('Billing only');
  // Each key row's edit form has the same pickers, so the create form's boxes are found by id.
  await page.locator('#new-scope-agents-read').check();
  await page.locator(`#new-resource-${agentId}`).check();
  await page.getByRole('button', { name: 'Create key' }).click();
  const limited = await page.getByTestId('new-key').inputValue();
  await page.getByTestId('key-limited').filter({ hasText: 'Limited to: Billing bot' }).waitFor();
  const who = await whoami(limited);
  assert.deepEqual(who.body.resources, [agentId]);
});
