// The current SDKs against /mcp: the official TypeScript SDK 2.x client and the Python SDK 2.x
// client speak revision 2026-07-28 with an API key — beside a 2025-11-25 client on the same
// endpoint — and both complete OAuth identifying themselves by a client ID metadata document, which
// this test serves over https; the consent page shows such a client as verified.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { Client, StreamableHTTPClientTransport, UnauthorizedError } from '@modelcontextprotocol/client';
import { startServer, launchBrowser, newPage, hydrated, signUp, signUpWithKey, uniqueEmail } from './harness.mjs';
import { MemoryProvider } from './oauth-provider.mjs';
import { makeTestTls, startSite } from './tls.mjs';

const PYTHON = process.env.GATEHOUSE_PYTHON ?? '.venv/bin/python';
// Nothing listens here: the browser's visit to it is answered by page.route().
const REDIRECT = 'http://127.0.0.1:9/callback';

let tls;
let site;
let server;
let browser;
before(async () => {
  tls = makeTestTls();
  site = await startSite(tls);
  server = await startServer({ GATEHOUSE_OUTBOUND_CA_FILE: tls.caFile, GATEHOUSE_OAUTH_METADATA_ALLOW_LOOPBACK: 'true' });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
  await site?.close();
  tls?.cleanup();
});

const createKey = (scopes) => signUpWithKey(server.url, scopes, 'sdk2');

/** Runs the Python client; `onLine` sees each stdout line and may answer on stdin. Resolves with its JSON report. */
function runPython(args, onLine = async () => {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, ['end2end/python/mcp_client.py', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    let report;
    child.stderr.on('data', (c) => (stderr += c));
    createInterface({ input: child.stdout }).on('line', async (line) => {
      try {
        if (line.startsWith('{')) report = JSON.parse(line);
        else await onLine(line, child.stdin);
      } catch (e) {
        child.kill();
        reject(e);
      }
    });
    child.on('exit', (code) => (code === 0 && report ? resolve(report) : reject(new Error(`python exited ${code}:\n${stderr}`))));
  });
}

test('TypeScript SDK 2.x: 2026-07-28 pinned, auto and a 2025-11-25 handshake, one endpoint, one key', async () => {
  const { slug, key } = await createKey(['agents:read', 'runs:read']);
  const connect = async (versionNegotiation) => {
    const transport = new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), {
      requestInit: { headers: { Authorization: `Bearer ${key}` } },
    });
    const client = new Client({ name: 'gatehouse-e2e-2x', version: '1.0.0' }, versionNegotiation ? { versionNegotiation } : {});
    await client.connect(transport);
    return client;
  };
  for (const [negotiation, version, era] of [
    [{ mode: { pin: '2026-07-28' } }, '2026-07-28', 'modern'],
    [{ mode: 'auto' }, '2026-07-28', 'modern'],
    [undefined, '2025-11-25', 'legacy'],
  ]) {
    const client = await connect(negotiation);
    assert.equal(client.getNegotiatedProtocolVersion(), version, JSON.stringify(negotiation));
    assert.equal(client.getProtocolEra(), era);
    assert.equal(client.getServerVersion().name, 'gatehouse');
    const { tools } = await client.listTools();
    assert.ok(tools.some((t) => t.name === 'list_agents'));
    const who = await client.callTool({ name: 'whoami', arguments: {} });
    assert.equal(who.isError, false);
    assert.equal(who.structuredContent.workspace.slug, slug);
    await client.close();
  }
});

test('Python SDK 2.x: 2026-07-28, auto and legacy with a key', async () => {
  const { slug, key } = await createKey(['agents:read']);
  for (const [mode, version] of [['2026-07-28', '2026-07-28'], ['auto', '2026-07-28'], ['legacy', '2025-11-25']]) {
    const report = await runPython(['key', `${server.url}/mcp`, key, mode]);
    assert.equal(report.protocol, version, mode);
    assert.ok(report.tools.includes('whoami'));
    assert.equal(report.is_error, false);
    assert.equal(report.whoami.workspace.slug, slug);
  }
});

