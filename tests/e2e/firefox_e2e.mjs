// Real-browser end-to-end test of pushsvc's WebSocket push channel (issue 4): stock headless
// Firefox ESR, a fresh profile whose dom.push.serverURL points at pushsvc, npm web-push as the
// application server over pushsvc's TLS listener.
//
//   node tests/e2e/firefox_e2e.mjs --bin build/bin/pushsvc --source .
//       [--firefox /usr/bin/firefox-esr] [--transport ws|wss] [--keep] [--verbose]
//
// Steps (each wait is bounded; every process started here is stopped by its PID at the end,
// also on failure):
//   1. temp dir, test CA + server certificate (tools/dev-cert.sh), config, start pushsvc, wait
//      for its ready file; check that `/` upgrades to WebSocket `push-notification`.
//   2. a small HTTP server on 127.0.0.1:0 serves the page (/), the service worker (/sw.js),
//      /ready (the page's settings, e.g. the VAPID public key; 503 until the test has made
//      them), /report (JSON from page/SW) and /command (what the page should do next).
//   3. Firefox, headless, fresh profile with user.js (push prefs: dom.push.serverURL and the
//      testing/connection prefs below). The race in that recipe (a push request
//      made before Firefox's parent-process PushService exists is lost for good) cannot be
//      seen from here, since the push service is pushsvc, not a mock that sees the hello. The
//      page therefore probes with getSubscription() (same message path, no side effect), 2 s
//      per try, until one call settles (at most 45 s), and only then subscribes, with a bounded
//      retry around subscribe() (3 x 15 s) as a second line. Observed: the first probe is
//      always lost, the second settles ~2.5 s after the page loaded. It subscribes with the
//      VAPID public key as applicationServerKey and reports sub.toJSON().
//   4. web-push sends one aes128gcm and one aesgcm message (VAPID) -> 201 each; the service
//      worker reports both decrypted texts.
//   5. Firefox is stopped (SIGTERM), a third message is sent (201), Firefox is restarted on the
//      same profile: the subscription is still there and the SW receives the third message.
//   6. the page unsubscribes; the next send is answered 410.
//   7. the WebSocket frames Firefox logged (dom.push.loglevel=Debug) are checked against
//      issue 4's rules: hello/register/unregister replies, notification headers (aesgcm
//      crypto_key with only dh), acks 100, same uaid after the restart, no redelivery of acked
//      messages.
// Exit status 0 = passed, 1 = failed (with the tails of pushsvc's and Firefox's logs).
// `--transport wss` points Firefox at wss://127.0.0.1:<tls port>/ instead, after importing the
// test CA into the profile with certutil (libnss3-tools).

