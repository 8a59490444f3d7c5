// pushctl ua against mock push services written here with npm `ws` and node:http2, fed by
// npm web-push (aes128gcm and aesgcm):
//   WebSocket (Firefox's push protocol): hello / register frames exactly as Firefox sends
//   them, notifications decrypted and acked (100; 101 for an undecryptable one), and a second
//   run with --state resumes the same uaid and receives a message queued while offline.
//   RFC 8030 over HTTP/2 (--http2): subscribe, monitoring GET, PUSH_PROMISE + pushed
//   response decrypted, DELETE ack of the push message resource.
// Usage: node tests/e2e/cross_ua.mjs --pushctl build/bin/pushctl   (exit 77 = skipped)

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
if (!fs.existsSync(path.join(here, 'node_modules', 'ws'))) {
  console.log('SKIP: tests/e2e/node_modules missing; run `npm ci --prefix tests/e2e`');
  process.exit(77);
}
const require = createRequire(import.meta.url);
const webpush = require('web-push');
const { WebSocketServer } = require('ws');

const argIndex = process.argv.indexOf('--pushctl');
const pushctl = argIndex > 0 ? process.argv[argIndex + 1] : process.env.PUSHCTL;
if (!pushctl || !fs.existsSync(pushctl)) {
  console.error('usage: cross_ua.mjs --pushctl PATH');
  process.exit(2);
}
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cross-ua-'));
let failures = 0;
let checks = 0;
function ok(cond, label) {
  checks++;
  if (!cond) failures++;
  console.log(`${cond ? 'ok  ' : 'FAIL'} ${label}`);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const b64u = (b) => Buffer.from(b).toString('base64url');
async function waitFor(pred, ms = 10000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (pred()) return true;
    await sleep(20);
  }
  return false;
}

function start(args) {
  const child = spawn(pushctl, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const r = { stdout: '', stderr: '', code: null };
  child.stdout.on('data', (d) => { r.stdout += d; });
  child.stderr.on('data', (d) => { r.stderr += d; });
  r.done = new Promise((resolve) => child.on('close', (code) => { r.code = code; resolve(r); }));
  return r;
}

const vapid = webpush.generateVAPIDKeys();
const vapidDetails = { subject: 'mailto:ua@example.com', publicKey: vapid.publicKey, privateKey: vapid.privateKey };

// ---- mock WebSocket push service ---------------------------------------------------------
const frames = [];     // every frame received from the UA: {conn, msg}
const queue = new Map(); // channelID -> undelivered notifications
let socket = null;
let connCount = 0;
let versionSeq = 0;
const http1 = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (d) => chunks.push(d));
  req.on('end', () => {
    const chid = req.url.split('/').pop();
    const body = Buffer.concat(chunks);
    const headers = { encoding: req.headers['content-encoding'] };
    if (req.headers.encryption) headers.encryption = req.headers.encryption;
    if (req.headers['crypto-key']) {
      headers.crypto_key = req.headers['crypto-key'].split(';').filter((p) => !p.startsWith('p256ecdsa')).join(';');
    }
    const n = { messageType: 'notification', channelID: chid, version: `v${++versionSeq}`,
      data: b64u(body), headers };
    if (!queue.has(chid)) queue.set(chid, []);
    queue.get(chid).push(n);
    if (socket) socket.send(JSON.stringify(n));
    res.writeHead(201, { location: `/m/${n.version}` });
    res.end();
  });
});
await new Promise((r) => http1.listen(0, '127.0.0.1', r));
const httpPort = http1.address().port;
const wss = new WebSocketServer({ port: 0, host: '127.0.0.1',
  handleProtocols: (protocols) => (protocols.has('push-notification') ? 'push-notification' : false) });
await new Promise((r) => wss.on('listening', r));
const wsPort = wss.address().port;
wss.on('connection', (ws, req) => {
  const conn = ++connCount;
  socket = ws;
  ws.protocolOffered = req.headers['sec-websocket-protocol'];
  ws.on('message', (data) => {
    const text = data.toString();
    const msg = JSON.parse(text);
    frames.push({ conn, msg, text, protocol: ws.protocolOffered });
    switch (msg.messageType) {
      case 'hello':
        ws.send(JSON.stringify({ messageType: 'hello', status: 200, use_webpush: true, broadcasts: {},
          uaid: msg.uaid || crypto.randomBytes(16).toString('hex') }));
        for (const list of queue.values()) for (const n of list) ws.send(JSON.stringify(n));
        break;
      case 'register':
        // A notification racing the reply must not be lost by the client.
        ws.send(JSON.stringify({ messageType: 'broadcast', broadcasts: { x: '1' } }));
        ws.send(JSON.stringify({ messageType: 'register', channelID: msg.channelID, status: 200,
          pushEndpoint: `http://127.0.0.1:${httpPort}/push/${msg.channelID}` }));
        break;
      case 'ack':
        for (const u of msg.updates) {
          const list = queue.get(u.channelID) || [];
          queue.set(u.channelID, list.filter((n) => n.version !== u.version));
        }
        break;
      default:
        if (text === '{}') ws.send('{}');
    }
  });
  ws.on('close', () => { if (socket === ws) socket = null; });
});

