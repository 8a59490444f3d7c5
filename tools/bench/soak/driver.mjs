// Churn driver for tools/bench/bench-soak.sh: keeps a steady, light mix of everything a
// long-lived pushsvc sees, so that the script can watch for growth. It measures nothing about
// speed; rates are fixed (a few hundred operations per second at most) so the server's state,
// not the client's pace, is what the samples show.
//
//   node driver.mjs --url http://127.0.0.1:PORT --seconds N --stats FILE [--rate X]
//                   [--away-max-ms MS]
//
// What runs, every tick (100 ms), each part rate-limited and bounded by --seconds:
// - RFC 8030: POST /subscribe and DELETE of the Location URL, keeping ~subs_target live;
// - pushes (TTL always set) to WebSocket channels and RFC 8030 subscriptions; a share with
//   short TTLs (expire at the next clock step, undelivered if nobody is there), a share with
//   Prefer: respond-async (new receipt subscription) or naming an existing receipt
//   subscription in a request Link; some receipt subscriptions are deleted, the rest left for
//   the server to collect;
// - WebSocket browsers (Firefox protocol: hello, register, notification -> ack, unregister):
//   "loyal" ones stay connected all run (the service must never collect them), the others
//   vanish without a close (socket destroyed); most come back later with their uaid, some
//   never do (abandoned: pushes fill their queue to the per-UA cap, then the server must
//   collect them, seen from here as 404/410 on their endpoints).
// The service clock is moved by the bash script, not here; the driver reads it (GET
// /_testdouble/clock) only to tell how long a browser was away in service time.
// Counters go to --stats (rewritten every second, atomically) and to stdout at the end.
// Exit 77 when the ws package is missing (npm ci --prefix tests/e2e).

import { createRequire } from 'node:module';
import fs from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import path from 'node:path';
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
let WebSocket;
try {
  WebSocket = createRequire(path.join(here, '../../../tests/e2e/package.json'))('ws');
} catch {
  console.error('driver: package ws missing (npm ci --prefix tests/e2e): skipped');
  process.exit(77);
}

function arg(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}
const BASE = arg('url');
const SECONDS = Number(arg('seconds', '60'));
const STATS = arg('stats', '');
const RATE = Number(arg('rate', '1')); // scales every rate below
if (!BASE || !/^http:\/\/127\.\d+\.\d+\.\d+:\d+$/.test(BASE)) {
  console.error('driver: --url must be http://127.x.y.z:port (loopback only)');
  process.exit(2);
}
const WS_URL = BASE.replace(/^http/, 'ws') + '/';

// Per-second rates at RATE = 1 (a few hundred requests per second in all).
const R = {
  push: 120 * RATE,          // pushes per second, all targets
  subscribe: 4 * RATE,       // RFC 8030 subscribes per second (unsubscribes follow the target)
  vanish: 1.5 * RATE,        // browsers that drop their socket per second
  channelChurn: 1 * RATE,    // unregister one channel + register a new one, per second
};
const SUBS_TARGET = Math.max(10, Math.round(300 * RATE)); // live RFC 8030 subscriptions
const ONLINE_TARGET = Math.round(40 * RATE);    // connected (non-loyal) browsers
const LOYAL = 5;                                // browsers connected from start to end
const ABANDON_SHARE = 0.25;                     // of vanishing browsers, never come back
// Real time an away browser stays away: short enough that, at the script's clock steps, it
// is back well before push.ua_idle_days (smoke: 12 h every 3 s, so at most 4 s).
const AWAY_MS = [1000, Number(arg('away-max-ms', '25000'))];
const RECEIPT_POOL = 50;                        // receipt subscriptions reused via Link
const MAX_INFLIGHT_HTTP = 48;                   // beyond it, operations are skipped (counted)
const TRACKED_ABANDONED = 2000;                 // abandoned browsers probed for collection
const TTL_SHORT = 60;                           // seconds: gone at the next clock step
const TTLS = [3600, 6 * 3600, 86400, 3 * 86400];

