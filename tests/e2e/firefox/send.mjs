// One push through npm web-push's sendNotification(), as a real application server does it.
// Run as a child process of firefox_e2e.mjs so that NODE_EXTRA_CA_CERTS (the test CA, read only
// at process start) is the only thing that makes Node trust pushsvc's TLS certificate.
// stdin: {"subscription": PushSubscriptionJSON, "payload": string, "contentEncoding":
//         "aes128gcm"|"aesgcm", "ttl": seconds, "vapid": {"subject","publicKey","privateKey"}}
// stdout: one JSON line {"statusCode", "headers", "body"} or {"error", "code"} (no HTTP answer).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const webpush = require('web-push');

let input = '';
process.stdin.setEncoding('utf8');
for await (const chunk of process.stdin) input += chunk;
const job = JSON.parse(input);

let out;
try {
  const res = await webpush.sendNotification(job.subscription, job.payload, {
    vapidDetails: job.vapid,
    TTL: job.ttl,
    contentEncoding: job.contentEncoding,
    timeout: 10000,
  });
  out = { statusCode: res.statusCode, headers: res.headers, body: res.body };
} catch (e) {
  if (e && typeof e.statusCode === 'number') {
    // web-push rejects every answer that is not 2xx with a WebPushError carrying it.
    out = { statusCode: e.statusCode, headers: e.headers, body: e.body };
  } else {
    out = { error: String(e && e.message ? e.message : e), code: e && e.code ? e.code : null };
  }
}
process.stdout.write(JSON.stringify(out) + '\n');