import { spawn, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const T0 = Date.now();
const since = () => ((Date.now() - T0) / 1000).toFixed(2).padStart(7);

// ---------------------------------------------------------------------------------------------
// Arguments

function argValue(name, fallback) {
  const i = process.argv.indexOf(name);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}
const opts = {
  bin: argValue('--bin', process.env.PUSHSVC_BIN),
  source: argValue('--source', path.resolve(here, '..', '..')),
  firefox: argValue('--firefox', process.env.FIREFOX || 'firefox-esr'),
  transport: argValue('--transport', 'ws'),
  keep: process.argv.includes('--keep'),
  verbose: process.argv.includes('--verbose'),
};
if (!opts.bin || !['ws', 'wss'].includes(opts.transport)) {
  console.error('usage: firefox_e2e.mjs --bin PATH/TO/pushsvc [--source REPO] [--firefox BIN] ' +
    '[--transport ws|wss] [--keep] [--verbose]');
  process.exit(2);
}

// Bounds (milliseconds). The whole run stays well under the CTest TIMEOUT (240 s).
const LIMITS = {
  total: 210_000,
  readyFile: 20_000,
  firefoxSubscribe: 60_000, // launch -> subscription reported
  delivery: 20_000, // send -> SW report, browser online
  firefoxExit: 20_000,
  restartDelivery: 60_000, // relaunch -> stored message reported by the SW
  unsubscribe: 30_000,
  send: 20_000,
  processExit: 10_000,
};

// ---------------------------------------------------------------------------------------------
// Timeline, failures, cleanup

const timeline = [];
function mark(what) {
  timeline.push(`${since()}s  ${what}`);
  if (opts.verbose) console.log(`[${since()}s] ${what}`);
}

class TestFailure extends Error {}
function fail(message) {
  throw new TestFailure(message);
}
let checks = 0;
function check(cond, label, detail) {
  checks++;
  if (!cond) fail(`${label}${detail !== undefined ? `: ${typeof detail === 'string' ? detail : JSON.stringify(detail)}` : ''}`);
  console.log(`ok   ${label}`);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pushsvc-e2e-firefox-'));
const children = new Set(); // {name, proc}
const cleanups = [];

// PIDs of every descendant of pid (from /proc), so that Firefox's content processes can be
// stopped by PID if they outlive the parent.
function descendants(pid) {
  const byParent = new Map();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!byParent.has(ppid)) byParent.set(ppid, []);
      byParent.get(ppid).push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  const out = [];
  const stack = [pid];
  while (stack.length) {
    for (const c of byParent.get(stack.pop()) || []) {
      out.push(c);
      stack.push(c);
    }
  }
  return out;
}
// The descendants of pid, plus Firefox's crash helper, which detaches from the browser
// (its parent becomes init) but names the browser's PID as its first argument.
function relatedProcesses(pid) {
  const tree = [pid, ...descendants(pid)];
  const out = tree.slice(1).map((p) => ({ pid: p, cmd: cmdline(p) }));
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmd = cmdline(Number(entry));
    const m = /^\S*crashhelper (\d+) /.exec(cmd);
    if (m && tree.includes(Number(m[1]))) out.push({ pid: Number(entry), cmd });
  }
  return out;
}
function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
function cmdline(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

function waitExit(child, ms) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

// SIGTERM by PID, bounded wait, then SIGKILL; afterwards any descendant that is still alive
// (and still the process we saw: same command line) gets SIGKILL by PID too.
async function stopProcess(entry, graceMs = LIMITS.processExit) {
  const { proc, name } = entry;
  const kids = proc.pid ? relatedProcesses(proc.pid) : [];
  if (proc.exitCode === null && proc.signalCode === null) {
    try {
      process.kill(proc.pid, 'SIGTERM');
    } catch {
      // already gone
    }
    if (!(await waitExit(proc, graceMs))) {
      mark(`${name} (pid ${proc.pid}) ignored SIGTERM for ${graceMs} ms: SIGKILL`);
      try {
        process.kill(proc.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      await waitExit(proc, 5000);
    }
  }
  // Content processes and the crash helper normally exit with the browser: give them a
  // moment, then stop the stragglers.
  const settle = Date.now() + 3000;
  while (Date.now() < settle && kids.some((k) => alive(k.pid) && cmdline(k.pid) === k.cmd)) await sleep(100);
  for (const k of kids) {
    if (alive(k.pid) && cmdline(k.pid) === k.cmd) {
      mark(`${name}: SIGKILL leftover pid ${k.pid} (${k.cmd.slice(0, 60)})`);
      try {
        process.kill(k.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  children.delete(entry);
}

let cleaningUp = null;
let aborted = null; // the signal that stopped the run: later failures are only its echo
function cleanup() {
  if (!cleaningUp) {
    cleaningUp = (async () => {
      for (const entry of [...children].reverse()) await stopProcess(entry, 5000);
      for (const fn of cleanups.reverse()) {
        try {
          await fn();
        } catch {
          // best effort
        }
      }
    })();
  }
  return cleaningUp;
}
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, async () => {
    aborted = sig;
    console.error(`firefox_e2e: got ${sig}, stopping everything`);
    await cleanup();
    console.error(`logs, profile and certificates kept in ${tmp}`);
    process.exit(1);
  });
}

// Writes children's stdout+stderr to a log file, each line stamped with the test's clock, and
// keeps the lines for diagnosis and frame parsing.
class LogSink {
  constructor(file) {
    this.file = file;
    this.fd = fs.openSync(file, 'a');
    this.lines = [];
    this.partial = { out: '', err: '' };
  }
  attach(proc, tag) {
    for (const [stream, key] of [[proc.stdout, 'out'], [proc.stderr, 'err']]) {
      if (!stream) continue;
      stream.setEncoding('utf8');
      stream.on('data', (d) => this.feed(key, d, tag));
      stream.on('end', () => {
        if (this.partial[key]) this.line(this.partial[key], tag);
        this.partial[key] = '';
      });
    }
  }
  feed(key, data, tag) {
    const parts = (this.partial[key] + data).split('\n');
    this.partial[key] = parts.pop();
    for (const p of parts) this.line(p, tag);
  }
  line(text, tag) {
    const stamped = `[${since()}s]${tag ? ` ${tag}` : ''} ${text}`;
    fs.writeSync(this.fd, stamped + '\n');
    this.lines.push(stamped);
  }
  note(text) {
    this.line(`---- ${text}`, '');
  }
  tail(n = 40) {
    return this.lines.slice(-n).join('\n');
  }
  find(re) {
    return this.lines.find((l) => re.test(l));
  }
}

// ---------------------------------------------------------------------------------------------
// Test HTTP server: page, service worker, /ready, /report, /command

class TestSite {
  constructor() {
    this.reports = [];
    this.waiters = [];
    this.settings = null; // /ready answers 503 until the test is armed
    this.command = { id: 0, cmd: 'none' };
    this.files = {
      '/': ['index.html', 'text/html; charset=utf-8'],
      '/page.js': ['page.js', 'text/javascript; charset=utf-8'],
      '/sw.js': ['sw.js', 'text/javascript; charset=utf-8'],
    };
  }
  start() {
    this.server = http.createServer((req, res) => this.handle(req, res));
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => {
        this.port = this.server.address().port;
        resolve();
      });
    });
  }
  stop() {
    return new Promise((resolve) => {
      this.server.closeAllConnections?.();
      this.server.close(() => resolve());
    });
  }
  url(query) {
    return `http://127.0.0.1:${this.port}/${query || ''}`;
  }
  send(res, status, type, body) {
    res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' });
    res.end(body);
  }
  handle(req, res) {
    const url = new URL(req.url, 'http://127.0.0.1');
    if (req.method === 'GET' && this.files[url.pathname]) {
      const [file, type] = this.files[url.pathname];
      return this.send(res, 200, type, fs.readFileSync(path.join(here, 'firefox', file)));
    }
    if (req.method === 'GET' && url.pathname === '/ready') {
      if (!this.settings) return this.send(res, 503, 'text/plain', 'not yet\n');
      return this.send(res, 200, 'application/json', JSON.stringify(this.settings));
    }
    if (req.method === 'GET' && url.pathname === '/command') {
      return this.send(res, 200, 'application/json', JSON.stringify(this.command));
    }
    if (req.method === 'POST' && url.pathname === '/report') {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (d) => {
        if (body.length < 65536) body += d;
      });
      req.on('end', () => {
        let obj;
        try {
          obj = JSON.parse(body);
        } catch {
          obj = { type: 'unparsable-report', body };
        }
        obj.at = Date.now();
        this.reports.push(obj);
        const summary = obj.type === 'push' ? `text=${JSON.stringify(obj.text)}` :
          obj.error ? `error=${obj.error}` : obj.attempt ? `attempt=${obj.attempt}` : '';
        mark(`report ${obj.from}/${obj.phase || '-'}: ${obj.type} ${summary}`.trimEnd());
        for (const w of [...this.waiters]) {
          if (w.pred(obj)) {
            this.waiters.splice(this.waiters.indexOf(w), 1);
            w.resolve(obj);
          }
        }
        this.send(res, 204, 'text/plain', '');
      });
      return undefined;
    }
    if (url.pathname === '/favicon.ico') return this.send(res, 404, 'text/plain', '');
    return this.send(res, 404, 'text/plain', 'not found\n');
  }
  // Resolves with the first report (already received or future) matching pred, or null after ms.
  waitFor(pred, ms) {
    const seen = this.reports.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => {
      const w = { pred, resolve };
      this.waiters.push(w);
      setTimeout(() => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) {
          this.waiters.splice(i, 1);
          resolve(null);
        }
      }, ms);
    });
  }
  issue(cmd) {
    this.command = { id: this.command.id + 1, cmd };
    return this.command.id;
  }
}

