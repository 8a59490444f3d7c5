// Cross-implementation checks between pushctl (tools/client) and npm web-push / http_ece:
//   1. pushctl send -> a capturing HTTP/1.1 and h2c server here -> decrypted with http_ece,
//      VAPID JWT verified with node:crypto (RFC 8291, RFC 8188, draft aesgcm, RFC 8292).
//   2. web-push / http_ece encrypt -> pushctl decrypt (both codings, records, padding).
//   3. Failures are clean: wrong auth secret, truncated body -> one line, non-zero exit.
// Usage: node tests/e2e/cross_ece.mjs --pushctl build/bin/pushctl
// Exit 77 (skipped) when node_modules is absent: run `npm ci --prefix tests/e2e` first.

import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
if (!fs.existsSync(path.join(here, 'node_modules', 'http_ece'))) {
  console.log('SKIP: tests/e2e/node_modules missing; run `npm ci --prefix tests/e2e`');
  process.exit(77);
}
const require = createRequire(import.meta.url);
const ece = require('http_ece');
const webpush = require('web-push');

const argIndex = process.argv.indexOf('--pushctl');
const pushctl = argIndex > 0 ? process.argv[argIndex + 1] : process.env.PUSHCTL;
if (!pushctl || !fs.existsSync(pushctl)) {
  console.error('usage: cross_ece.mjs --pushctl PATH');
  process.exit(2);
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cross-ece-'));
let failures = 0;
let checks = 0;
function ok(cond, label) {
  checks++;
  if (cond) {
    console.log(`ok   ${label}`);
  } else {
    failures++;
    console.log(`FAIL ${label}`);
  }
}

function run(args, input) {
  return new Promise((resolve) => {
    const child = spawn(pushctl, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out = [];
    const err = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    child.on('close', (code) =>
      resolve({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString() }));
    if (input) child.stdin.write(input);
    child.stdin.end();
  });
}

const b64u = (buf) => Buffer.from(buf).toString('base64url');
const unb64u = (s) => Buffer.from(s.replace(/=+$/, ''), 'base64url');

function makeUa() {
  const ecdh = crypto.createECDH('prime256v1');
  ecdh.generateKeys();
  return { ecdh, auth: crypto.randomBytes(16) };
}

function verifyJwt(jwt, publicKeyB64u) {
  const [h, c, s] = jwt.split('.');
  const raw = unb64u(publicKeyB64u);
  const key = crypto.createPublicKey({
    key: { kty: 'EC', crv: 'P-256', x: b64u(raw.subarray(1, 33)), y: b64u(raw.subarray(33, 65)) },
    format: 'jwk',
  });
  const valid = crypto.verify('sha256', Buffer.from(`${h}.${c}`),
    { key, dsaEncoding: 'ieee-p1363' }, unb64u(s));
  return { valid, header: JSON.parse(unb64u(h)), claims: JSON.parse(unb64u(c)) };
}

function parseParams(value) {
  const out = {};
  for (const part of value.split(/[;,]/)) {
    const eq = part.indexOf('=');
    if (eq > 0) out[part.slice(0, eq).trim().toLowerCase()] = part.slice(eq + 1).trim().replace(/^"|"$/g, '');
  }
  return out;
}

// ---- capturing servers -------------------------------------------------------------------
const captured = [];
function handle(method, url, headers, body, respond) {
  captured.push({ method, url, headers, body });
  if (url.startsWith('/gone')) {
    respond(410, { 'content-type': 'application/json' },
      JSON.stringify({ code: 410, errno: 106, error: 'Gone', message: 'subscription expired' }));
  } else {
    respond(201, { location: `/m/${captured.length}`, ttl: headers.ttl || '0' }, '');
  }
}

const h1 = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (d) => chunks.push(d));
  req.on('end', () => handle(req.method, req.url, req.headers, Buffer.concat(chunks),
    (status, hdrs, body) => { res.writeHead(status, hdrs); res.end(body); }));
});
const h2 = http2.createServer();
h2.on('stream', (stream, headers) => {
  const chunks = [];
  stream.on('data', (d) => chunks.push(d));
  stream.on('end', () => handle(headers[':method'], headers[':path'], headers, Buffer.concat(chunks),
    (status, hdrs, body) => { stream.respond({ ':status': status, ...hdrs }); stream.end(body); }));
});
await new Promise((r) => h1.listen(0, '127.0.0.1', r));
await new Promise((r) => h2.listen(0, '127.0.0.1', r));
const ports = { http1: h1.address().port, http2: h2.address().port };

