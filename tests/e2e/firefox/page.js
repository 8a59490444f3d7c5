// Page of the real-Firefox end-to-end test (tests/e2e/firefox_e2e.mjs). Driven without a
// WebDriver: it reports to the test's HTTP server (POST /report) and polls it for commands
// (GET /command). `?phase=first` subscribes; `?phase=restart` only reports the subscription
// Firefox kept in its profile. Both then execute commands ("unsubscribe", "status").
'use strict';

const phase = new URLSearchParams(location.search).get('phase') || 'first';

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function withTimeout(promise, ms, what) {
  let timer;
  const expiry = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([promise, expiry]).finally(() => clearTimeout(timer));
}

async function report(obj) {
  try {
    await fetch('/report', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(Object.assign({ from: 'page', phase }, obj)),
    });
  } catch (e) {
    // The test server is gone: nothing left to report to.
  }
}

function base64urlToBytes(s) {
  const b64 = s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (s.length % 4)) % 4);
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

// GET /ready until it answers 200 with the test's settings (bounded by the test's own deadline:
// the page simply keeps polling until the test gives up and stops Firefox).
async function fetchSettings() {
  for (;;) {
    try {
      const res = await fetch('/ready', { cache: 'no-store' });
      if (res.status === 200) return await res.json();
    } catch (e) {
      // not up yet
    }
    await sleep(250);
  }
}

// The race: a
// push request sent from the page before the parent-process PushService exists is lost and
// its promise never settles. getSubscription() travels the same way (Push:Registration, same
// listener as Push:Register) but has no side effect, so it is the probe: it is retried with a
// short timeout until one call settles; only then does the page subscribe.
async function waitForPushService(reg, settings) {
  const deadline = Date.now() + settings.probeBudgetMs;
  for (let attempt = 1; ; attempt++) {
    try {
      const sub = await withTimeout(reg.pushManager.getSubscription(), settings.probeTimeoutMs,
        'getSubscription()');
      await report({ type: 'push-service-ready', attempt });
      return sub;
    } catch (e) {
      await report({ type: 'probe', attempt, error: String(e) });
      if (Date.now() > deadline) throw new Error(`push service never answered: ${e}`);
      await sleep(500);
    }
  }
}

// Bounded retry around subscribe() as a second line of defence against the same race.
async function subscribe(reg, settings) {
  const options = {
    userVisibleOnly: true,
    applicationServerKey: base64urlToBytes(settings.vapidPublicKey),
  };
  let lastError;
  for (let attempt = 1; attempt <= settings.subscribeAttempts; attempt++) {
    try {
      const sub = await withTimeout(reg.pushManager.subscribe(options),
        settings.subscribeTimeoutMs, 'subscribe()');
      return { sub, attempt };
    } catch (e) {
      lastError = e;
      await report({ type: 'subscribe-attempt-failed', attempt, error: `${e.name}: ${e.message}` });
      await sleep(500);
    }
  }
  throw lastError;
}

async function runCommand(reg, cmd) {
  if (cmd.cmd === 'unsubscribe') {
    const sub = await reg.pushManager.getSubscription();
    if (!sub) return { type: 'unsubscribed', id: cmd.id, result: null, error: 'no subscription' };
    const endpoint = sub.endpoint;
    const result = await withTimeout(sub.unsubscribe(), 20000, 'unsubscribe()');
    const after = await reg.pushManager.getSubscription();
    return { type: 'unsubscribed', id: cmd.id, endpoint, result, after: after ? after.endpoint : null };
  }
  if (cmd.cmd === 'status') {
    const sub = await reg.pushManager.getSubscription();
    return { type: 'status', id: cmd.id, subscription: sub ? sub.toJSON() : null };
  }
  return { type: 'unknown-command', id: cmd.id, cmd: cmd.cmd };
}

async function commandLoop(reg) {
  let lastId = 0;
  for (;;) {
    try {
      const res = await fetch(`/command?after=${lastId}`, { cache: 'no-store' });
      if (res.status === 200) {
        const cmd = await res.json();
        if (cmd && cmd.id > lastId) {
          lastId = cmd.id;
          try {
            await report(await runCommand(reg, cmd));
          } catch (e) {
            await report({ type: 'command-failed', id: cmd.id, cmd: cmd.cmd, error: `${e.name}: ${e.message}` });
          }
        }
      }
    } catch (e) {
      // test server restarting or gone; keep polling
    }
    await sleep(250);
  }
}

async function main() {
  await report({ type: 'loaded', secureContext: window.isSecureContext, userAgent: navigator.userAgent });
  const settings = await fetchSettings();
  if (!('serviceWorker' in navigator) || !('PushManager' in window)) {
    await report({ type: 'error', error: 'this browser exposes no serviceWorker/PushManager' });
    return;
  }
  const reg = await navigator.serviceWorker.register('/sw.js');
  await navigator.serviceWorker.ready;
  await report({
    type: 'sw-ready',
    supportedContentEncodings: PushManager.supportedContentEncodings || null,
  });
  const existing = await waitForPushService(reg, settings);
  if (phase === 'first') {
    if (existing) {
      await report({ type: 'error', error: 'fresh profile already has a subscription' });
    }
    const { sub, attempt } = await subscribe(reg, settings);
    await report({ type: 'subscribed', attempt, subscription: sub.toJSON() });
  } else {
    await report({ type: 'resumed', subscription: existing ? existing.toJSON() : null });
  }
  await commandLoop(reg);
}

main().catch((e) => report({ type: 'error', error: `${e && e.name}: ${e && e.message}` }));