const stats = {
  subscribes: 0, subscribe_fail: 0, unsubscribes: 0, unsubscribe_fail: 0,
  pushes: 0, push_201: 0, push_202: 0, push_429: 0, push_gone: 0, push_other: 0,
  push_short_ttl: 0, push_to_ws: 0, push_to_rfc8030: 0, push_to_abandoned: 0,
  push_receipt_new: 0, push_receipt_link: 0, receipt_deletes: 0,
  browsers_connected: 0, hellos: 0, registers: 0, register_fail: 0, unregisters: 0,
  notifications: 0, acks: 0, vanished: 0, abandoned: 0, reconnects: 0,
  reconnect_same_uaid: 0, reconnect_new_uaid: 0, ws_errors: 0,
  collected_abandoned: 0, loyal_lost: 0, loyal_pushes: 0, loyal_notifications: 0,
  monitors: 0, monitor_messages: 0, monitor_acks: 0, receipts_received: 0,
  http_errors: 0, skipped: 0, service_clock_ms: 0,
};

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
let inflight = 0;

// One HTTP request; resolves {status, headers, body} or {status: 0} on error/timeout (10 s).
function request(method, url, headers = {}, body = null) {
  return new Promise((resolve) => {
    inflight++;
    const done = (r) => { inflight--; resolve(r); };
    const req = http.request(url, { method, headers, agent, timeout: 10000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => done({ status: res.statusCode, headers: res.headers,
                                 body: Buffer.concat(chunks).toString() }));
      res.on('error', () => { stats.http_errors++; done({ status: 0 }); });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => { stats.http_errors++; done({ status: 0 }); });
    req.end(body ?? undefined);
  });
}

const pick = (a) => a[Math.floor(Math.random() * a.length)];
const chance = (p) => Math.random() < p;
// Events for a rate r per second in one tick of dt seconds (fractions carried by chance).
const events = (r, dt) => { const x = r * dt; return Math.floor(x) + (chance(x % 1) ? 1 : 0); };

// aes128gcm-shaped body (RFC 8188 header + opaque records): the service stores it unread.
function body() {
  const head = Buffer.alloc(21);
  crypto.randomFillSync(head, 0, 16);
  head.writeUInt32BE(4096, 16);
  head[20] = 65;
  const key = Buffer.concat([Buffer.from([4]), crypto.randomBytes(64)]);
  // Records of 1.5-3.9 KB (deployed senders pad to ~3 KB): the size fills RocksDB's 64 MiB
  // memtable every few minutes at this rate, so flushes, blob files and their garbage
  // collection all happen within a run, as they would over months.
  return Buffer.concat([head, key, crypto.randomBytes(1500 + Math.floor(Math.random() * 2400))]);
}

function linkUrl(linkHeader, rel) {
  for (const part of String(linkHeader ?? '').split(',')) {
    const m = part.match(/<([^>]+)>\s*;\s*rel="?([^";]+)"?/);
    if (m && m[2] === rel) return m[1];
  }
  return null;
}
const REL_PUSH = 'urn:ietf:params:push';
const REL_RECEIPT = 'urn:ietf:params:push:receipt';

// ---------------------------------------------------------------- RFC 8030 subscriptions
const subs = []; // {endpoint, location}
async function subscribe() {
  const r = await request('POST', `${BASE}/subscribe`, { 'content-length': '0' });
  const endpoint = r.status === 201 ? linkUrl(r.headers.link, REL_PUSH) : null;
  if (!endpoint || !r.headers.location) { stats.subscribe_fail++; return; }
  stats.subscribes++;
  subs.push({ endpoint: local(endpoint), location: local(r.headers.location) });
}
async function unsubscribe() {
  const i = Math.floor(Math.random() * subs.length);
  const [s] = subs.splice(i, 1);
  const r = await request('DELETE', s.location);
  if (r.status === 204) stats.unsubscribes++; else stats.unsubscribe_fail++;
}
// Advertised URLs carry the server's origin; always talk to the listener we were given.
function local(url) { return url.replace(/^https?:\/\/[^/]+/, BASE); }

// ---------------------------------------------------------------- RFC 8030 monitoring
// Over HTTP/2 (server push is the only delivery, RFC 8030 §6): now and then a subscription or
// a receipt subscription is drained with Prefer: wait=0 and every pushed message or receipt
// is acknowledged with a DELETE of its pushed :path (§6.2), so that path churns too.
let h2 = null;
let monitorsInFlight = 0;
function h2session() {
  if (h2 && !h2.closed && !h2.destroyed) return h2;
  h2 = http2.connect(BASE);
  h2.on('error', () => { stats.http_errors++; });
  h2.on('stream', (pushed, reqHeaders) => {
    const msgPath = reqHeaders[':path'];
    pushed.on('push', (h) => {
      if (h[':status'] === 204 || h[':status'] === 410) stats.receipts_received++;
      else stats.monitor_messages++;
    });
    pushed.on('data', () => {});
    pushed.on('error', () => {});
    pushed.on('end', () => {
      request('DELETE', BASE + msgPath).then((r) => {
        if (r.status === 204) stats.monitor_acks++;
      });
    });
  });
  return h2;
}
function drain(location) {
  if (monitorsInFlight >= 2) return;
  monitorsInFlight++;
  stats.monitors++;
  let done = false;
  const finish = () => { if (!done) { done = true; monitorsInFlight--; clearTimeout(t); } };
  let req;
  try {
    req = h2session().request({ ':method': 'GET', ':path': new URL(location).pathname,
                                prefer: 'wait=0' });
  } catch { finish(); return; }
  const t = setTimeout(() => { req.close(http2.constants.NGHTTP2_CANCEL); finish(); }, 5000);
  req.on('response', () => {});
  req.on('data', () => {});
  req.on('end', finish);
  req.on('close', finish);
  req.on('error', finish);
  req.end();
}

