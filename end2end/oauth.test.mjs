// OAuth in the browser: a real MCP client library (the official TypeScript SDK) discovers,
// registers, is approved on the consent page, calls /mcp and refreshes; the consent page's
// approve, deny, workspace choice and sign-in detour; the Connectors page (move, remove); and the
// device verification page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { auth, UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { serverAndBrowser, newPage, hydrated, signUp, uniqueEmail, PASSWORD } from './harness.mjs';
import { MemoryProvider } from './oauth-provider.mjs';

const env = serverAndBrowser();
// Nothing listens here: the browser's visit to it is answered by page.route().
const REDIRECT = 'http://127.0.0.1:9/callback';

/** Visits an authorization URL in the page, approves (choosing `workspace` if given), and returns the URL the browser was sent back to. */
async function approveIn(page, authUrl, { workspace, deny = false } = {}) {
  await page.route(`${REDIRECT}**`, (route) => route.fulfill({ status: 200, contentType: 'text/plain', body: 'back at the app' }));
  await page.goto(authUrl.toString());
  await hydrated(page);
  if (workspace) await page.getByLabel('Workspace it may use').selectOption({ label: workspace });
  const back = page.waitForURL((u) => u.toString().startsWith(REDIRECT));
  await page.getByRole('button', { name: deny ? 'Deny' : 'Approve' }).click();
  await back;
  return new URL(page.url());
}

const base64url = (buf) => buf.toString('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

/** Registers a public client and builds an authorization URL with PKCE. */
async function startAuthorization(scope) {
  const base = env.server.url;
  const reg = await fetch(`${base}/oauth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: 'Browser Test Host', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' }),
  });
  assert.equal(reg.status, 201);
  const client = await reg.json();
  const verifier = base64url(randomBytes(40));
  const url = new URL(`${base}/oauth/authorize`);
  url.search = new URLSearchParams({
    client_id: client.client_id,
    redirect_uri: REDIRECT,
    response_type: 'code',
    scope,
    state: 'st4te',
    code_challenge: base64url(createHash('sha256').update(verifier).digest()),
    code_challenge_method: 'S256',
  }).toString();
  return { clientId: client.client_id, verifier, url };
}

async function exchange({ clientId, verifier }, code) {
  const res = await fetch(`${env.server.url}/oauth/token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: clientId, code_verifier: verifier }),
  });
  assert.equal(res.status, 200);
  return res.json();
}

async function whoami(accessToken) {
  const res = await fetch(`${env.server.url}/v1/whoami`, { headers: { authorization: `Bearer ${accessToken}` } });
  return { status: res.status, body: await res.json() };
}

async function newWorkspace(page, name) {
  await page.goto(`${env.server.url}/workspaces/new`);
  await hydrated(page);
  await page.getByLabel('Workspace name').fill(name);
  await page.getByRole('button', { name: /Create workspace/ }).click();
  await page.waitForURL(/\/w\/[a-z0-9-]+$/);
  // The new workspace's data loads in the browser; let it finish before the test moves on.
  await page.waitForLoadState('networkidle');
  return new URL(page.url()).pathname.replace('/w/', '');
}

test('the MCP TypeScript SDK discovers, registers, is approved, calls /mcp and refreshes', async () => {
  const base = env.server.url;
  const provider = new MemoryProvider({ name: 'SDK Test Host', redirect: REDIRECT });
  const first = new Client({ name: 'sdk-oauth', version: '1.0.0' });
  await assert.rejects(first.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { authProvider: provider })), UnauthorizedError);
  assert.ok(provider.clientInformation()?.client_id?.startsWith('gcl_'), 'registered through DCR');
  assert.ok(provider.authUrl, 'the SDK asked to open the authorization URL');

  const page = await newPage(env.browser);
  await signUp(page, base, uniqueEmail('sdk-oauth'));
  const back = await approveIn(page, provider.authUrl);
  assert.equal(back.searchParams.get('iss'), base);
  const transport = new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { authProvider: provider });
  await transport.finishAuth(back.searchParams.get('code'));
  assert.ok(provider.tokens().access_token.startsWith('gat_'));
  assert.ok(provider.tokens().refresh_token.startsWith('grt_'), 'offline_access was asked for and granted');

  const client = new Client({ name: 'sdk-oauth', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { authProvider: provider }));
  const { tools } = await client.listTools();
  assert.ok(tools.some((t) => t.name === 'list_agents'));
  const who = await client.callTool({ name: 'whoami', arguments: {} });
  assert.equal(who.structuredContent.connector.client_name, 'SDK Test Host');
  await client.close();

  // The SDK refreshes with its refresh token; the new access token works, the old pair is replaced.
  const before = provider.tokens();
  assert.equal(await auth(provider, { serverUrl: new URL(`${base}/mcp`) }), 'AUTHORIZED');
  assert.notEqual(provider.tokens().access_token, before.access_token);
  assert.notEqual(provider.tokens().refresh_token, before.refresh_token);
  const again = new Client({ name: 'sdk-oauth', version: '1.0.0' });
  await again.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { authProvider: provider }));
  assert.equal((await again.callTool({ name: 'whoami', arguments: {} })).isError, false);
  await again.close();
  assert.deepEqual(page.errors, []);
});

