// Starts pushsvc in test-double mode (TLS + cleartext listeners on port 0, test CA from
// tools/dev-cert.sh) for the sender interop tests, and talks to its control API
// (pushsvc/testdouble/README.md). Only the child started here is ever signalled, by its PID.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import https from 'node:https';
import http2 from 'node:http2';

export async function startTestDouble({ bin, source, profile = 'compat' }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pushsvc-td-'));
  execFileSync(path.join(source, 'tools/dev-cert.sh'), [path.join(dir, 'tls')], { stdio: 'ignore' });
  fs.writeFileSync(path.join(dir, 'pushsvc.toml'), `profile = "${profile}"
[server]
listen = "127.0.0.1:0"
tls_listen = "127.0.0.1:0"
tls_cert = "${dir}/tls/cert.pem"
tls_key = "${dir}/tls/key.pem"
[store]
path = "${dir}/data"
[log]
level = "warn"
[testdouble]
enabled = true
`);
  const ready = path.join(dir, 'ready.json');
  const child = spawn(bin, ['--config', path.join(dir, 'pushsvc.toml'), '--ready-file', ready],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d) => { log += d; });
  child.stderr.on('data', (d) => { log += d; });
  for (let i = 0; i < 100 && !fs.existsSync(ready); i++) await new Promise((r) => setTimeout(r, 100));
  if (!fs.existsSync(ready)) {
    child.kill('SIGKILL');
    throw new Error('pushsvc did not start:\n' + log);
  }
  const info = JSON.parse(fs.readFileSync(ready, 'utf8'));
  const ca = fs.readFileSync(path.join(dir, 'tls/ca.pem'));
  const agent = new https.Agent({ ca, keepAlive: false });
  const svc = {
    origin: info.origin, ca, agent, dir, caFile: path.join(dir, 'tls/ca.pem'),
    log: () => log,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => { child.once('exit', r); setTimeout(r, 5000); });
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
    // One HTTP/1.1 request over TLS; headers are sent with the exact name spelling given.
    request(method, url, { headers = [], body } = {}) {
      return new Promise((resolve, reject) => {
        const u = new URL(url);
        const req = https.request({ method, host: u.hostname, port: u.port, path: u.pathname + u.search,
          agent, setHost: true }, (res) => {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode, headers: res.headers,
            body: Buffer.concat(chunks) }));
        });
        req.on('error', reject);
        for (const [n, v] of headers) req.setHeader(n, String(v));
        if (body !== undefined && body !== null && !headers.some(([n]) => /^content-length$/i.test(n)))
          req.setHeader('Content-Length', Buffer.byteLength(body));
        req.end(body === undefined || body === null ? undefined : Buffer.from(body));
      });
    },
    // One HTTP/2 request over TLS (ALPN h2); header names are lower-cased as HTTP/2 requires.
    request2(method, url, { headers = [], body } = {}) {
      return new Promise((resolve, reject) => {
        const u = new URL(url);
        const client = http2.connect(u.origin, { ca });
        client.on('error', reject);
        const h = { ':method': method, ':path': u.pathname + u.search };
        for (const [n, v] of headers) if (!/^(content-length|host|connection)$/i.test(n)) h[n.toLowerCase()] = String(v);
        const stream = client.request(h);
        const chunks = [];
        let status = 0; let resHeaders = {};
        stream.on('response', (hs) => { status = hs[':status']; resHeaders = hs; });
        stream.on('data', (c) => chunks.push(c));
        stream.on('end', () => { client.close(); resolve({ status, headers: resHeaders, body: Buffer.concat(chunks) }); });
        stream.on('error', (e) => { client.close(); reject(e); });
        stream.end(body === undefined || body === null ? undefined : Buffer.from(body));
      });
    },
    async control(method, p, json) {
      const r = await svc.request(method, svc.origin + '/_testdouble' + p,
        json === undefined ? {} : { headers: [['Content-Type', 'application/json']], body: JSON.stringify(json) });
      if (r.status >= 300) throw new Error(`control ${method} ${p}: ${r.status} ${r.body}`);
      return r.body.length ? JSON.parse(r.body) : null;
    },
    // An in-service subscription (browser-format JSON + id), optionally restricted to a key.
    subscribe(applicationServerKey) {
      return svc.control('POST', '/subscriptions', applicationServerKey ? { applicationServerKey } : {});
    },
    async messages(id) {
      return (await svc.control('GET', `/subscriptions/${id}/messages`)).messages;
    },
  };
  return svc;
}

export function args() {
  const out = {};
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i += 2) out[a[i].replace(/^--/, '')] = a[i + 1];
  return out;
}