// ---------------------------------------------------------------- receipts
const receiptSubs = []; // receipt subscription URLs a push may name in a request Link
async function push(endpoint, kind, opts = {}) {
  const headers = { 'content-encoding': 'aes128gcm', 'content-type': 'application/octet-stream' };
  const short = chance(0.2);
  headers.ttl = String(short ? TTL_SHORT : pick(TTLS));
  if (short) stats.push_short_ttl++;
  let receipt = null;
  if (!opts.noReceipt && chance(0.1)) {
    headers.prefer = 'respond-async';
    if (receiptSubs.length > 0 && chance(0.5)) {
      headers.link = `<${pick(receiptSubs)}>; rel="${REL_RECEIPT}"`;
      receipt = 'link';
    } else {
      receipt = 'new';
    }
  }
  const b = body();
  headers['content-length'] = String(b.length);
  stats.pushes++;
  if (kind === 'ws') stats.push_to_ws++;
  if (kind === 'rfc8030') stats.push_to_rfc8030++;
  const r = await request('POST', endpoint, headers, b);
  if (r.status === 201) stats.push_201++;
  else if (r.status === 202) {
    stats.push_202++;
    if (receipt === 'link') stats.push_receipt_link++;
    if (receipt === 'new') {
      stats.push_receipt_new++;
      const url = linkUrl(r.headers.link, REL_RECEIPT);
      // Keep a bounded pool to reuse; what falls out is either deleted by us or left for
      // the server to collect (both paths must free it).
      if (url) receiptSubs.push(local(url));
      while (receiptSubs.length > RECEIPT_POOL) {
        const old = receiptSubs.shift();
        if (chance(0.5)) {
          request('DELETE', old).then((d) => { if (d.status === 204) stats.receipt_deletes++; });
        }
      }
    }
  } else if (r.status === 429) stats.push_429++;
  else if (r.status === 404 || r.status === 410) stats.push_gone++;
  else stats.push_other++;
  return r.status;
}

// ---------------------------------------------------------------- WebSocket browsers
// {uaid, channels: Map(channelID -> endpoint), ws, state, loyal, awayUntil, awaySince}
const online = new Set();
const away = [];       // will reconnect
const abandoned = [];  // never come back: {endpoints, since}
let stopping = false;

function connect(browser) {
  return new Promise((resolve) => {
    const ws = new WebSocket(WS_URL, 'push-notification', { perMessageDeflate: false });
    browser.ws = ws;
    browser.pending = new Map(); // channelID -> resolve of register/unregister
    let settled = false;
    const settle = (ok) => { if (!settled) { settled = true; clearTimeout(t); resolve(ok); } };
    const t = setTimeout(() => { ws.terminate(); settle(false); }, 10000);
    ws.on('open', () => {
      const hello = { messageType: 'hello', broadcasts: {}, use_webpush: true };
      if (browser.uaid && browser.channels.size > 0) hello.uaid = browser.uaid;
      ws.send(JSON.stringify(hello));
    });
    ws.on('message', (data) => {
      let m;
      try { m = JSON.parse(String(data)); } catch { return; }
      const type = String(m.messageType ?? '').toLowerCase();
      if (type === 'hello') {
        stats.hellos++;
        if (browser.uaid && browser.channels.size > 0) {
          // Firefox semantics: a different uaid drops every local subscription.
          if (m.uaid === browser.uaid) stats.reconnect_same_uaid++;
          else {
            stats.reconnect_new_uaid++;
            if (browser.loyal) stats.loyal_lost++;
            browser.channels.clear();
          }
        }
        browser.uaid = m.uaid;
        settle(true);
      } else if (type === 'register' || type === 'unregister') {
        const cb = browser.pending.get(`${type}|${m.channelID}`);
        if (cb) { browser.pending.delete(`${type}|${m.channelID}`); cb(m); }
      } else if (type === 'notification') {
        stats.notifications++;
        if (browser.loyal) stats.loyal_notifications++;
        // Ack like Firefox (code 100); a share left for later acks stays in flight until
        // the socket vanishes, so redelivery after reconnect is exercised too.
        if (browser.loyal || chance(0.95)) {
          ws.send(JSON.stringify({ messageType: 'ack',
            updates: [{ channelID: m.channelID, version: m.version, code: 100 }] }));
          stats.acks++;
        }
      }
    });
    ws.on('error', () => { stats.ws_errors++; settle(false); });
    ws.on('close', () => {
      settle(false);
      for (const cb of browser.pending.values()) cb(null);
      browser.pending.clear();
      if (online.has(browser)) {
        online.delete(browser);
        // Closed by the server or the network, not by us: treat it as gone away.
        if (!stopping && !browser.vanishing) {
          if (browser.loyal) stats.loyal_lost++;
          goAway(browser);
        }
      }
    });
  });
}