async function sendPush(sub, text, encoding) {
  const d = webpush.generateRequestDetails(sub, text, { contentEncoding: encoding, vapidDetails, TTL: 60 });
  await new Promise((resolve, reject) => {
    const u = new URL(d.endpoint);
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: d.method, headers: d.headers },
      (res) => { res.resume(); res.on('end', resolve); });
    req.on('error', reject);
    req.end(d.body);
  });
}

const state = path.join(tmp, 'ua.json');
const subOut = path.join(tmp, 'sub.json');
const pem = path.join(tmp, 'vapid.pem');
fs.writeFileSync(pem, crypto.createPrivateKey({ key: { kty: 'EC', crv: 'P-256',
  x: b64u(Buffer.from(vapid.publicKey, 'base64url').subarray(1, 33)),
  y: b64u(Buffer.from(vapid.publicKey, 'base64url').subarray(33, 65)), d: vapid.privateKey }, format: 'jwk' })
  .export({ type: 'pkcs8', format: 'pem' }));

// Run 1: subscribe + two messages.
let run = start(['ua', '--url', `ws://127.0.0.1:${wsPort}/`, '--state', state, '--subscription-out', subOut,
  '--vapid-key', pem, '--count', '2', '--timeout', '20']);
ok(await waitFor(() => fs.existsSync(subOut)), 'ua writes --subscription-out');
const sub = JSON.parse(fs.readFileSync(subOut, 'utf8'));
ok(run.stdout.split('\n')[0] === JSON.stringify(sub), 'ua prints the subscription JSON first');
const hello1 = frames.find((f) => f.conn === 1 && f.msg.messageType === 'hello');
ok(hello1 && hello1.text === '{"messageType":"hello","broadcasts":{},"use_webpush":true}',
  `first hello is exactly Firefox's: ${hello1 && hello1.text}`);
ok(hello1 && /(^|,\s*)push-notification(\s*,|$)/.test(hello1.protocol), 'offers subprotocol push-notification');
const reg = frames.find((f) => f.msg.messageType === 'register');
ok(reg && /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(reg.msg.channelID) &&
  Object.keys(reg.msg).join(',') === 'channelID,messageType,key', 'register: uuid channelID, Firefox member order');
ok(reg && reg.msg.key.endsWith('=') && reg.msg.key.replace(/=+$/, '') === vapid.publicKey,
  'register key is the application server key, base64url padded like Firefox');
ok(sub.endpoint.endsWith(reg.msg.channelID) && Buffer.from(sub.keys.p256dh, 'base64url').length === 65 &&
  Buffer.from(sub.keys.auth, 'base64url').length === 16, 'subscription has endpoint, 65-octet p256dh, 16-octet auth');
await sendPush(sub, 'first via aes128gcm', 'aes128gcm');
await sendPush(sub, 'second via aesgcm', 'aesgcm');
await run.done;
ok(run.code === 0, `ua --count 2 exits 0 (${run.stderr.trim()})`);
ok(run.stdout.split('\n').slice(1, 3).join('|') === 'first via aes128gcm|second via aesgcm',
  `ua prints both decrypted messages: ${JSON.stringify(run.stdout)}`);
const acks1 = frames.filter((f) => f.conn === 1 && f.msg.messageType === 'ack').flatMap((f) => f.msg.updates);
ok(acks1.length === 2 && acks1.every((u) => u.code === 100 && u.channelID === reg.msg.channelID) &&
  acks1.map((u) => u.version).join() === 'v1,v2', 'each message acked with code 100 and its version');
const saved = JSON.parse(fs.readFileSync(state, 'utf8'));
ok(saved.uaid && saved.channels.length === 1 && (fs.statSync(state).mode & 0o777) === 0o600,
  'state file keeps uaid + channel, mode 0600');

// Offline: a message queued while no UA is connected, then run 2 resumes with --state.
await waitFor(() => socket === null);
await sendPush(sub, 'sent while offline', 'aes128gcm');
const bad = { messageType: 'notification', channelID: reg.msg.channelID, version: 'bad1',
  data: b64u(crypto.randomBytes(120)), headers: { encoding: 'aes128gcm' } };
queue.get(reg.msg.channelID).unshift(bad);
run = start(['ua', '--url', `ws://127.0.0.1:${wsPort}/`, '--state', state, '--count', '1', '--timeout', '20', '--json']);
await run.done;
const hello2 = frames.find((f) => f.conn === 2 && f.msg.messageType === 'hello');
ok(hello2 && hello2.msg.uaid === saved.uaid, 'second run says hello with the stored uaid');
ok(!frames.some((f) => f.conn === 2 && f.msg.messageType === 'register'), 'second run does not register again');
const lines = run.stdout.trim().split('\n');
ok(run.code === 0 && lines[0] === JSON.stringify(sub), `resumed run prints the same subscription (${run.stderr.trim()})`);
const msgs = lines.slice(1).map((l) => JSON.parse(l));
ok(msgs.length === 2 && msgs[0].version === 'bad1' && msgs[0].error && msgs[1].text === 'sent while offline',
  `undecryptable message reported, queued message delivered: ${JSON.stringify(msgs)}`);
