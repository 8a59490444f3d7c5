// Service worker of the real-Firefox end-to-end test (tests/e2e/firefox_e2e.mjs). It reports
// every push event's decrypted text, and any pushsubscriptionchange, to the test's HTTP server.
'use strict';

function report(obj) {
  return fetch('/report', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(Object.assign({ from: 'sw' }, obj)),
  });
}

self.addEventListener('install', (event) => event.waitUntil(self.skipWaiting()));
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('push', (event) => {
  let text = null;
  let error = null;
  try {
    text = event.data ? event.data.text() : null;
  } catch (e) {
    error = String(e);
  }
  event.waitUntil(report({ type: 'push', text, hasData: !!event.data, error }));
});

self.addEventListener('pushsubscriptionchange', (event) => {
  event.waitUntil(report({
    type: 'pushsubscriptionchange',
    oldEndpoint: event.oldSubscription ? event.oldSubscription.endpoint : null,
    newEndpoint: event.newSubscription ? event.newSubscription.endpoint : null,
  }));
});