function rpc(browser, type, msg) {
  return new Promise((resolve) => {
    const key = `${type}|${msg.channelID}`;
    const t = setTimeout(() => { browser.pending.delete(key); resolve(null); }, 10000);
    browser.pending.set(key, (m) => { clearTimeout(t); resolve(m); });
    try { browser.ws.send(JSON.stringify({ messageType: type, ...msg })); }
    catch { clearTimeout(t); browser.pending.delete(key); resolve(null); }
  });
}

async function register(browser) {
  const channelID = crypto.randomUUID();
  const r = await rpc(browser, 'register', { channelID });
  if (!r || r.status !== 200 || !r.pushEndpoint) { stats.register_fail++; return; }
  stats.registers++;
  browser.channels.set(channelID, local(r.pushEndpoint));
}

async function unregister(browser) {
  const channelID = pick([...browser.channels.keys()]);
  browser.channels.delete(channelID);
  const r = await rpc(browser, 'unregister', { channelID, code: 200 });
  if (r && r.status === 200) stats.unregisters++;
}

async function startBrowser(browser) {
  browser.vanishing = false;
  if (!(await connect(browser))) { browser.ws?.terminate(); return false; }
  stats.browsers_connected++;
  online.add(browser);
  const want = browser.loyal ? 2 : 1 + Math.floor(Math.random() * 3);
  while (browser.channels.size < want && online.has(browser)) await register(browser);
  return true;
}

function goAway(browser) {
  if (!browser.loyal && chance(ABANDON_SHARE)) {
    stats.abandoned++;
    abandoned.push({ endpoints: [...browser.channels.values()], since: Date.now() });
    if (abandoned.length > TRACKED_ABANDONED) abandoned.shift();
  } else {
    browser.awayUntil = Date.now() + AWAY_MS[0] + Math.random() * (AWAY_MS[1] - AWAY_MS[0]);
    away.push(browser);
  }
}

function vanish(browser) {
  // No close frame, no FIN handshake: the socket is destroyed as if the network dropped.
  browser.vanishing = true;
  online.delete(browser);
  stats.vanished++;
  browser.ws._socket?.destroy();
  browser.ws.terminate();
  goAway(browser);
}

// ---------------------------------------------------------------- main loop
async function pollClock() {
  const r = await request('GET', `${BASE}/_testdouble/clock`);
  if (r.status === 200) {
    try { stats.service_clock_ms = JSON.parse(r.body).now_ms; } catch { /* next time */ }
  }
}