const acks2 = frames.filter((f) => f.conn === 2 && f.msg.messageType === 'ack').flatMap((f) => f.msg.updates);
ok(acks2.length === 2 && acks2[0].code === 101 && acks2[1].code === 100, 'acks 101 for the bad one, 100 for the good one');

// --count not reached before --timeout: exit 3 with one line.
run = start(['ua', '--url', `ws://127.0.0.1:${wsPort}/`, '--state', state, '--count', '1', '--timeout', '1']);
await run.done;
ok(run.code === 3 && run.stderr.trim().split('\n').length === 1, `timeout exits 3: ${run.stderr.trim()}`);
run = start(['ua', '--url', `ws://127.0.0.1:1/`, '--timeout', '1']);
await run.done;
ok(run.code === 1 && /connect/.test(run.stderr) && run.stderr.trim().split('\n').length === 1,
  `connection refused is one line: ${run.stderr.trim()}`);

// ---- mock RFC 8030 service over h2c -------------------------------------------------------
const deletes = [];
let monitor = null;
let msgSeq = 0;
const h2 = http2.createServer();
h2.on('stream', (stream, headers) => {
  const method = headers[':method'];
  const p = headers[':path'];
  const chunks = [];
  stream.on('data', (d) => chunks.push(d));
  stream.on('end', () => {
    const body = Buffer.concat(chunks);
    if (method === 'POST' && p === '/subscribe') {
      stream.respond({ ':status': 201, location: '/s/1', link: '</p/1>; rel="urn:ietf:params:push"' });
      stream.end();
    } else if (method === 'GET' && p === '/s/1') {
      monitor = stream;  // held open; messages arrive as server pushes
    } else if (method === 'POST' && p === '/p/1') {
      const m = `/m/${++msgSeq}`;
      const pushed = { ':status': 200, 'content-encoding': headers['content-encoding'] };
      if (headers.encryption) pushed.encryption = headers.encryption;
      if (headers['crypto-key']) pushed['crypto-key'] = headers['crypto-key'];
      monitor.pushStream({ ':path': m }, (err, push) => {
        if (err) { console.log(`pushStream: ${err.message}`); return; }
        push.respond(pushed);
        push.end(body);
      });
      stream.respond({ ':status': 201, location: m });
      stream.end();
    } else if (method === 'DELETE') {
      deletes.push(p);
      stream.respond({ ':status': 204 });
      stream.end();
    } else {
      stream.respond({ ':status': 404 });
      stream.end();
    }
  });
});
await new Promise((r) => h2.listen(0, '127.0.0.1', r));
const h2Port = h2.address().port;
const subOut2 = path.join(tmp, 'sub2.json');
run = start(['ua', '--http2', '--url', `http://127.0.0.1:${h2Port}/subscribe`, '--subscription-out', subOut2,
  '--count', '2', '--timeout', '20']);
ok(await waitFor(() => fs.existsSync(subOut2) && monitor !== null), 'ua --http2 subscribes and monitors');
const sub2 = JSON.parse(fs.readFileSync(subOut2, 'utf8'));
ok(sub2.endpoint === `http://127.0.0.1:${h2Port}/p/1`, 'subscription endpoint is the push resource (Link)');
async function postH2(d) {
  const client = http2.connect(`http://127.0.0.1:${h2Port}`);
  const headers = { ':method': 'POST', ':path': new URL(d.endpoint).pathname };
  for (const [k, v] of Object.entries(d.headers)) headers[k.toLowerCase()] = String(v);
  const req = client.request(headers);
  req.end(d.body);
  await new Promise((r) => { req.on('response', () => {}); req.on('close', r); req.resume(); });
  client.close();
}
await postH2(webpush.generateRequestDetails(sub2, 'pushed over h2', { contentEncoding: 'aes128gcm', TTL: 60 }));
await postH2(webpush.generateRequestDetails(sub2, 'legacy over h2', { contentEncoding: 'aesgcm', TTL: 60 }));
await run.done;
ok(run.code === 0 && run.stdout.split('\n').slice(1, 3).join('|') === 'pushed over h2|legacy over h2',
  `ua --http2 prints the pushed messages decrypted: ${JSON.stringify(run.stdout)} ${run.stderr.trim()}`);
ok(deletes.join() === '/m/1,/m/2', `each pushed message acked with DELETE: ${deletes.join()}`);

wss.close();
http1.close();
h2.close();
fs.rmSync(tmp, { recursive: true, force: true });
console.log(`${checks - failures}/${checks} checks passed`);
process.exit(failures === 0 ? 0 : 1);
