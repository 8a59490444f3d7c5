// pushctl over TLS against node servers with throw-away certificates (made with the openssl
// CLI): HTTP/1.1 and HTTP/2 chosen by ALPN, certificate verification with --cacert, host name
// checks (DNS and IP SANs), --insecure, and wss:// for `pushctl ua`.
// Usage: node tests/e2e/cross_tls.mjs --pushctl build/bin/pushctl   (exit 77 = skipped)

import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
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
const { WebSocketServer } = require('ws');
const argIndex = process.argv.indexOf('--pushctl');
const pushctl = argIndex > 0 ? process.argv[argIndex + 1] : process.env.PUSHCTL;
if (!pushctl || !fs.existsSync(pushctl)) {
  console.error('usage: cross_tls.mjs --pushctl PATH');
  process.exit(2);
}
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cross-tls-'));
function makeCert(name, san) {
  const key = path.join(tmp, `${name}.key`);
  const cert = path.join(tmp, `${name}.pem`);
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
      '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', `/CN=${name}`,
      '-addext', `subjectAltName=${san}`], { stdio: 'ignore' });
  } catch {
    console.log('SKIP: the openssl command is not available');
    process.exit(77);
  }
  return { key: fs.readFileSync(key), cert: fs.readFileSync(cert), certFile: cert };
}
const good = makeCert('localhost', 'DNS:localhost,IP:127.0.0.1');
const other = makeCert('other.example', 'DNS:other.example');

let failures = 0;
let checks = 0;
function ok(cond, label) {
  checks++;
  if (!cond) failures++;
  console.log(`${cond ? 'ok  ' : 'FAIL'} ${label}`);
}
function run(args) {
  return new Promise((resolve) => {
    const child = spawn(pushctl, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('close', (code) => resolve({ code, stdout, stderr: stderr.trim() }));
  });
}

const seen = [];
function app(req, res) {
  req.resume();
  req.on('end', () => {
    seen.push({ version: req.httpVersion, alpn: req.socket.alpnProtocol, sni: req.socket.servername });
    res.writeHead(201, { location: '/m/1' });
    res.end();
  });
}
async function listen(server) {
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return server.address().port;
}
const port = await listen(http2.createSecureServer({ key: good.key, cert: good.cert, allowHTTP1: true }, app));
const otherPort = await listen(http2.createSecureServer({ key: other.key, cert: other.cert, allowHTTP1: true }, app));

const ecdh = crypto.createECDH('prime256v1');
ecdh.generateKeys();
const sub = (host, p) => JSON.stringify({ endpoint: `https://${host}:${p}/push/x`,
  keys: { p256dh: ecdh.getPublicKey('base64url'), auth: crypto.randomBytes(16).toString('base64url') } });

let r = await run(['send', '-s', sub('localhost', port), '-p', 'hi', '--cacert', good.certFile]);
ok(r.code === 0 && /Status: 201/.test(r.stdout) && seen.at(-1).version === '1.1' && seen.at(-1).sni === 'localhost',
  `HTTPS HTTP/1.1 with --cacert, SNI sent (${r.stderr})`);
r = await run(['send', '-s', sub('localhost', port), '-p', 'hi', '--cacert', good.certFile, '--http2']);
ok(r.code === 0 && seen.at(-1).version === '2.0' && seen.at(-1).alpn === 'h2', `HTTPS HTTP/2 via ALPN h2 (${r.stderr})`);
r = await run(['send', '-s', sub('127.0.0.1', port), '-p', 'hi', '--cacert', good.certFile]);
ok(r.code === 0, `IP address checked against the IP SAN (${r.stderr})`);
r = await run(['send', '-s', sub('localhost', port), '-p', 'hi']);
ok(r.code === 1 && /TLS/.test(r.stderr) && r.stderr.split('\n').length === 1,
  `unknown CA refused in one line: ${r.stderr}`);
r = await run(['send', '-s', sub('localhost', otherPort), '-p', 'hi', '--cacert', other.certFile]);
ok(r.code === 1 && /TLS/.test(r.stderr), `certificate for another host name refused: ${r.stderr}`);
r = await run(['send', '-s', sub('localhost', otherPort), '-p', 'hi', '--insecure', '--http2']);
ok(r.code === 0, `--insecure skips verification (${r.stderr})`);

// wss:// for the user agent.
const httpsServer = https.createServer({ key: good.key, cert: good.cert });
const wss = new WebSocketServer({ server: httpsServer,
  handleProtocols: (p) => (p.has('push-notification') ? 'push-notification' : false) });
wss.on('connection', (ws) => ws.on('message', (data) => {
  const msg = JSON.parse(data.toString());
  if (msg.messageType === 'hello') ws.send(JSON.stringify({ messageType: 'hello', status: 200, uaid: 'u1', use_webpush: true }));
  if (msg.messageType === 'register') {
    ws.send(JSON.stringify({ messageType: 'register', channelID: msg.channelID, status: 200,
      pushEndpoint: `https://localhost/push/${msg.channelID}` }));
  }
}));
const wssPort = await listen(httpsServer);
r = await run(['ua', '--url', `wss://localhost:${wssPort}/`, '--cacert', good.certFile, '--timeout', '0.5']);
ok(r.code === 0 && JSON.parse(r.stdout.split('\n')[0]).endpoint.startsWith('https://localhost/push/'),
  `ua over wss:// subscribes (${r.stderr})`);
r = await run(['ua', '--url', `wss://localhost:${wssPort}/`, '--timeout', '0.5']);
ok(r.code === 1 && /TLS/.test(r.stderr), `wss:// with an unknown CA refused: ${r.stderr}`);

wss.close();
fs.rmSync(tmp, { recursive: true, force: true });
console.log(`${checks - failures}/${checks} checks passed`);
process.exit(failures === 0 ? 0 : 1);
