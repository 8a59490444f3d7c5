// The try-it page end to end in stock Firefox ESR (headless, driven by puppeteer-core over
// WebDriver BiDi): Firefox's push service is pushsvc B (dom.push.serverURL). B's /demo/
// subscribes Firefox with B's demo key, the button makes B encrypt, sign and push a text, and
// the page's service worker reports it. The same Firefox opening pushsvc A's /demo/ gets a
// subscription of B, which A's page must explain instead of sending, and A's /demo/send
// refuses that endpoint with 400 foreign_endpoint.
//
//   node tests/e2e/demo_firefox.mjs --bin build/bin/pushsvc [--firefox /usr/bin/firefox-esr]
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { startPushsvc, until } from './lib/pushsvc.mjs';

const require = createRequire(import.meta.url);
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const bin = arg('--bin');
const firefox = arg('--firefox', '/usr/bin/firefox-esr');
if (!fs.existsSync(firefox)) {
  console.log(`SKIP: ${firefox} missing (Debian package firefox-esr, tools/install-deps.sh)`);
  process.exit(77);
}
let puppeteer;
try {
  puppeteer = require('puppeteer-core');
} catch {
  console.log('SKIP: npm packages missing (npm ci --prefix tests/e2e)');
  process.exit(77);
}

const failures = [];
const check = (ok, what) => { console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`); if (!ok) failures.push(what); };
const TEXT = `demo push ${process.pid}`;

// Opens `url` and waits for the page's subscription attempt to settle. Firefox loses a push
// request made before its PushService has started (it connects lazily), so a page that has
// not settled within 10 s is reloaded, five times at most.
async function openDemo(page, url) {
  for (let attempt = 1; attempt <= 5; attempt++) {
    await page.goto(url, { waitUntil: 'load', timeout: 30_000 });
    const settled = await until(() => page.evaluate(() => document.body.dataset.state), { ms: 10_000 });
    if (settled) return settled;
    console.log(`     (page not settled after 10 s, reload ${attempt})`);
  }
  return undefined;
}

const a = await startPushsvc({ bin });
const b = await startPushsvc({ bin });
let browser;
try {
  browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: firefox,
    headless: true,
    extraPrefsFirefox: {
      'dom.push.serverURL': `ws://${b.ready.cleartext}/`,
      'dom.push.testing.allowInsecureServerURL': true,
      'dom.push.testing.ignorePermission': true,
      'dom.push.enabled': true,
      'dom.push.connection.enabled': true,
      'dom.serviceWorkers.enabled': true,
      'dom.push.retryBaseInterval': 500,
      'permissions.default.desktop-notification': 1,
    },
  });
  const page = await browser.newPage();
  const state = await openDemo(page, `${b.base}/demo/`);
  const text = await page.evaluate(() => document.getElementById('state').textContent);
  check(state === 'ok' && text.startsWith('Subscribed'), `B's page subscribed: ${text}`);
  await page.$eval('#text', (el, t) => { el.value = t; }, TEXT);
  await page.click('#send');
  const received = await until(() => page.evaluate(() => document.body.dataset.received), { ms: 30_000 });
  const items = await page.evaluate(() => [...document.querySelectorAll('#received li')].map((li) => li.textContent));
  check(received === '1' && items[0] === TEXT, `the service worker got the push: ${JSON.stringify(items)}`);
  const status = await (await fetch(`${b.base}/status.json`)).json();
  check(status.totals.pushes === 1 && status.totals.deliveries === 1,
    `B counted one push and one delivery: ${JSON.stringify(status.totals)}`);

  // The same browser on A's page: its subscription is B's, and A's page says so.
  const foreignState = await openDemo(page, `${a.base}/demo/`);
  const foreignText = await page.evaluate(() => document.getElementById('state').textContent);
  check(foreignState === 'error' && foreignText.includes('not this pushsvc'),
    `A's page explains the foreign push service: ${foreignText}`);
  const subscription = await page.evaluate(async () => {
    const reg = await navigator.serviceWorker.getRegistration('/demo/');
    return (await reg.pushManager.getSubscription()).toJSON();
  });
  const refused = await fetch(`${a.base}/demo/send`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ subscription, text: 'x' }),
  });
  const body = await refused.json();
  check(refused.status === 400 && body.reason === 'foreign_endpoint',
    `A's /demo/send refuses B's endpoint: ${refused.status} ${body.reason}`);
} catch (e) {
  failures.push(String(e.stack || e));
  console.log(`FAIL ${e.stack || e}`);
} finally {
  await browser?.close().catch(() => {});
  if (failures.length) console.log(`--- pushsvc A log\n${a.log()}\n--- pushsvc B log\n${b.log()}`);
  await a.stop();
  await b.stop();
}
console.log(failures.length ? `FAILED: ${failures.length} check(s)` : 'PASS: try-it page in Firefox');
process.exit(failures.length ? 1 : 0);
