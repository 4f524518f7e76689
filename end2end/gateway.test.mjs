// The gateway in a real browser: an admin adds her team's MCP server on the Servers page (here
// the reference server-everything from npm), tests the connection and sees its tools with their
// annotations, switches one off, makes a key that may reach only that server, and the official
// TypeScript SDK 2.x client calls it through /mcp/{slug} with that key — progress included.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { startServer, launchBrowser, newPage, hydrated, signUp, uniqueEmail } from './harness.mjs';

let upstream;
let upstreamUrl;
let server;
let browser;

const freePort = () =>
  new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

before(async () => {
  const port = await freePort();
  upstream = spawn('node', ['node_modules/@modelcontextprotocol/server-everything/dist/index.js', 'streamableHttp'], {
    env: { ...process.env, PORT: String(port) },
    stdio: 'ignore',
  });
  upstreamUrl = `http://127.0.0.1:${port}/mcp`;
  for (let i = 0; i < 100; i++) {
    const up = await fetch(upstreamUrl, { method: 'GET' }).then(() => true, () => false);
    if (up) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  // The upstream is on loopback: the dashboard may add it only with this setting.
  server = await startServer({ GATEHOUSE_UPSTREAMS_ALLOW_PRIVATE: 'true' });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
  upstream?.kill();
});

test('add a server, test it, switch a tool off, give a key that server, and call it with the SDK', async () => {
  const page = await newPage(browser);
  await signUp(page, server.url, uniqueEmail('gateway'));
  const slug = new URL(page.url()).pathname.replace('/w/', '');
  await page.goto(`${server.url}/w/${slug}/servers`);
  await hydrated(page);
  await page.getByTestId('servers-empty').waitFor();

  const add = page.getByTestId('server-add');
  await add.getByLabel('Name').fill('Everything');
  await add.getByLabel('Slug (optional)').fill('everything');
  await add.getByLabel('MCP URL').fill(upstreamUrl);
  await add.getByLabel('Credential headers (optional)').fill('Authorization: Bearer upstream-secret');
  await add.getByRole('button', { name: 'Add server' }).click();
  const row = page.getByTestId('server-row');
  await row.waitFor();
  assert.equal(await row.getByTestId('server-name').textContent(), 'Everything');
  assert.match(await row.getByTestId('server-endpoint').textContent(), /\/mcp\/everything$/);
  assert.match(await row.getByTestId('server-meta').textContent(), /sends Authorization/);
  assert.ok(!(await page.content()).includes('upstream-secret'), 'the credential is never shown again');

  await row.getByRole('button', { name: 'Test connection' }).click();
  const result = page.getByTestId('server-test');
  await result.waitFor();
  assert.match(await result.getByTestId('server-test-identity').textContent(), /Connected: mcp-servers\/everything/);
  const echo = result.getByTestId('server-tool').filter({ has: page.getByTestId('server-tool-name').getByText('echo', { exact: true }) });
  assert.match(await echo.textContent(), /read-only/);
  const getEnv = result.getByTestId('server-tool').filter({ has: page.getByTestId('server-tool-name').getByText('get-env', { exact: true }) });
  await getEnv.getByRole('button', { name: 'Switch off' }).click();
  await page.getByText('Switched off: get-env').waitFor();
  await page.getByTestId('server-health').getByText('up').waitFor();

  // A key that may reach only this server.
  await page.goto(`${server.url}/w/${slug}/keys`);
  await hydrated(page);
  await page.getByTestId('create-key').locator('summary').click();
  await page.getByLabel('Name').first().fill('Gateway script');
  await page.getByLabel('agents:read').check();
  await page.getByTestId('server-picker').getByLabel(/Everything/).check();
  await page.getByRole('button', { name: 'Create key' }).click();
  await page.getByTestId('key-reveal').waitFor();
  const key = await page.getByTestId('new-key').inputValue();
  assert.match(await page.getByTestId('key-servers').first().textContent(), /Reaches: everything/);

  const transport = new StreamableHTTPClientTransport(new URL(`${server.url}/mcp/everything`), {
    requestInit: { headers: { Authorization: `Bearer ${key}` } },
  });
  const client = new Client({ name: 'gateway-e2e', version: '1.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
  await client.connect(transport);
  const { tools } = await client.listTools();
  const names = tools.map((t) => t.name);
  assert.ok(names.includes('echo') && !names.includes('get-env'), names.join(','));
  const echoed = await client.callTool({ name: 'echo', arguments: { message: 'through the gateway' } });
  assert.equal(echoed.content[0].text, 'Echo: through the gateway');
  const progress = [];
  const long = await client.callTool(
    { name: 'trigger-long-running-operation', arguments: { duration: 1, steps: 2 } },
    { onprogress: (p) => progress.push(p.progress) },
  );
  assert.match(long.content[0].text, /completed/);
  assert.deepEqual(progress, [1, 2]);
  await client.close();

  // The Usage page counts the calls by server (written every few seconds).
  let servers = [];
  for (let i = 0; i < 40 && servers[0]?.calls !== 2; i++) {
    servers = await page.evaluate(async (slug) => {
      const body = new URLSearchParams([['slug', slug], ['range', '24h'], ['environment', 'live']]);
      return (await (await fetch('/api/usage/report', { method: 'POST', body })).json()).servers;
    }, slug);
    if (servers[0]?.calls !== 2) await new Promise((r) => setTimeout(r, 250));
  }
  await page.goto(`${server.url}/w/${slug}/usage`);
  await hydrated(page);
  assert.match(await page.getByTestId('usage-by-server').textContent(), /everything\s*2\s*0/);
  assert.match(await page.getByTestId('usage-by-tool').textContent(), /everything__echo\s*1\s*0/);
  assert.deepEqual(page.errors, []);
});