function writeStats() {
  if (!STATS) return;
  const tmp = `${STATS}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify({ ...stats, subs_live: subs.length,
    online: online.size, away: away.length, abandoned_tracked: abandoned.length,
    receipt_pool: receiptSubs.length, inflight }) + '\n');
  fs.renameSync(tmp, STATS);
}

const loyal = [];
async function main() {
  const t0 = Date.now();
  const end = t0 + SECONDS * 1000;
  for (let i = 0; i < LOYAL; i++) {
    const b = { uaid: null, channels: new Map(), loyal: true };
    if (await startBrowser(b)) loyal.push(b);
  }
  let last = Date.now();
  let lastStats = 0;
  let lastClock = 0;
  const maxTicks = Math.ceil(SECONDS * 10) + 100; // the loop is bounded in count and time
  for (let tick = 0; tick < maxTicks && Date.now() < end; tick++) {
    await new Promise((r) => setTimeout(r, 100));
    const now = Date.now();
    const dt = Math.min(1, (now - last) / 1000);
    last = now;
    const room = () => inflight < MAX_INFLIGHT_HTTP;

    // RFC 8030 subscriptions: subscribe at a steady rate, unsubscribe above the target.
    for (let i = events(R.subscribe, dt); i > 0; i--) {
      if (room()) subscribe(); else stats.skipped++;
    }
    // Unsubscribes at the subscribe rate scaled by how full the pool is: churn from the
    // start, and the pool settles at SUBS_TARGET.
    for (let i = events(R.subscribe * subs.length / SUBS_TARGET, dt); i > 0 && subs.length; i--) {
      if (room()) unsubscribe(); else stats.skipped++;
    }

    // Browsers: keep ONLINE_TARGET connected; vanish some; bring back the away ones due.
    for (let i = events(R.vanish, dt); i > 0; i--) {
      const cands = [...online].filter((b) => !b.loyal && b.channels.size > 0);
      if (cands.length) vanish(pick(cands));
    }
    for (let i = 0; i < away.length && i < 20; ) {
      if (away[i].awayUntil <= now) {
        const [b] = away.splice(i, 1);
        stats.reconnects++;
        startBrowser(b).then((ok) => { if (!ok) { b.awayUntil = Date.now() + 2000; away.push(b); } });
      } else i++;
    }
    const nonLoyal = [...online].filter((b) => !b.loyal).length;
    for (let i = nonLoyal; i < ONLINE_TARGET && i < nonLoyal + 5; i++) {
      startBrowser({ uaid: null, channels: new Map(), loyal: false });
    }
    for (let i = events(R.channelChurn, dt); i > 0; i--) {
      const cands = [...online].filter((b) => !b.loyal && b.channels.size > 0);
      if (cands.length) { const b = pick(cands); unregister(b).then(() => register(b)); }
    }

    // Pushes: to connected and away browsers, to RFC 8030 subscriptions, a few to the
    // abandoned ones (which fill them to the cap and tell us when they are collected), and
    // one per second to each loyal browser (which must never be collected).
    const wsTargets = [...online, ...away].filter((b) => b.channels.size > 0 && !b.loyal);
    for (let i = events(R.push, dt); i > 0; i--) {
      if (!room()) { stats.skipped++; continue; }
      const x = Math.random();
      if (x < 0.45 && wsTargets.length) {
        push(pick([...pick(wsTargets).channels.values()]), 'ws');
      } else if (x < 0.85 && subs.length) {
        push(pick(subs).endpoint, 'rfc8030');
      } else if (abandoned.length) {
        const a = pick(abandoned);
        if (!a.endpoints.length) continue;
        stats.push_to_abandoned++;
        push(a.endpoints[0], 'abandoned', { noReceipt: true }).then((status) => {
          if ((status === 404 || status === 410) && !a.collected) {
            a.collected = true;
            stats.collected_abandoned++;
            const k = abandoned.indexOf(a);
            if (k >= 0) abandoned.splice(k, 1);
          }
        });
      }
    }
    // Two drains a second (bounded to 2 at a time): an RFC 8030 subscription, or a receipt
    // subscription of the pool.
    for (let i = events(2 * RATE, dt); i > 0; i--) {
      if (chance(0.5) && subs.length) drain(pick(subs).location);
      else if (receiptSubs.length) drain(pick(receiptSubs));
    }
    if (now - lastClock >= 1000) {
      lastClock = now;
      pollClock();
      for (const b of loyal) {
        if (!online.has(b) || !b.channels.size || !room()) continue;
        stats.loyal_pushes++;
        push(pick([...b.channels.values()]), 'ws', { noReceipt: true }).then((s) => {
          if (s === 404 || s === 410) stats.loyal_lost++;
        });
      }
    }
    if (now - lastStats >= 1000) { lastStats = now; writeStats(); }
  }
  stopping = true;
  // Let requests in flight finish (bounded), then drop everything.
  for (let i = 0; i < 100 && inflight > 0; i++) await new Promise((r) => setTimeout(r, 50));
  for (const b of online) b.ws.terminate();
  h2?.destroy();
  writeStats();
  console.log(JSON.stringify({ bench: 'soak_driver', seconds: (Date.now() - t0) / 1000, ...stats }));
  agent.destroy();
  process.exit(0);
}

main().catch((e) => { console.error(e); process.exit(1); });
