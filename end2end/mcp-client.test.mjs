// The MCP endpoint driven by the official TypeScript SDK's client, with an API key, the way a
// developer's MCP host would connect: initialize, list the tools, call one.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startServer, signUpWithKey } from './harness.mjs';

let server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

const createKey = (scopes) => signUpWithKey(server.url, scopes, 'sdk');

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