// ---- 1. pushctl send -> http_ece ---------------------------------------------------------
const keygen = await run(['vapid-keygen', '--json', '--pem', path.join(tmp, 'vapid.pem')]);
ok(keygen.code === 0, 'vapid-keygen exits 0');
const vapid = JSON.parse(keygen.stdout.toString());
ok(unb64u(vapid.publicKey).length === 65 && unb64u(vapid.privateKey).length === 32,
  'vapid-keygen prints a 65-octet public and 32-octet private key');
ok(crypto.createPrivateKey(fs.readFileSync(path.join(tmp, 'vapid.pem'))).asymmetricKeyDetails
  .namedCurve === 'prime256v1', 'vapid-keygen --pem writes a P-256 PEM node can read');

const payloads = {
  short: Buffer.from('hello from pushctl'),
  binary: crypto.randomBytes(3000),
  utf8: Buffer.from('gr\u00fc\u00dfe \u{1F600}'),
};
const cases = [];
for (const transport of ['http1', 'http2']) {
  for (const encoding of ['aes128gcm', 'aesgcm']) {
    for (const [name, payload] of Object.entries(payloads)) {
      cases.push({ transport, encoding, name, payload, extra: [] });
    }
    cases.push({ transport, encoding, name: 'multi-record+padding', payload: crypto.randomBytes(500),
      extra: ['--rs', '100', '--padding', '77'] });
  }
}
for (const c of cases) {
  const ua = makeUa();
  const sub = { endpoint: `http://127.0.0.1:${ports[c.transport]}/push/abc`,
    keys: { p256dh: b64u(ua.ecdh.getPublicKey()), auth: b64u(ua.auth) } };
  const subFile = path.join(tmp, 'sub.json');
  fs.writeFileSync(subFile, JSON.stringify(sub));
  const payloadFile = path.join(tmp, 'payload.bin');
  fs.writeFileSync(payloadFile, c.payload);
  const before = captured.length;
  const res = await run(['send', '-s', subFile, '-p', `@${payloadFile}`, '--encoding', c.encoding,
    '--vapid-key', path.join(tmp, 'vapid.pem'), '--subject', 'mailto:test@example.com',
    '--ttl', '60', '--urgency', 'high', '--topic', 'cross', `--${c.transport}`, ...c.extra]);
  const label = `${c.transport} ${c.encoding} ${c.name}`;
  ok(res.code === 0 && /Status: 201/.test(res.stdout) && /Location: \/m\/\d+/.test(res.stdout),
    `${label}: pushctl send prints 201 and Location (${res.stderr.trim()})`);
  const req = captured[before];
  if (!req) { ok(false, `${label}: request captured`); continue; }
  ok(req.headers['ttl'] === '60' && req.headers['urgency'] === 'high' && req.headers['topic'] === 'cross',
    `${label}: TTL, Urgency and Topic headers`);
  ok(req.headers['content-encoding'] === c.encoding, `${label}: Content-Encoding`);
  let plain;
  let jwt;
  let key;
  try {
    if (c.encoding === 'aes128gcm') {
      plain = ece.decrypt(req.body, { version: 'aes128gcm', privateKey: ua.ecdh, authSecret: b64u(ua.auth) });
      const m = /^vapid t=([^,]+),\s*k=(.+)$/.exec(req.headers['authorization']);
      jwt = m && m[1];
      key = m && m[2];
    } else {
      const enc = parseParams(req.headers['encryption']);
      const ck = parseParams(req.headers['crypto-key']);
      plain = ece.decrypt(req.body, { version: 'aesgcm', privateKey: ua.ecdh, dh: ck.dh,
        salt: enc.salt, rs: enc.rs ? Number(enc.rs) : undefined, authSecret: b64u(ua.auth) });
      const m = /^WebPush (.+)$/.exec(req.headers['authorization']);
      jwt = m && m[1];
      key = ck.p256ecdsa;
    }
  } catch (e) {
    plain = undefined;
    console.log(`     http_ece: ${e.message}`);
  }
  ok(plain && Buffer.compare(plain, c.payload) === 0, `${label}: http_ece decrypts pushctl's body`);
  const v = jwt && key ? verifyJwt(jwt, key) : { valid: false, claims: {} };
  ok(v.valid && key === vapid.publicKey, `${label}: VAPID ES256 signature verifies with node:crypto`);
  const now = Date.now() / 1000;
  ok(v.claims.aud === `http://127.0.0.1:${ports[c.transport]}` && v.claims.sub === 'mailto:test@example.com' &&
    v.claims.exp > now && v.claims.exp <= now + 86400, `${label}: JWT aud/exp/sub`);
}