// ---------------------------------------------------------------------------------------------
// pushsvc

async function startPushsvc(certDir, logs) {
  const readyFile = path.join(tmp, 'ready.json');
  const config = path.join(tmp, 'pushsvc.toml');
  fs.writeFileSync(config, [
    '# written by tests/e2e/firefox_e2e.mjs',
    'profile = "compat"',
    '[server]',
    'listen = "127.0.0.1:0"',
    'tls_listen = "127.0.0.1:0"',
    `tls_cert = ${JSON.stringify(path.join(certDir, 'cert.pem'))}`,
    `tls_key = ${JSON.stringify(path.join(certDir, 'key.pem'))}`,
    '[limits]',
    'shutdown_grace_ms = 1000',
    '[store]',
    `path = ${JSON.stringify(path.join(tmp, 'data'))}`,
    '[log]',
    'level = "debug"',
    '',
  ].join('\n'));
  // `timeout` bounds pushsvc's life even if this script is killed with SIGKILL; it forwards
  // our SIGTERM to pushsvc.
  const lifetime = Math.ceil(LIMITS.total / 1000) + 30;
  const proc = spawn('timeout', ['-k', '5', String(lifetime), opts.bin, '--config', config,
    '--ready-file', readyFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  const entry = { name: 'pushsvc', proc };
  children.add(entry);
  logs.attach(proc, '');
  proc.on('exit', (code, sig) => logs.note(`pushsvc exited (code ${code}, signal ${sig})`));
  mark(`pushsvc started (pid ${proc.pid} via timeout)`);
  const deadline = Date.now() + LIMITS.readyFile;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) fail(`pushsvc exited with status ${proc.exitCode} before it was ready`);
    try {
      const ready = JSON.parse(fs.readFileSync(readyFile, 'utf8'));
      if (ready.cleartext && ready.tls) {
        mark(`pushsvc ready: cleartext ${ready.cleartext}, tls ${ready.tls}, origin ${ready.origin}`);
        return { entry, ready };
      }
    } catch {
      // not written (completely) yet
    }
    await sleep(100);
  }
  fail(`pushsvc wrote no usable ready file within ${LIMITS.readyFile} ms`);
  return null;
}

