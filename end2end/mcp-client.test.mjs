// The MCP endpoint driven by the official TypeScript SDK's client, with an API key, the way a
// developer's MCP host would connect: initialize, list the tools, call one.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startServer, uniqueEmail, PASSWORD } from './harness.mjs';

let server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

/** Signs up over HTTP and creates a key through the dashboard's server function. */
async function createKey(scopes) {
  const form = (pairs) => new URLSearchParams(pairs);
  const signUp = await fetch(`${server.url}/api/auth/sign_up`, {
    method: 'POST',
    body: form([['email', uniqueEmail('sdk')], ['password', PASSWORD]]),
    redirect: 'manual',
  });
  assert.equal(signUp.status, 200);
  const cookie = signUp.headers.get('set-cookie').split(';')[0];
  const slug = signUp.headers.get('location').replace('/w/', '');
  const created = await fetch(`${server.url}/api/keys/create`, {
    method: 'POST',
    headers: { cookie },
    body: form([['slug', slug], ['name', 'sdk'], ['environment', 'live'], ['expiry', '30d'], ...scopes.map((s) => ['scopes[]', s])]),
  });
  assert.equal(created.status, 200);
  return { slug, key: (await created.json()).secret };
}

function connect(key) {
  const transport = new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), {
    requestInit: { headers: { Authorization: `Bearer ${key}` } },
  });
  const client = new Client({ name: 'gatehouse-e2e', version: '1.0.0' });
  return { client, connected: client.connect(transport) };
}

test('the TypeScript SDK connects with an API key, lists tools and calls whoami', async () => {
  const { slug, key } = await createKey(['agents:read', 'runs:read']);
  const { client, connected } = connect(key);
  await connected;
  assert.equal(client.getServerVersion().name, 'gatehouse');
  const { tools } = await client.listTools();
  assert.ok(tools.some((t) => t.name === 'whoami'));
  const result = await client.callTool({ name: 'whoami', arguments: {} });
  assert.equal(result.isError, false);
  assert.equal(result.structuredContent.workspace.slug, slug);
  assert.deepEqual(result.structuredContent.scopes, ['agents:read', 'runs:read']);
  await client.close();
});

test('the SDK sees a bad key refused', async () => {
  const { key } = await createKey(['runs:read']);
  const { connected } = connect(key.slice(0, -1) + (key.endsWith('a') ? 'b' : 'a'));
  await assert.rejects(connected, /401|Unauthorized|invalid_token/i);
});
