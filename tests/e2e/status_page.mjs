// The status page in a real browser (headless Chromium, Debian package chromium, driven by
// puppeteer-core): pushsvc configured so that even loopback needs the operator token, one
// WebSocket browser connected and one push made; the page first asks for the token, then
// shows what /status.json says (version, connected browsers, pushes), and a screenshot is
// taken. /status.json itself holds no endpoint, token or key.
//
//   node tests/e2e/status_page.mjs --bin build/bin/pushsvc [--screenshot FILE]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { startPushsvc, until } from './lib/pushsvc.mjs';

const require = createRequire(import.meta.url);
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const bin = arg('--bin');
const screenshot = arg('--screenshot', path.join(os.tmpdir(), `pushsvc-status-${process.pid}.png`));
const chromium = arg('--chromium', '/usr/bin/chromium');
if (!fs.existsSync(chromium)) {
  console.log(`SKIP: ${chromium} missing (Debian package chromium, tools/install-deps.sh)`);
  process.exit(77);
}
let puppeteer, WebSocket;
try {
  puppeteer = require('puppeteer-core');
  WebSocket = require('ws');
} catch {
  console.log('SKIP: npm packages missing (npm ci --prefix tests/e2e)');
  process.exit(77);
}

const TOKEN = 'operator-token-for-the-status-page-test';
const failures = [];
const check = (ok, what) => { console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`); if (!ok) failures.push(what); };

const svc = await startPushsvc({
  bin,
  extraToml: `[admin]\ntoken = "${TOKEN}"\nloopback_without_token = false\n`,
});
let browser, ws;
try {
  // A push to a fresh subscription, so the report has something to count.
  const sub = await fetch(`${svc.base}/subscribe`, { method: 'POST' });
  const endpoint = /<([^>]+)>;\s*rel="urn:ietf:params:push"/.exec(sub.headers.get('link'))[1];
  const pushed = await fetch(endpoint.replace(/^https?:\/\/[^/]+/, svc.base), { method: 'POST', headers: { ttl: '60' } });
  check(pushed.status === 201, `push answered ${pushed.status}`);

  // One WebSocket browser (the Firefox push protocol's hello) stays connected.
  ws = new WebSocket(`ws://${svc.ready.cleartext}/`, 'push-notification');
  await new Promise((resolve, reject) => {
    ws.once('open', () => ws.send(JSON.stringify({ messageType: 'hello', use_webpush: true })));
    ws.once('message', resolve);
    ws.once('error', reject);
  });

  const noToken = await fetch(`${svc.base}/status.json`);
  check(noToken.status === 401, `/status.json without the token: ${noToken.status}`);
  const status = await until(async () => {
    const r = await fetch(`${svc.base}/status.json`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const j = await r.json();
    return j.connected.websocket === 1 && j.totals.pushes === 1 ? j : undefined;
  }, { ms: 10_000 });
  check(Boolean(status), '/status.json with the token counts the browser and the push');
  const text = JSON.stringify(status ?? {});
  check(!text.includes(endpoint.split('/').pop()) && !text.includes(TOKEN),
    '/status.json names no endpoint token and no operator token');

  browser = await puppeteer.launch({
    executablePath: chromium,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-dev-shm-usage'],
  });
  const page = await browser.newPage();
  await page.setViewport({ width: 1100, height: 900 });
  await page.goto(`${svc.base}/`, { waitUntil: 'load', timeout: 30_000 });
  await page.waitForSelector('#login', { visible: true, timeout: 15_000 });
  check(true, 'the page asks for the operator token');
  await page.type('#token', TOKEN);
  await page.click('#login button');
  await page.waitForSelector('body[data-loaded="true"]', { timeout: 15_000 });
  const dom = await page.evaluate(() => ({
    version: document.getElementById('version').textContent,
    ws: document.getElementById('ws').textContent,
    errors: document.getElementById('errors').textContent,
    service: document.getElementById('service').textContent,
    login: getComputedStyle(document.getElementById('login')).display,
  }));
  check(dom.version === status?.version, `page shows version ${dom.version}`);
  check(dom.ws === '1', `page shows ${dom.ws} connected WebSocket browser(s)`);
  check(dom.service.includes(svc.ready.origin), 'page shows the origin');
  check(dom.service.includes('pushes accepted since start1'), 'page shows one accepted push');
  check(dom.login === 'none', 'the token form is gone once the token is right');
  await page.screenshot({ path: screenshot, fullPage: true });
  const png = fs.readFileSync(screenshot);
  check(png.length > 10_000 && png.subarray(1, 4).toString() === 'PNG', `screenshot ${screenshot} (${png.length} bytes)`);
} catch (e) {
  failures.push(String(e.stack || e));
  console.log(`FAIL ${e.stack || e}`);
} finally {
  ws?.terminate();
  await browser?.close().catch(() => {});
  if (failures.length) console.log('--- pushsvc log\n' + svc.log());
  await svc.stop();
}
console.log(failures.length ? `FAILED: ${failures.length} check(s)` : 'PASS: status page');
process.exit(failures.length ? 1 : 0);