// GET / with a WebSocket upgrade (RFC 6455 §4.1) offering `push-notification`: pushsvc must
// answer 101 and select the subprotocol. Nothing is sent over the socket.
function probeWebSocket(hostport, useTls, caFile) {
  const [host, port] = [hostport.slice(0, hostport.lastIndexOf(':')), Number(hostport.slice(hostport.lastIndexOf(':') + 1))];
  return new Promise((resolve) => {
    const mod = useTls ? createRequire(import.meta.url)('node:https') : http;
    const req = mod.request({
      host, port, path: '/', method: 'GET', timeout: 5000,
      ...(useTls ? { ca: fs.readFileSync(caFile), servername: 'localhost' } : {}),
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': crypto.randomBytes(16).toString('base64'),
        'Sec-WebSocket-Protocol': 'push-notification',
      },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode, protocol: res.headers['sec-websocket-protocol'] });
    });
    req.on('response', (res) => {
      res.resume();
      resolve({ status: res.statusCode, protocol: res.headers['sec-websocket-protocol'] });
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 5 s')));
    req.on('error', (e) => resolve({ status: null, error: e.message }));
    req.end();
  });
}

// ---------------------------------------------------------------------------------------------
// Sender (child node process; NODE_EXTRA_CA_CERTS must be set at its start)

let sendCounter = 0;
async function sendPush(subscription, payload, contentEncoding, ctx) {
  const n = ++sendCounter;
  mark(`send #${n} ${contentEncoding}: web-push sendNotification() to ${new URL(subscription.endpoint).origin}`);
  const proc = spawn(process.execPath, [path.join(here, 'firefox', 'send.mjs')], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, NODE_EXTRA_CA_CERTS: ctx.caFile },
  });
  const entry = { name: `sender #${n}`, proc };
  children.add(entry);
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d) => { stdout += d; });
  proc.stderr.on('data', (d) => { stderr += d; });
  proc.stdin.end(JSON.stringify({ subscription, payload, contentEncoding, ttl: 600, vapid: ctx.vapid }));
  const exited = await waitExit(proc, LIMITS.send);
  if (!exited) {
    await stopProcess(entry, 1000);
    fail(`sender #${n} (${contentEncoding}) did not finish within ${LIMITS.send} ms`);
  }
  children.delete(entry);
  let out;
  try {
    out = JSON.parse(stdout.trim().split('\n').pop());
  } catch {
    fail(`sender #${n} printed no result (exit ${proc.exitCode}): ${stderr.trim() || stdout.trim()}`);
  }
  const what = out.statusCode !== undefined ? `HTTP ${out.statusCode}` : `error ${out.error}`;
  mark(`send #${n} ${contentEncoding} -> ${what}`);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Firefox

function writeProfile(profile, serverURL) {
  fs.mkdirSync(profile, { recursive: true });
  const prefs = {
    // Push: where Firefox's PushService connects, and what it allows in a test profile
    'dom.push.serverURL': serverURL,
    'dom.push.testing.allowInsecureServerURL': true,
    'dom.push.testing.ignorePermission': true,
    'dom.push.enabled': true,
    'dom.push.connection.enabled': true,
    'dom.serviceWorkers.enabled': true,
    'dom.push.retryBaseInterval': 500,
    'dom.push.loglevel': 'Debug',
    'devtools.console.stdout.chrome': true,
    'devtools.console.stdout.content': true,
    // Quiet profile
    'browser.shell.checkDefaultBrowser': false,
    'browser.startup.homepage_override.mstone': 'ignore',
    'browser.startup.page': 0,
    'browser.aboutwelcome.enabled': false,
    'browser.sessionstore.resume_from_crash': false,
    'browser.tabs.warnOnClose': false,
    'toolkit.startup.max_resumed_crashes': -1,
    'datareporting.policy.dataSubmissionEnabled': false,
    'datareporting.healthreport.uploadEnabled': false,
    'toolkit.telemetry.reportingpolicy.firstRun': false,
    'app.update.disabledForTesting': true,
    'app.normandy.enabled': false,
    'extensions.update.enabled': false,
    'browser.safebrowsing.malware.enabled': false,
    'browser.safebrowsing.phishing.enabled': false,
    'network.captive-portal-service.enabled': false,
    'network.connectivity-service.enabled': false,
    // Loopback only: every non-loopback connection goes to a dead proxy port and fails fast
    // (loopback is never proxied: network.proxy.allow_hijacking_localhost is false).
    'network.proxy.type': 1,
    'network.proxy.http': '127.0.0.1',
    'network.proxy.http_port': 9,
    'network.proxy.ssl': '127.0.0.1',
    'network.proxy.ssl_port': 9,
  };
  const lines = Object.entries(prefs).map(([k, v]) => `user_pref(${JSON.stringify(k)}, ${JSON.stringify(v)});`);
  fs.writeFileSync(path.join(profile, 'user.js'), lines.join('\n') + '\n');
}

function importCa(profile, caFile) {
  // Firefox keeps its own NSS database; for wss:// the test CA must be trusted there.
  try {
    execFileSync('certutil', ['-N', '-d', `sql:${profile}`, '--empty-password'], { stdio: 'pipe' });
    execFileSync('certutil', ['-A', '-d', `sql:${profile}`, '-n', 'pushsvc e2e test CA', '-t', 'C,,',
      '-i', caFile], { stdio: 'pipe' });
  } catch (e) {
    fail(`certutil could not import the test CA into the Firefox profile (install libnss3-tools): ${e.message}`);
  }
}

