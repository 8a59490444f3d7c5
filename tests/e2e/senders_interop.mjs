// Interop with real sender libraries: every message is accepted (201)
// over TLS with HTTP/1.1 and HTTP/2 and decrypts to the sent text at pushsvc's in-service user
// agent (test-double mode, restricted subscriptions so VAPID is verified, RFC 8292 §4).
//   web-push 3.6.7 (aes128gcm + vapid, aesgcm + WebPush), webpush-webcrypto 1.0.5 (aesgcm +
//   WebPush, sub without mailto:), @block65/webcrypto-web-push 2.0.0 (aes128gcm, 4096-octet
//   bodies, lower-case names), http_ece 1.2.0-built requests (both codings).
// Checklist IDs: R8030-5-b, R8030-7.2-e, R8291-2-a, RENC04-2-a, RVAPID01-2-a, R8292-2.1-a.
// Exit 77 (skipped) without tests/e2e/node_modules.
import { createRequire } from 'node:module';
import crypto from 'node:crypto';
import { startTestDouble, args } from './lib/testdouble_service.mjs';

const require = createRequire(import.meta.url);
let webpush, ece, webcrypto, block65;
try {
  webpush = require('web-push');
  ece = require('http_ece');
  webcrypto = await import('webpush-webcrypto');
  block65 = await import('@block65/webcrypto-web-push');
} catch (e) {
  console.log('skipped: npm packages missing (npm ci --prefix tests/e2e): ' + e.message);
  process.exit(77);
}

const { bin, source } = args();
const td = await startTestDouble({ bin, source });
const results = [];
let failed = false;

function b64u(buf) { return Buffer.from(buf).toString('base64url'); }

async function send(transport, { method = 'POST', endpoint, headers, body }) {
  const list = Array.isArray(headers) ? headers : Object.entries(headers);
  return transport === 'h2' ? td.request2(method, endpoint, { headers: list, body })
    : td.request(method, endpoint, { headers: list, body });
}

async function check(name, transport, text, sub, doSend) {
  let status = 0; let got; let why = '';
  try {
    status = await doSend();
    const msgs = await td.messages(sub.id);
    got = msgs.length ? msgs[msgs.length - 1] : undefined;
    if (status !== 201) why = `status ${status}`;
    else if (!got) why = 'not delivered';
    else if (got.plaintext !== text) why = `decrypted to ${JSON.stringify(got.plaintext)} (${got.decrypt_error || ''})`;
  } catch (e) { why = e.stack || String(e); }
  const ok = why === '';
  if (!ok) failed = true;
  results.push(`${ok ? 'ok  ' : 'FAIL'} ${name} over ${transport}${ok ? '' : ': ' + why}`);
}

try {
  for (const transport of ['h1', 'h2']) {
    // --- npm web-push 3.6.7 -------------------------------------------------------------
    for (const encoding of ['aes128gcm', 'aesgcm']) {
      const keys = webpush.generateVAPIDKeys();
      const sub = await td.subscribe(keys.publicKey);
      const text = `web-push ${encoding} ${transport}`;
      const opts = { vapidDetails: { subject: 'mailto:interop@example.com', ...keys },
        contentEncoding: encoding, TTL: 60, agent: td.agent };
      await check(`web-push ${encoding}`, transport, text, sub, async () => {
        if (transport === 'h1') return (await webpush.sendNotification(sub, text, opts)).statusCode;
        return (await send('h2', webpush.generateRequestDetails(sub, text, opts))).status;
      });
    }
    // --- webpush-webcrypto 1.0.5 (aesgcm + WebPush) ---------------------------------------
    {
      webcrypto.setWebCrypto(crypto.webcrypto);
      const keys = await webcrypto.ApplicationServerKeys.generate();
      const raw = await crypto.webcrypto.subtle.exportKey('raw', keys.publicKey);
      const sub = await td.subscribe(b64u(raw));
      const text = `webpush-webcrypto ${transport}`;
      await check('webpush-webcrypto aesgcm', transport, text, sub, async () => {
        const r = await webcrypto.generatePushHTTPRequest({ applicationServerKeys: keys, payload: text,
          target: { endpoint: sub.endpoint, keys: sub.keys }, adminContact: 'hello@example.com',
          ttl: 60, urgency: 'low' });
        return (await send(transport, { endpoint: r.endpoint, headers: r.headers, body: Buffer.from(r.body) })).status;
      });
    }
    // --- @block65/webcrypto-web-push 2.0.0 (aes128gcm, 4096-octet bodies) -------------------
    {
      const keys = webpush.generateVAPIDKeys();
      const sub = await td.subscribe(keys.publicKey);
      const text = `block65 ${transport}`;
      await check('@block65/webcrypto-web-push aes128gcm', transport, text, sub, async () => {
        const p = await block65.buildPushPayload({ data: text, options: { ttl: 60, urgency: 'high', topic: 'interop' } },
          sub, { subject: 'mailto:interop@example.com', publicKey: keys.publicKey, privateKey: keys.privateKey });
        const body = Buffer.from(p.body);
        if (body.length !== 4096) throw new Error(`block65 body is ${body.length} octets, expected 4096`);
        return (await send(transport, { endpoint: sub.endpoint, headers: p.headers, body })).status;
      });
    }
    // --- http_ece 1.2.0-built requests ----------------------------------------------------
    for (const version of ['aes128gcm', 'aesgcm']) {
      const keys = webpush.generateVAPIDKeys();
      const sub = await td.subscribe(keys.publicKey);
      const text = `http_ece ${version} ${transport}`;
      await check(`http_ece ${version}`, transport, text, sub, async () => {
        const local = crypto.createECDH('prime256v1');
        local.generateKeys();
        const salt = crypto.randomBytes(16);
        const params = { version, privateKey: local, dh: sub.keys.p256dh, authSecret: sub.keys.auth, salt: b64u(salt) };
        const body = ece.encrypt(Buffer.from(text), params);
        const aud = new URL(sub.endpoint).origin;
        const vapid = webpush.getVapidHeaders(aud, 'mailto:interop@example.com', keys.publicKey,
          keys.privateKey, version);
        const headers = [['TTL', '60'], ['Content-Encoding', version], ['Content-Type', 'application/octet-stream'],
          ['Authorization', vapid.Authorization]];
        if (version === 'aesgcm') {
          headers.push(['Encryption', `salt=${b64u(salt)}`]);
          headers.push(['Crypto-Key', `dh=${b64u(local.getPublicKey())};${vapid['Crypto-Key']}`]);
        }
        return (await send(transport, { endpoint: sub.endpoint, headers, body })).status;
      });
    }
  }
} finally {
  await td.stop();
}
console.log(results.join('\n'));
process.exit(failed ? 1 : 0);
