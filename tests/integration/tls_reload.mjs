// Certificate reload on SIGHUP without dropping anyone: pushsvc starts with certificate A and
// an HTTP/2 client connects and keeps its connection; the files are replaced with certificate
// B and pushsvc gets SIGHUP. Once the reload is logged, a new handshake presents B (by SHA-256
// fingerprint), the old connection still answers requests (and reports the reload in
// pushsvc_tls_reloads_total{result="ok"}); then a key that does not match the certificate +
// SIGHUP is refused with a log line and B stays. Node's own TLS and HTTP/2 stack is the client.
// Usage: node tls_reload.mjs --bin BUILD/bin/pushsvc
import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http2 from 'node:http2';
import os from 'node:os';
import path from 'node:path';

const bin = process.argv[process.argv.indexOf('--bin') + 1];
if (!bin || !fs.existsSync(bin)) {
  console.error('usage: tls_reload.mjs --bin PATH/TO/pushsvc');
  process.exit(2);
}
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tls-reload-'));
let child;
let failures = 0;
function ok(cond, label) {
  if (!cond) failures++;
  console.log(`${cond ? 'ok  ' : 'FAIL'} ${label}`);
}
function cleanup() {
  if (child && child.exitCode === null) child.kill('SIGKILL');  // only the child we started
  fs.rmSync(tmp, { recursive: true, force: true });
}
// Every wait below is bounded; this bounds the whole test as well.
const overall = setTimeout(() => {
  console.log('FAIL: timed out after 60 s');
  cleanup();
  process.exit(1);
}, 60_000);

function makeCert(name) {
  const key = path.join(tmp, `${name}.key`);
  const cert = path.join(tmp, `${name}.pem`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
    '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', `/CN=${name}`,
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
  const pem = fs.readFileSync(cert);
  return { key: fs.readFileSync(key), cert: pem, fingerprint: new crypto.X509Certificate(pem).fingerprint256 };
}
const certA = makeCert('cert-a');
const certB = makeCert('cert-b');
const certFile = path.join(tmp, 'server.pem');
const keyFile = path.join(tmp, 'server.key');
// Replaced the way certbot and friends do it: write aside, rename over.
function install(cert, key) {
  fs.writeFileSync(`${certFile}.new`, cert);
  fs.writeFileSync(`${keyFile}.new`, key);
  fs.renameSync(`${certFile}.new`, certFile);
  fs.renameSync(`${keyFile}.new`, keyFile);
}
install(certA.cert, certA.key);
const config = path.join(tmp, 'pushsvc.toml');
fs.writeFileSync(config, `[server]
listen = ""
tls_listen = "127.0.0.1:0"
tls_cert = "${certFile}"
tls_key = "${keyFile}"
[store]
path = "${path.join(tmp, 'data')}"
`);

let output = '';
const waiters = [];
child = spawn(bin, ['--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
for (const stream of [child.stdout, child.stderr]) {
  stream.on('data', (d) => {
    output += d;
    for (const w of [...waiters]) w();
  });
}
// Resolves with the first match of `re` in the output after offset `from` (the log is the
// event: no sleeping); rejects after `ms` or when the child exits.
function waitFor(re, from, ms = 10_000) {
  return new Promise((resolve, reject) => {
    const check = () => {
      const m = output.slice(from).match(re);
      if (m) {
        waiters.splice(waiters.indexOf(check), 1);
        clearTimeout(timer);
        resolve(m);
      }
    };
    const timer = setTimeout(() => {
      waiters.splice(waiters.indexOf(check), 1);
      reject(new Error(`no ${re} in the log within ${ms} ms:\n${output.slice(from)}`));
    }, ms);
    waiters.push(check);
    child.once('exit', () => reject(new Error(`pushsvc exited:\n${output}`)));
    check();
  });
}

// A new HTTP/2 connection; resolves with the session and the fingerprint it was shown.
// Verification is off on purpose: the assertion is the fingerprint itself.
function connect(port) {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false });
    session.once('error', reject);
    session.once('connect', () => resolve({ session, fingerprint: session.socket.getPeerCertificate().fingerprint256 }));
  });
}
function get(session, p) {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':path': p });
    let body = '';
    let status = 0;
    req.setEncoding('utf8');
    req.on('response', (h) => { status = h[':status']; });
    req.on('data', (d) => { body += d; });
    req.on('end', () => resolve({ status, body }));
    req.on('error', reject);
  });
}
const reloads = (metrics, result) => {
  const m = metrics.match(new RegExp(`^pushsvc_tls_reloads_total\\{result="${result}"\\} (\\d+)$`, 'm'));
  return m ? Number(m[1]) : NaN;
};

try {
  const ready = await waitFor(/pushsvc ready: (\{.*\})/, 0);
  const port = Number(JSON.parse(ready[1]).tls.split(':').pop());

  const old = await connect(port);
  ok(old.fingerprint === certA.fingerprint, 'the first connection is shown certificate A');
  ok((await get(old.session, '/health')).status === 200, 'and serves a request');
  let closed = false;
  old.session.on('close', () => { closed = true; });

  // Reload to B.
  install(certB.cert, certB.key);
  let mark = output.length;
  child.kill('SIGHUP');
  const line = await waitFor(/TLS reload: new handshakes use .*sha256 ([0-9A-F:]+)/, mark);
  ok(line[1] === certB.fingerprint, 'the reload log line names certificate B by fingerprint');
  const fresh = await connect(port);
  ok(fresh.fingerprint === certB.fingerprint, 'a new handshake after SIGHUP presents certificate B');
  fresh.session.close();
  const afterOk = await get(old.session, '/metrics');
  ok(!closed && afterOk.status === 200, 'the connection made before the reload still serves requests');
  ok(reloads(afterOk.body, 'ok') === 1 && reloads(afterOk.body, 'error') === 0,
    'pushsvc_tls_reloads_total: ok 1, error 0');

  // A key that does not belong to the certificate: refused, B stays.
  install(certA.cert, certB.key);
  mark = output.length;
  child.kill('SIGHUP');
  await waitFor(/TLS reload failed, keeping the current certificate/, mark);
  const still = await connect(port);
  ok(still.fingerprint === certB.fingerprint, 'after a bad reload new handshakes still present B');
  still.session.close();
  // An unreadable certificate file: refused as well.
  fs.rmSync(certFile);
  mark = output.length;
  child.kill('SIGHUP');
  await waitFor(/TLS reload failed, keeping the current certificate/, mark);
  const afterBad = await get(old.session, '/metrics');
  ok(!closed && afterBad.status === 200, 'the first connection survived both failed reloads');
  ok(reloads(afterBad.body, 'ok') === 1 && reloads(afterBad.body, 'error') === 2,
    'pushsvc_tls_reloads_total: ok 1, error 2');
  const last = await connect(port);
  ok(last.fingerprint === certB.fingerprint, 'and B is still presented');
  last.session.close();
  old.session.close();

  child.kill('SIGTERM');
  const code = child.exitCode ?? await new Promise((r) => child.once('exit', (c) => r(c)));
  ok(code === 0, `pushsvc exits 0 on SIGTERM (got ${code})`);
} catch (e) {
  ok(false, e.message);
}
clearTimeout(overall);
cleanup();
console.log(failures ? `${failures} check(s) failed` : 'all checks passed');
process.exit(failures ? 1 : 0);