function firefoxBinary() {
  const candidates = opts.firefox.includes('/') ? [opts.firefox] :
    (process.env.PATH || '').split(':').map((d) => path.join(d, opts.firefox));
  for (const c of candidates) {
    try {
      fs.accessSync(c, fs.constants.X_OK);
      return c;
    } catch {
      // next
    }
  }
  fail(`${opts.firefox} not found: install it with tools/install-deps.sh (Debian package firefox-esr)`);
  return null;
}

let firefoxRuns = 0;
function launchFirefox(bin, profile, url, logs, home) {
  const run = ++firefoxRuns;
  const lifetime = Math.max(10, Math.ceil((LIMITS.total - (Date.now() - T0)) / 1000) + 15);
  const proc = spawn('timeout', ['-k', '5', String(lifetime), bin, '--headless', '--no-remote',
    '--profile', profile, url], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      HOME: home,
      XDG_CACHE_HOME: path.join(home, '.cache'),
      XDG_CONFIG_HOME: path.join(home, '.config'),
      MOZ_HEADLESS: '1',
      MOZ_CRASHREPORTER_DISABLE: '1',
      MOZ_DISABLE_AUTO_SAFE_MODE: '1',
    },
  });
  const entry = { name: `firefox #${run}`, proc };
  children.add(entry);
  logs.note(`firefox #${run} started: ${url}`);
  logs.attach(proc, `#${run}`);
  proc.on('exit', (code, sig) => logs.note(`firefox #${run} exited (code ${code}, signal ${sig})`));
  mark(`firefox #${run} launched (pid ${proc.pid} via timeout) ${url}`);
  return entry;
}

// What Firefox's push debug log says about the WebSocket, for failure messages.
function firefoxPushDiagnosis(logs) {
  const frames = firefoxFrames(logs);
  const has = (dir, type) => frames.some((f) => f.dir === dir && f.msg.messageType === type);
  const facts = [
    [!!logs.find(/beginWSSetup: Connecting to/), 'started a WebSocket connection'],
    [!!logs.find(/wsOnStart\(\)/), 'got the WebSocket upgrade accepted'],
    [has('sent', 'hello'), 'sent hello'],
    [has('recv', 'hello'), 'received a hello reply'],
    [has('sent', 'register'), 'sent register'],
    [has('recv', 'register'), 'received a register reply'],
  ];
  const lines = facts.map(([yes, what]) => `  ${yes ? 'yes' : 'NO '}  Firefox ${what}`);
  const errors = logs.lines.filter((l) => /Push\w*: .*(error|warn)|console\.(error|warn): Push|wsOnStop|wsOnServerClose/i.test(l)).slice(-10);
  const recent = frames.slice(-6).map((f) => `${f.dir === 'sent' ? 'sent' : 'recv'} ${JSON.stringify(f.msg).slice(0, 300)}`);
  return lines.join('\n') +
    (recent.length ? `\n  last frames:\n    ${recent.join('\n    ')}` : '') +
    (errors.length ? `\n  last push errors/closes:\n    ${errors.join('\n    ')}` : '');
}

// The WebSocket frames Firefox sent and received, parsed from its push debug log
// (dom.push.loglevel=Debug, devtools.console.stdout.chrome=true), e.g.
//   [   4.35s] #1 console.debug: PushServiceWebSocket: "wsSendMessage: Sending message" "{\"messageType\":...}"
// -> [{t: 4.35, run: 1, dir: 'sent'|'recv', msg: {...}}]. Empty if the log format is unknown.
function firefoxFrames(logs) {
  const out = [];
  const re = /^\[\s*([\d.]+)s\] #(\d+) .*PushServiceWebSocket: "(wsSendMessage: Sending message|wsOnMessageAvailable\(\))" (".*")\s*$/;
  for (const l of logs.lines) {
    const m = re.exec(l);
    if (!m) continue;
    try {
      out.push({ t: Number(m[1]), run: Number(m[2]), dir: m[3].startsWith('ws') && m[3].includes('Sending') ? 'sent' : 'recv', msg: JSON.parse(JSON.parse(m[4])) });
    } catch {
      // not one JSON frame
    }
  }
  return out;
}

function frameTimeline(logs) {
  return firefoxFrames(logs).map((f) => {
    const type = f.msg.messageType || (Object.keys(f.msg).length ? 'untyped' : '{} (ping)');
    let extra = '';
    if (type === 'ack') extra = ` (code ${(f.msg.updates || []).map((u) => u.code).join(',')})`;
    if (type === 'notification') extra = ` (${f.msg.headers ? f.msg.headers.encoding : 'no headers'})`;
    if (type === 'hello' && f.dir === 'sent') extra = f.msg.uaid ? ' (with uaid)' : ' (no uaid)';
    const arrow = f.dir === 'sent' ? 'firefox -> pushsvc' : 'pushsvc -> firefox';
    return `${f.t.toFixed(2).padStart(7)}s  [ff#${f.run}] ${arrow}: ${type}${extra}`;
  });
}

