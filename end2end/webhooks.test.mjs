// The Webhooks page in the browser, with a real receiver on this machine: add an endpoint (and be
// told why a bad URL is refused), see its secret, send a test event that arrives signed (checked
// here with Node's crypto, as docs/webhooks.md shows), watch the delivery log, redeliver, roll the
// secret.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { serverAndBrowser, newPage, hydrated, signUp, uniqueEmail } from './harness.mjs';

// The receiver listens on 127.0.0.1, which Gatehouse refuses unless the operator allows it.
process.env.GATEHOUSE_WEBHOOKS_ALLOW_PRIVATE = 'true';
const env = serverAndBrowser();
const received = [];
let receiver;
let hookUrl;
before(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
  hookUrl = `http://127.0.0.1:${receiver.address().port}/hooks/gatehouse`;
});
after(() => receiver?.close());

/** docs/webhooks.md's Node.js example. */
function verify(header, rawBody, secret, tolerance = 300) {
  const parts = header.split(',').map((p) => p.split('='));
  const t = parts.find(([k]) => k === 't')?.[1];
  if (!t || Math.abs(Date.now() / 1000 - Number(t)) > tolerance) return false;
  const expected = createHmac('sha256', secret).update(`${t}.`).update(rawBody).digest();
  return parts
    .filter(([k]) => k === 'v1')
    .some(([, v]) => {
      const got = Buffer.from(v, 'hex');
      return got.length === expected.length && timingSafeEqual(got, expected);
    });
}

async function until(check, what) {
  for (let i = 0; i < 60; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`timed out waiting for ${what}`);
}

test('webhooks: add an endpoint, send a signed test event, see the log, redeliver, roll the secret', async () => {
  const base = env.server.url;
  const page = await newPage(env.browser);
  await signUp(page, base, uniqueEmail('hooks'));
  const slug = new URL(page.url()).pathname.split('/')[2];
  await page.getByRole('link', { name: 'Webhooks' }).first().click();
  await page.getByTestId('webhooks-empty').waitFor();
  await hydrated(page);

  // A bad URL is explained and nothing is added.
  await page.getByLabel('Endpoint URL').fill('ftp://example.com/hook');
  await page.getByRole('button', { name: 'Add endpoint' }).click();
  await page.getByTestId('field-error').first().waitFor();
  assert.match(await page.getByTestId('field-error').first().textContent(), /https:\/\//);

  await page.getByLabel('Endpoint URL').fill(hookUrl);
  await page.getByLabel('Description (optional)').fill('CI notifications');
  await page.getByRole('button', { name: 'Add endpoint' }).click();
  const row = page.getByTestId('webhook-row');
  await row.waitFor();
  assert.equal(await row.getByTestId('webhook-url').textContent(), hookUrl);
  await row.getByText('Signing secret').click();
  const secret = await row.getByTestId('webhook-secret').textContent();
  assert.match(secret, /^whsec_[0-9A-Za-z]{32}$/);

  await row.getByRole('button', { name: 'Send test event' }).click();
  await until(() => received.length >= 1, 'the test event');
  const first = received[0];
  assert.equal(first.headers['gatehouse-event'], 'webhook.test');
  assert.ok(verify(first.headers['gatehouse-signature'], Buffer.from(first.body), secret), 'signed with the shown secret');
  assert.ok(!verify(first.headers['gatehouse-signature'], Buffer.from(first.body), 'whsec_other'));

  // The delivery log shows the answer.
  await until(async () => {
    await page.reload();
    await hydrated(page);
    return (await page.getByTestId('delivery-row').first().getAttribute('data-status')) === 'succeeded';
  }, 'the delivery to be marked succeeded');
  assert.match(await page.getByTestId('delivery-response').first().textContent(), /HTTP 200/);

  // Redeliver: the same event again.
  await page.getByRole('button', { name: 'Redeliver' }).first().click();
  await until(() => received.length >= 2, 'the redelivery');
  assert.equal(JSON.parse(received[1].body).id, JSON.parse(first.body).id);

  // A key created now is an event too.
  const status = await page.evaluate(async (slug) => {
    const body = new URLSearchParams([['slug', slug], ['name', 'Hooked'], ['environment', 'live'], ['expiry', '30d'], ['scopes[]', 'runs:read']]);
    return (await fetch('/api/keys/create', { method: 'POST', body })).status;
  }, slug);
  assert.equal(status, 200);
  await until(() => received.some((r) => r.headers['gatehouse-event'] === 'key.created'), 'the key.created event');

  // Rolling the secret: both sign for a day, and the page says so.
  await page.getByTestId('webhook-row').getByText('Roll secret', { exact: true }).first().click();
  await page.getByTestId('webhook-row').getByRole('button', { name: 'Roll secret' }).click();
  await page.getByTestId('webhook-row').getByText('Signing secret').click();
  await page.getByTestId('webhook-overlap').waitFor();
  const rolled = await page.getByTestId('webhook-secret').textContent();
  assert.notEqual(rolled, secret);
  const before = received.length;
  await page.getByRole('button', { name: 'Send test event' }).click();
  await until(() => received.length > before, 'a delivery after the roll');
  const last = received[received.length - 1];
  assert.ok(verify(last.headers['gatehouse-signature'], Buffer.from(last.body), rolled));
  assert.ok(verify(last.headers['gatehouse-signature'], Buffer.from(last.body), secret), 'the old secret still signs');
  assert.deepEqual(page.errors.filter((e) => !e.includes('status of 422')), []);
});
