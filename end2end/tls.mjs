// A client's website over https for the browser and SDK tests: a certificate authority made for
// the run with Debian's openssl (Gatehouse under test trusts it through GATEHOUSE_OUTBOUND_CA_FILE),
// a certificate for localhost, and a small server answering JSON documents by path.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Makes the run's CA and a localhost certificate; returns file paths and PEM text. */
export function makeTestTls() {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-tls-'));
  const f = (name) => join(dir, name);
  const openssl = (...args) => execFileSync('openssl', args, { stdio: 'pipe' });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2',
    '-subj', '/CN=Gatehouse e2e CA (tests only)', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('site.key'), '-out', f('site.csr'), '-subj', '/CN=localhost');
  writeFileSync(f('site.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n');
  openssl('x509', '-req', '-in', f('site.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('site.pem'), '-days', '2', '-extfile', f('site.ext'));
  return {
    caFile: f('ca.pem'),
    key: readFileSync(f('site.key')),
    cert: readFileSync(f('site.pem')),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** An https server on localhost answering `documents[path]` as JSON; resolves with { base, url(path), hits, close }. */
export async function startSite(tls, documents = {}) {
  const hits = {};
  const server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    const path = new URL(req.url, 'https://localhost').pathname;
    hits[path] = (hits[path] ?? 0) + 1;
    const doc = documents[path];
    if (doc === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=300' }).end(JSON.stringify(doc));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `https://localhost:${server.address().port}`;
  return {
    base,
    url: (path) => `${base}${path}`,
    documents,
    hits,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