async function waitForFrames(logs, pred, count, ms) {
  const deadline = Date.now() + ms;
  for (;;) {
    const n = firefoxFrames(logs).filter(pred).length;
    if (n >= count || Date.now() >= deadline) return n;
    await sleep(100);
  }
}

// Issue 4's frame rules, checked on what Firefox actually received (only when Firefox's
// debug log could be parsed).
function checkFrames(frames, sub) {
  const recv = (run, type) => frames.filter((f) => f.run === run && f.dir === 'recv' && f.msg.messageType === type);
  const sent = (run, type) => frames.filter((f) => f.run === run && f.dir === 'sent' && f.msg.messageType === type);
  const hello1 = recv(1, 'hello')[0];
  check(hello1 && typeof hello1.msg.uaid === 'string' && hello1.msg.uaid.length > 0 &&
    hello1.msg.uaid.length <= 128 && hello1.msg.use_webpush === true,
  'frames: the hello reply has a uaid and use_webpush: true', hello1 && hello1.msg);
  const reg = recv(1, 'register');
  check(reg.length === 1 && reg[0].msg.status === 200 && reg[0].msg.pushEndpoint === sub.endpoint,
    'frames: the register reply has status 200 and the endpoint the page got', reg.map((f) => f.msg));
  const notes = recv(1, 'notification');
  check(notes.length === 2, 'frames: two notification frames before the restart', notes.length);
  const [n1, n2] = notes.map((f) => f.msg);
  check(JSON.stringify(n1.headers) === '{"encoding":"aes128gcm"}' && typeof n1.data === 'string' &&
    n1.channelID === reg[0].msg.channelID,
  'frames: the aes128gcm notification carries data and headers {encoding} only', n1);
  const h2 = n2.headers || {};
  check(h2.encoding === 'aesgcm' && /^salt=[A-Za-z0-9_-]+$/.test(h2.encryption || '') &&
    /^dh=[A-Za-z0-9_-]+$/.test(h2.crypto_key || '') &&
    Object.keys(h2).sort().join(',') === 'crypto_key,encoding,encryption',
  'frames: the aesgcm notification has encryption=salt and crypto_key with only dh (unpadded, no p256ecdsa)', h2);
  const forbidden = notes.filter((f) => ['ttl', 'TTL', 'topic', 'urgency'].some((k) => k in f.msg));
  check(forbidden.length === 0, 'frames: TTL, Topic and Urgency are not forwarded', forbidden.map((f) => f.msg));
  const acks1 = sent(1, 'ack').flatMap((f) => f.msg.updates || []);
  check(acks1.length === 2 && acks1.every((u) => u.code === 100) &&
    acks1[0].version === n1.version && acks1[1].version === n2.version && n1.version !== n2.version,
  'frames: Firefox acked both (code 100, distinct versions)', acks1);
  const hello2s = sent(2, 'hello')[0];
  const hello2r = recv(2, 'hello')[0];
  check(hello2s && hello2s.msg.uaid === hello1.msg.uaid && hello2r && hello2r.msg.uaid === hello1.msg.uaid,
    'frames: after the restart Firefox sent its uaid and pushsvc kept it', [hello2s && hello2s.msg, hello2r && hello2r.msg]);
  const notes2 = recv(2, 'notification');
  check(notes2.length === 1 && ![n1.version, n2.version].includes(notes2[0].msg.version),
    'frames: after the restart only the stored message is delivered (acked ones never again)',
    notes2.map((f) => f.msg.version));
  const acks2 = sent(2, 'ack').flatMap((f) => f.msg.updates || []);
  check(acks2.length === 1 && acks2[0].code === 100, 'frames: Firefox acked the stored message (code 100)', acks2);
  const unreg = recv(2, 'unregister');
  check(unreg.length === 1 && unreg[0].msg.status === 200, 'frames: the unregister reply has status 200',
    unreg.map((f) => f.msg));
}

// ---------------------------------------------------------------------------------------------
// The test