test('consent: sign in first, pick a workspace, approve; deny sends the app an error', async () => {
  const base = env.server.url;
  const email = uniqueEmail('consent');
  const page = await newPage(env.browser);
  await signUp(page, base, email);
  const second = await newWorkspace(page, 'Research');
  await page.context().clearCookies();

  // Signed out: the consent page sends the person to sign in, then back to the same request.
  const flow = await startAuthorization('agents:read runs:read');
  await page.goto(flow.url.toString());
  await page.waitForURL(/\/signin\?next=/);
  await hydrated(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/oauth\/consent\//);
  await hydrated(page);
  await assert.doesNotReject(page.getByTestId('consent-title').waitFor());
  assert.match(await page.getByTestId('consent-title').textContent(), /Browser Test Host wants to connect/);
  assert.equal(await page.getByTestId('consent-host').textContent(), '127.0.0.1');
  assert.match(await page.getByTestId('consent-scopes').textContent(), /List runs, wait for runs/);

  const consentUrl = page.url();
  const back = await approveIn(page, consentUrl, { workspace: 'Research' });
  assert.equal(back.searchParams.get('state'), 'st4te');
  const tokens = await exchange(flow, back.searchParams.get('code'));
  const who = await whoami(tokens.access_token);
  assert.equal(who.status, 200);
  assert.equal(who.body.workspace.slug, second, 'the chosen workspace');

  // Going back to the decided request says so and offers nothing to click.
  await page.goto(consentUrl);
  await hydrated(page);
  assert.match(await page.getByTestId('consent-decided').textContent(), /already approved/);

  const denied = await startAuthorization('agents:read');
  const deniedBack = await approveIn(page, denied.url, { deny: true });
  assert.equal(deniedBack.searchParams.get('error'), 'access_denied');
  assert.equal(deniedBack.searchParams.get('state'), 'st4te');
  assert.equal(deniedBack.searchParams.get('code'), null);
  assert.deepEqual(page.errors, []);
});

test('connectors page: a connection is listed, moved to another workspace, and removed', async () => {
  const base = env.server.url;
  const page = await newPage(env.browser);
  await signUp(page, base, uniqueEmail('connectors'));
  const first = new URL(page.url()).pathname.replace('/w/', '');
  await page.goto(`${base}/w/${first}/connectors`);
  await hydrated(page);
  await page.getByTestId('connectors-empty').waitFor();
  const second = await newWorkspace(page, 'Ops');

  const flow = await startAuthorization('agents:read offline_access');
  const back = await approveIn(page, flow.url);
  const tokens = await exchange(flow, back.searchParams.get('code'));
  const firstWho = await whoami(tokens.access_token);
  const bound = firstWho.body.workspace.slug;
  const other = bound === first ? second : first;

  await page.goto(`${base}/w/${bound}/connectors`);
  await hydrated(page);
  const row = page.getByTestId('connector-row');
  await row.waitFor();
  assert.equal(await row.getByTestId('connector-name').textContent(), 'Browser Test Host');
  assert.match(await row.getByTestId('connector-host').textContent(), /127\.0\.0\.1/);
  assert.match(await row.getByTestId('connector-meta').textContent(), /approved .* by /);

  // Move: the same token now acts in the other workspace.
  await row.getByText('Move', { exact: true }).click();
  await row.getByRole('button', { name: 'Move connector' }).click();
  await page.getByTestId('connector-note').waitFor();
  await page.getByTestId('connectors-empty').waitFor();
  assert.equal((await whoami(tokens.access_token)).body.workspace.slug, other);

  // Remove: its tokens stop at once.
  await page.goto(`${base}/w/${other}/connectors`);
  await hydrated(page);
  const moved = page.getByTestId('connector-row');
  await moved.waitFor();
  await moved.getByText('Remove', { exact: true }).click();
  await moved.getByRole('button', { name: 'Remove connector' }).click();
  await page.getByTestId('connectors-empty').waitFor();
  const after = await whoami(tokens.access_token);
  assert.equal(after.status, 401);
  assert.deepEqual(page.errors, []);
});

test('device page: the code is checked, a wrong one explained, and approval reaches the CLI', async () => {
  const base = env.server.url;
  const reg = await fetch(`${base}/oauth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: 'gatehouse-cli', grant_types: ['urn:ietf:params:oauth:grant-type:device_code'], token_endpoint_auth_method: 'none' }),
  });
  const { client_id } = await reg.json();
  const start = await fetch(`${base}/oauth/device_authorization`, { method: 'POST', body: new URLSearchParams({ client_id, scope: 'agents:read' }) });
  const device = await start.json();
  assert.match(device.user_code, /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);

  const page = await newPage(env.browser);
  await signUp(page, base, uniqueEmail('device'));
  // A wrong code is explained, and the form is there to try again.
  await page.goto(device.verification_uri);
  await hydrated(page);
  await page.getByLabel('Code').fill('BBBB-BBBB');
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByTestId('field-error').waitFor();
  assert.match(await page.getByTestId('field-error').textContent(), /No device is waiting for this code/);

  await page.getByLabel('Code').fill(device.user_code.toLowerCase());
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByTestId('device-title').waitFor();
  await hydrated(page);
  assert.equal(await page.getByTestId('device-code').textContent(), device.user_code);
  assert.match(await page.getByTestId('device-title').textContent(), /Connect gatehouse-cli\?/);
  await page.getByRole('button', { name: 'Approve' }).click();
  await page.getByTestId('device-done').waitFor();

  const poll = await fetch(`${base}/oauth/token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: device.device_code, client_id }),
  });
  assert.equal(poll.status, 200);
  const tokens = await poll.json();
  assert.equal((await whoami(tokens.access_token)).status, 200);
  assert.deepEqual(page.errors, []);
});
