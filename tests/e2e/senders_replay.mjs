// Replays the recorded request shapes of senders that cannot be installed here
// (tests/data/senders/*.json: pywebpush, webpush-go, web-push-php,
// webpush-java, rust web-push) against pushsvc in test-double mode (compat profile, TLS):
// exact header spellings and case over HTTP/1.1, lower case over HTTP/2, every auth form, aud
// with and without the port, TTL 0, empty bodies, 4096-octet and padded bodies (2838, 2922,
// 4180). Each must be accepted (201) and delivered: the in-service user agent decrypts it to
// the recorded payload. Checklist IDs: R8030-7.2-e, R8030-9-a, R8292-2-b (compat, A-9),
// R8292-2-d, R8292-2.1-a, R8292-3.1-a, RVAPID01-X-a, RENC04-4-f, R8291-X-b.
// Exit 77 (skipped) without tests/e2e/node_modules (http_ece encrypts the bodies).
import { createRequire } from 'node:module';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { startTestDouble, args } from './lib/testdouble_service.mjs';

const require = createRequire(import.meta.url);
let ece;
try { ece = require('http_ece'); } catch (e) {
  console.log('skipped: npm packages missing (npm ci --prefix tests/e2e)');
  process.exit(77);
}
const { bin, source } = args();
const dir = path.join(source, 'tests/data/senders');
const b64u = (b) => Buffer.from(b).toString('base64url');

// ES256 JWT (RFC 8292 §2, RFC 7518 §3.4: R || S signature).
function jwt(privateKey, claims) {
  const input = b64u(JSON.stringify({ typ: 'JWT', alg: 'ES256' })) + '.' + b64u(JSON.stringify(claims));
  const sig = crypto.sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return input + '.' + b64u(sig);
}

function vapidKeys() {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const j = publicKey.export({ format: 'jwk' });
  const raw = Buffer.concat([Buffer.from([4]), Buffer.from(j.x, 'base64url'), Buffer.from(j.y, 'base64url')]);
  return { privateKey, k: b64u(raw) };
}

// Body of exactly `size` octets when asked (padding), else unpadded (RFC 8188 §2, aesgcm §4).
function encrypt(c, sub, local, salt) {
  const text = Buffer.from(c.payload);
  let pad = 0;
  if (c.body_size) pad = c.encoding === 'aes128gcm' ? c.body_size - 86 - 1 - 16 - text.length
    : c.body_size - 2 - 16 - text.length;
  return ece.encrypt(text, { version: c.encoding, privateKey: local, dh: sub.keys.p256dh,
    authSecret: sub.keys.auth, salt: b64u(salt), pad });
}

const td = await startTestDouble({ bin, source });
const lines = [];
let failed = false;
try {
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    const spec = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
    for (const c of spec.cases) {
      const label = `${spec.sender}: ${c.name}`;
      let why = '';
      try {
        const keys = vapidKeys();
        const sub = await td.subscribe(c.restricted === false ? undefined : keys.k);
        const u = new URL(sub.endpoint);
        const local = crypto.createECDH('prime256v1');
        local.generateKeys();
        const salt = crypto.randomBytes(16);
        let token = '';
        if (c.jwt) {
          const claims = { aud: c.jwt.aud === 'origin-no-port' ? `${u.protocol}//${u.hostname}` : u.origin,
            exp: Math.floor(Date.now() / 1000) + c.jwt.exp_in };
          if (c.jwt.sub !== null && c.jwt.sub !== undefined) claims.sub = c.jwt.sub;
          token = jwt(keys.privateKey, claims);
        }
        const fill = (v) => v.replaceAll('{jwt}', token).replaceAll('{k}', keys.k)
          .replaceAll('{salt}', b64u(salt)).replaceAll('{dh}', b64u(local.getPublicKey()));
        const headers = c.headers.map(([n, v]) => [n, fill(v)]);
        const body = c.encoding === 'none' ? undefined : encrypt(c, sub, local, salt);
        if (c.body_size && body.length !== c.body_size)
          throw new Error(`built a ${body.length}-octet body, recorded ${c.body_size}`);
        const r = c.http === '2' ? await td.request2('POST', sub.endpoint, { headers, body })
          : await td.request('POST', sub.endpoint, { headers, body: body ?? '' });
        const msgs = await td.messages(sub.id);
        const got = msgs[msgs.length - 1];
        if (r.status !== 201) why = `status ${r.status}: ${r.body}`;
        else if (!got) why = 'accepted but not delivered';
        else if (got.plaintext !== c.payload)
          why = `delivered ${JSON.stringify(got.plaintext)} (${got.decrypt_error || ''})`;
        else if (c.body_size && got.body_length !== c.body_size) why = `body length ${got.body_length}`;
      } catch (e) { why = e.stack || String(e); }
      if (why) failed = true;
      lines.push(`${why ? 'FAIL' : 'ok  '} ${label} (HTTP/${c.http})${why ? ': ' + why : ''}`);
    }
  }
} finally {
  await td.stop();
}
console.log(lines.join('\n'));
process.exit(failed ? 1 : 0);