async function main() {
  const require = createRequire(import.meta.url);
  let webpush;
  try {
    webpush = require('web-push');
  } catch {
    fail('npm package web-push missing: run `npm ci --prefix tests/e2e`');
  }
  const ffBin = firefoxBinary();
  if (!fs.existsSync(opts.bin)) fail(`pushsvc binary not found: ${opts.bin}`);
  const devCert = path.join(opts.source, 'tools', 'dev-cert.sh');
  if (!fs.existsSync(devCert)) fail(`${devCert} not found (--source must be the repository root)`);
  mark(`temp dir ${tmp}`);

  const ctx = {};

  // 1. certificates, pushsvc
  const certDir = path.join(tmp, 'tls');
  execFileSync('bash', [devCert, certDir], { stdio: 'pipe' });
  ctx.caFile = path.join(certDir, 'ca.pem');
  mark('test CA and server certificate made (tools/dev-cert.sh)');
  const { ready } = await startPushsvc(certDir, pushsvcLog);
  const wsTarget = opts.transport === 'ws' ? ready.cleartext : ready.tls;
  const probe = await probeWebSocket(wsTarget, opts.transport === 'wss', ctx.caFile);
  check(probe.status === 101 && probe.protocol === 'push-notification',
    `pushsvc upgrades ${opts.transport}://${wsTarget}/ to WebSocket push-notification`,
    `got ${probe.status === null ? `no answer (${probe.error})` : `HTTP ${probe.status}`}` +
    `, Sec-WebSocket-Protocol ${JSON.stringify(probe.protocol ?? null)}` +
    ' (the WebSocket channel of issue 4 is not available in this build)');

  // 2. test site
  const site = new TestSite();
  await site.start();
  cleanups.push(() => site.stop());
  mark(`test site on http://127.0.0.1:${site.port}/`);
  ctx.vapid = { subject: 'mailto:e2e@pushsvc.invalid', ...webpush.generateVAPIDKeys() };
  site.settings = {
    vapidPublicKey: ctx.vapid.publicKey,
    probeTimeoutMs: 2000,
    probeBudgetMs: 45_000,
    subscribeAttempts: 3,
    subscribeTimeoutMs: 15_000,
  };

  // 3. Firefox, fresh profile
  const profile = path.join(tmp, 'profile');
  const home = path.join(tmp, 'home');
  fs.mkdirSync(home);
  const serverURL = `${opts.transport}://${wsTarget}/`;
  writeProfile(profile, serverURL);
  if (opts.transport === 'wss') importCa(profile, ctx.caFile);
  mark(`profile ${profile} with dom.push.serverURL = ${serverURL}`);
  let ff = launchFirefox(ffBin, profile, site.url('?phase=first'), firefoxLog, home);

  const subscribed = await Promise.race([
    site.waitFor((r) => r.type === 'subscribed' || (r.from === 'page' && r.type === 'error'),
      LIMITS.firefoxSubscribe),
    new Promise((resolve) => ff.proc.once('exit', () => resolve('exited'))),
  ]);
  if (subscribed === 'exited') fail(`Firefox exited (status ${ff.proc.exitCode}) before it subscribed`);
  if (!subscribed || subscribed.type !== 'subscribed') {
    const loaded = site.reports.some((r) => r.type === 'loaded');
    fail(`Firefox did not subscribe within ${LIMITS.firefoxSubscribe / 1000} s ` +
      `(${subscribed ? `page error: ${subscribed.error}` : 'no subscription reported'}; ` +
      `page ${loaded ? 'loaded' : 'never loaded'}).\n${firefoxPushDiagnosis(firefoxLog)}`);
  }
  const sub = subscribed.subscription;
  check(sub && typeof sub.endpoint === 'string' && sub.keys && sub.keys.p256dh && sub.keys.auth,
    'the page subscribed and reported sub.toJSON() with endpoint, p256dh and auth', sub);
  const endpoint = new URL(sub.endpoint);
  check(endpoint.origin === `https://${ready.tls}` || endpoint.origin === ready.origin,
    `the endpoint is on pushsvc's origin ${ready.origin}`, sub.endpoint);
  check(endpoint.protocol === 'https:', 'the endpoint is an https URL (TLS listener)', sub.endpoint);

  // 4. online delivery: aes128gcm and aesgcm
  const nonce = crypto.randomBytes(4).toString('hex');
  const texts = {
    aes128gcm: `hello via aes128gcm ${nonce}`,
    aesgcm: `hello via aesgcm ${nonce}`,
    offline: `stored while Firefox was stopped ${nonce}`,
    gone: `after unsubscribe ${nonce}`,
  };
  for (const enc of ['aes128gcm', 'aesgcm']) {
    const res = await sendPush(sub, texts[enc], enc, ctx);
    check(res.statusCode === 201, `web-push ${enc} send over TLS (NODE_EXTRA_CA_CERTS) -> 201`, res);
    const got = await site.waitFor((r) => r.type === 'push' && r.text === texts[enc], LIMITS.delivery);
    if (!got) {
      fail(`the service worker did not report the ${enc} message within ${LIMITS.delivery / 1000} s` +
        ` (push reports so far: ${JSON.stringify(site.reports.filter((r) => r.type === 'push').map((r) => r.text))})`);
    }
    check(true, `the service worker received the decrypted ${enc} text`);
  }

  // 5. offline store-and-forward. First let Firefox's acks go out (seen in its log), so that
  // stopping it does not turn the second message into a redelivery.
  const acked = await waitForFrames(firefoxLog, (f) => f.run === 1 && f.dir === 'sent' &&
    f.msg.messageType === 'ack', 2, 5000);
  mark(`firefox #1 sent ${acked} ack frame(s); stopping it (SIGTERM)`);
  const exitedInTime = await (async () => {
    const t = Date.now();
    await stopProcess(ff, LIMITS.firefoxExit);
    return Date.now() - t < LIMITS.firefoxExit;
  })();
  mark(`firefox #1 stopped${exitedInTime ? '' : ' (needed SIGKILL)'}`);
  const offlineRes = await sendPush(sub, texts.offline, 'aes128gcm', ctx);
  check(offlineRes.statusCode === 201, 'a send while Firefox is stopped -> 201', offlineRes);
  ff = launchFirefox(ffBin, profile, site.url('?phase=restart'), firefoxLog, home);
  const offlineGot = await Promise.race([
    site.waitFor((r) => r.type === 'push' && r.text === texts.offline, LIMITS.restartDelivery),
    new Promise((resolve) => ff.proc.once('exit', () => resolve('exited'))),
  ]);
  if (offlineGot === 'exited') fail(`restarted Firefox exited (status ${ff.proc.exitCode}) early`);
  if (!offlineGot) {
    fail(`after the restart the service worker did not report the message sent while Firefox was` +
      ` stopped within ${LIMITS.restartDelivery / 1000} s.\n${firefoxPushDiagnosis(firefoxLog)}`);
  }
  check(true, 'after a restart on the same profile the service worker received the message sent while offline');
  const resumed = await site.waitFor((r) => r.type === 'resumed', LIMITS.restartDelivery);
  check(resumed && resumed.subscription && resumed.subscription.endpoint === sub.endpoint,
    'the restarted browser still has the same subscription (pushsvc kept its uaid)',
    resumed ? resumed.subscription : 'no report from the restarted page');
  for (const enc of ['aes128gcm', 'aesgcm']) {
    const n = site.reports.filter((r) => r.type === 'push' && r.text === texts[enc]).length;
    check(n === 1, `the ${enc} message reached the service worker exactly once`, `${n} times`);
  }

  // 6. unsubscribe -> 410
  const id = site.issue('unsubscribe');
  const unsub = await site.waitFor((r) => r.id === id && r.from === 'page', LIMITS.unsubscribe);
  check(unsub && unsub.type === 'unsubscribed' && unsub.result === true && unsub.after === null,
    'unsubscribe() in the page resolved true (pushsvc answered the unregister with 200)', unsub);
  const goneRes = await sendPush(sub, texts.gone, 'aes128gcm', ctx);
  check(goneRes.statusCode === 410, 'a send to the unsubscribed endpoint -> 410', goneRes);
  const stray = await site.waitFor((r) => r.type === 'push' && r.text === texts.gone, 1000);
  check(!stray, 'nothing reached the service worker after unsubscribe()');
  const changes = site.reports.filter((r) => r.type === 'pushsubscriptionchange');
  check(changes.length === 0, 'no pushsubscriptionchange during the run', changes);

  // 7. the frames themselves, as Firefox logged them
  const frames = firefoxFrames(firefoxLog);
  if (frames.length === 0) {
    console.log('skip frame checks: Firefox\'s push debug log format was not recognised');
  } else {
    checkFrames(frames, sub);
  }

}