{
  const ua = makeUa();
  const sub = JSON.stringify({ endpoint: `http://127.0.0.1:${ports.http1}/gone/x`,
    keys: { p256dh: b64u(ua.ecdh.getPublicKey()), auth: b64u(ua.auth) } });
  const res = await run(['send', '-s', sub, '-p', 'x']);
  ok(res.code === 2 && /Status: 410/.test(res.stdout) && /subscription expired/.test(res.stdout),
    'non-2xx answer: exit 2, status and error body printed');
  const tickle = await run(['send', '-s', sub.replace('/gone/', '/push/')]);
  const req = captured[captured.length - 1];
  ok(tickle.code === 0 && req.body.length === 0 && !req.headers['content-encoding'],
    'no payload: empty body without Content-Encoding');
}

// ---- 2. web-push / http_ece -> pushctl decrypt --------------------------------------------
const decryptCases = [];
for (const encoding of ['aes128gcm', 'aesgcm']) {
  decryptCases.push({ encoding, name: 'web-push', payload: Buffer.from('hello from web-push'), via: 'web-push' });
  decryptCases.push({ encoding, name: 'web-push 3000 octets', payload: crypto.randomBytes(3000), via: 'web-push' });
  decryptCases.push({ encoding, name: 'http_ece rs=50 pad=30', payload: crypto.randomBytes(400), via: 'ece', rs: 50, pad: 30 });
  decryptCases.push({ encoding, name: 'http_ece empty', payload: Buffer.alloc(0), via: 'ece', rs: 4096, pad: 0 });
}
for (const c of decryptCases) {
  const ua = makeUa();
  let body;
  let encryption = '';
  let cryptoKey = '';
  if (c.via === 'web-push') {
    const details = webpush.generateRequestDetails(
      { endpoint: 'https://push.example.net/p/1', keys: { p256dh: b64u(ua.ecdh.getPublicKey()), auth: b64u(ua.auth) } },
      c.payload, { contentEncoding: c.encoding,
        vapidDetails: { subject: 'mailto:a@example.com', publicKey: vapid.publicKey, privateKey: vapid.privateKey } });
    body = details.body;
    encryption = details.headers['Encryption'] || '';
    cryptoKey = details.headers['Crypto-Key'] || '';
  } else {
    const sender = crypto.createECDH('prime256v1');
    sender.generateKeys();
    const salt = crypto.randomBytes(16);
    body = ece.encrypt(c.payload, { version: c.encoding, privateKey: sender, dh: b64u(ua.ecdh.getPublicKey()),
      salt: b64u(salt), authSecret: b64u(ua.auth), rs: c.rs, pad: c.pad });
    if (c.encoding === 'aesgcm') {
      encryption = `salt=${b64u(salt)};rs=${c.rs}`;
      cryptoKey = `dh=${b64u(sender.getPublicKey())}`;
    }
  }
  const file = path.join(tmp, 'body.bin');
  fs.writeFileSync(file, body);
  // node's ECDH.getPrivateKey() drops leading zero octets (1 key in 256): a P-256 private key
  // is 32 octets (SEC 1 §2.3.7), so pad it as any sender library would store it.
  const priv = ua.ecdh.getPrivateKey();
  const priv32 = Buffer.concat([Buffer.alloc(32 - priv.length), priv]);
  const args = ['decrypt', '--body', `@${file}`, '--private-key', b64u(priv32),
    '--auth', b64u(ua.auth), '--encoding', c.encoding];
  if (encryption) args.push('--encryption', encryption);
  if (cryptoKey) args.push('--crypto-key', cryptoKey);
  const res = await run(args);
  ok(res.code === 0 && Buffer.compare(res.stdout, c.payload) === 0,
    `${c.encoding} ${c.name}: pushctl decrypt recovers the plaintext ${res.stderr.trim()}`);
  if (c.name === 'web-push') {
    const wrong = [...args];
    wrong[wrong.indexOf('--auth') + 1] = b64u(crypto.randomBytes(16));
    const bad = await run(wrong);
    ok(bad.code !== 0 && bad.stdout.length === 0 && bad.stderr.trim().split('\n').length === 1,
      `${c.encoding}: wrong auth secret fails with one line: ${bad.stderr.trim()}`);
    fs.writeFileSync(file, body.subarray(0, body.length - 5));
    const cut = await run(args);
    ok(cut.code !== 0 && cut.stdout.length === 0, `${c.encoding}: truncated body fails: ${cut.stderr.trim()}`);
  }
}

h1.close();
h2.close();
fs.rmSync(tmp, { recursive: true, force: true });
console.log(`${checks - failures}/${checks} checks passed`);
process.exit(failures === 0 ? 0 : 1);