/** A client ID metadata document on the test's https site. */
function publishDocument(path, name) {
  const clientId = site.url(path);
  site.documents[path] = {
    client_id: clientId,
    client_name: name,
    client_uri: site.base,
    redirect_uris: [REDIRECT],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
  };
  return clientId;
}

/** Opens an authorization URL, checks the consent page shows the verified host, approves; returns where the browser went back to. */
async function approveVerified(page, authUrl, name) {
  await page.route(`${REDIRECT}**`, (route) => route.fulfill({ status: 200, contentType: 'text/plain', body: 'back at the app' }));
  await page.goto(authUrl.toString());
  await hydrated(page);
  assert.match(await page.getByTestId('consent-title').textContent(), new RegExp(`${name} wants to connect`));
  await page.getByTestId('consent-verified').waitFor();
  assert.match(await page.getByTestId('consent-identity').textContent(), /localhost/);
  assert.equal(await page.getByTestId('consent-unverified').count(), 0);
  const back = page.waitForURL((u) => u.toString().startsWith(REDIRECT));
  await page.getByRole('button', { name: 'Approve' }).click();
  await back;
  return new URL(page.url());
}

test('TypeScript SDK 2.x completes OAuth with a client ID metadata document; the consent page shows it verified', async () => {
  const clientId = publishDocument('/ts-host.json', 'TS Metadata Host');
  const provider = new MemoryProvider({ name: 'TS Metadata Host', redirect: REDIRECT, clientMetadataUrl: clientId });
  const url = new URL(`${server.url}/mcp`);
  const modern = { versionNegotiation: { mode: { pin: '2026-07-28' } } };
  const first = new Client({ name: 'ts-cimd', version: '1.0.0' }, modern);
  await assert.rejects(first.connect(new StreamableHTTPClientTransport(url, { authProvider: provider })), UnauthorizedError);
  assert.equal(provider.authUrl.searchParams.get('client_id'), clientId, 'the metadata document URL is the client_id');

  const page = await newPage(browser);
  const email = uniqueEmail('ts-cimd');
  await signUp(page, server.url, email);
  const slug = new URL(page.url()).pathname.replace('/w/', '');
  const back = await approveVerified(page, provider.authUrl, 'TS Metadata Host');
  const transport = new StreamableHTTPClientTransport(url, { authProvider: provider });
  await transport.finishAuth(back.searchParams);
  assert.ok(provider.tokens().access_token.startsWith('gat_'));

  const client = new Client({ name: 'ts-cimd', version: '1.0.0' }, modern);
  await client.connect(new StreamableHTTPClientTransport(url, { authProvider: provider }));
  assert.equal(client.getNegotiatedProtocolVersion(), '2026-07-28');
  const who = await client.callTool({ name: 'whoami', arguments: {} });
  assert.equal(who.structuredContent.connector.client_id, clientId);
  assert.equal(who.structuredContent.workspace.slug, slug);
  await client.close();
  assert.ok(site.hits['/ts-host.json'] >= 1, 'Gatehouse fetched the document');

  // The connector is listed like any other.
  await page.goto(`${server.url}/w/${slug}/connectors`);
  await hydrated(page);
  const row = page.getByTestId('connector-row');
  await row.waitFor();
  assert.equal(await row.getByTestId('connector-name').textContent(), 'TS Metadata Host');
  assert.deepEqual(page.errors, []);
});

test('Python SDK 2.x completes OAuth with a client ID metadata document', async () => {
  const clientId = publishDocument('/py-host.json', 'Python Metadata Host');
  const page = await newPage(browser);
  await signUp(page, server.url, uniqueEmail('py-cimd'));
  const report = await runPython(['oauth', `${server.url}/mcp`, clientId, REDIRECT], async (line, stdin) => {
    if (!line.startsWith('AUTHORIZE ')) return;
    const authUrl = new URL(line.slice('AUTHORIZE '.length));
    assert.equal(authUrl.searchParams.get('client_id'), clientId);
    const back = await approveVerified(page, authUrl, 'Python Metadata Host');
    stdin.write(`CALLBACK ${back.toString()}\n`);
  });
  assert.equal(report.protocol, '2026-07-28');
  assert.equal(report.is_error, false);
  assert.equal(report.whoami.connector.client_id, clientId);
  assert.deepEqual(page.errors, []);
});