const pushsvcLog = new LogSink(path.join(tmp, 'pushsvc.log'));
const firefoxLog = new LogSink(path.join(tmp, 'firefox.log'));
cleanups.push(() => {
  fs.closeSync(pushsvcLog.fd);
  fs.closeSync(firefoxLog.fd);
});
let status = 0;
const watchdog = setTimeout(async () => {
  console.error(`FAIL firefox_e2e: the whole run exceeded ${LIMITS.total / 1000} s`);
  await cleanup();
  printTimeline();
  console.error(`\n---- tail of pushsvc log ----\n${pushsvcLog.tail(40)}`);
  console.error(`\n---- tail of firefox log ----\n${firefoxLog.tail(40)}`);
  console.error(`\nlogs, profile and certificates kept in ${tmp}`);
  process.exit(1);
}, LIMITS.total);

function printTimeline() {
  console.log('\ntimeline (seconds since start; frames as logged by Firefox):');
  const all = [...timeline, ...frameTimeline(firefoxLog)];
  all.sort((a, b) => parseFloat(a) - parseFloat(b));
  for (const l of all) console.log(`  ${l}`);
}

try {
  await main();
  console.log(`\nPASS firefox_e2e (${opts.transport}): ${checks} checks in ${since().trim()} s`);
} catch (e) {
  status = 1;
  if (aborted) await new Promise(() => {}); // the signal handler exits
  const msg = e instanceof TestFailure ? e.message : (e && e.stack) || String(e);
  console.error(`\nFAIL firefox_e2e (${opts.transport}): ${msg}`);
}
await cleanup();
clearTimeout(watchdog);
printTimeline();
if (status !== 0) {
  for (const [name, sink] of [['pushsvc', pushsvcLog], ['firefox', firefoxLog]]) {
    console.error(`\n---- tail of ${name} log (${sink.file}) ----\n${sink.tail(40)}`);
  }
  console.error(`\nlogs, profile and certificates kept in ${tmp}`);
} else if (opts.keep) {
  console.log(`kept ${tmp}`);
} else {
  fs.rmSync(tmp, { recursive: true, force: true });
}
process.exit(status);
