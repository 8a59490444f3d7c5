#include "pushsvc/web/pages.h"

#include <boost/json.hpp>

#include <chrono>

#include "pushsvc/base/base64url.h"
#include "pushsvc/http/error_map.h"
#include "pushsvc/web/demo.h"
#include "pushsvc/webpush/push_service.h"

namespace pushsvc::web {
namespace {

std::string_view path_of(std::string_view target) { return target.substr(0, target.find('?')); }

http::Response document(std::string_view content_type, std::string_view body) {
    http::Response r;
    r.headers.add("content-type", std::string(content_type));
    // The pages are code; a framing site must not be able to dress them up.
    r.headers.add("x-frame-options", "DENY");
    r.headers.add("x-content-type-options", "nosniff");
    r.headers.add("cache-control", "no-cache");
    r.body = std::string(body);
    return r;
}

http::Response json(int status, const boost::json::object& body) {
    http::Response r;
    r.status = status;
    r.headers.add("content-type", "application/json");
    r.headers.add("cache-control", "no-store");
    r.body = boost::json::serialize(body);
    return r;
}

// A browser asking for a page, not a WebSocket client that got its upgrade wrong (those keep
// the Api's 400/426 answers, which tell them what is missing).
bool wants_page(const http::Request& req) {
    auto accept = req.headers.get("accept");
    return accept && accept->find("text/html") != std::string::npos &&
           !req.headers.get("upgrade") && !req.headers.get("sec-websocket-version");
}

// The string at `path` in a JSON document, or nullopt when anything on the way is missing.
std::optional<std::string> string_at(const boost::json::value& v,
                                     std::initializer_list<const char*> path) {
    const boost::json::value* cur = &v;
    for (const char* key : path) {
        const auto* obj = cur->if_object();
        if (!obj || !(cur = obj->if_contains(key))) return std::nullopt;
    }
    if (const auto* s = cur->if_string()) return std::string(s->data(), s->size());
    return std::nullopt;
}

}  // namespace

Pages::Pages(PagesDependencies deps) : deps_(std::move(deps)) {
    if (deps_.demo_key) demo_public_key_ = base::base64url_encode(deps_.demo_key->public_raw());
}

void Pages::handle(http::Request req, http::Responder respond) {
    std::string_view path = path_of(req.target);
    const bool get = req.method == "GET" || req.method == "HEAD";
    if (deps_.serve_status && path == "/" && get && wants_page(req))
        return respond(document("text/html; charset=utf-8", status_page_html()));
    if (deps_.serve_status && path == "/status.json" && get) {
        if (auto denied = deps_.authorize(req)) return respond(std::move(*denied));
        return respond(json(200, deps_.status.report(steady_ms(), deps_.clock.now_ms())));
    }
    if (deps_.demo_key) {
        if (path == "/demo" && get) {
            http::Response r;
            r.status = 301;
            r.headers.add("location", "/demo/");
            return respond(std::move(r));
        }
        if (path == "/demo/" && get)
            return respond(document("text/html; charset=utf-8", demo_page_html()));
        if (path == "/demo/sw.js" && get)
            return respond(document("text/javascript; charset=utf-8", demo_worker_js()));
        if (path == "/demo/key" && get)
            return respond(json(200, {{"publicKey", demo_public_key_}, {"origin", deps_.origin}}));
        if (path == "/demo/send" && req.method == "POST") return demo_send(req, std::move(respond));
    }
    deps_.inner(std::move(req), std::move(respond));
}

void Pages::demo_send(const http::Request& req, http::Responder respond) {
    boost::system::error_code ec;
    auto body = boost::json::parse(req.body, ec);
    if (ec || !body.is_object()) return respond(http::error_response(errc::bad_json));
    std::string endpoint = string_at(body, {"subscription", "endpoint"}).value_or("");
    std::string text = string_at(body, {"text"}).value_or("Hello from pushsvc");
    // Only endpoints of this service: the demo is not a relay to other push services.
    const std::string prefix = deps_.origin + std::string(webpush::kPushPrefix);
    if (endpoint.compare(0, prefix.size(), prefix) != 0 || endpoint.size() == prefix.size())
        return respond(http::error_response(errc::foreign_endpoint));
    auto ua_public =
        base::base64url_decode(string_at(body, {"subscription", "keys", "p256dh"}).value_or(""));
    auto auth_raw =
        base::base64url_decode(string_at(body, {"subscription", "keys", "auth"}).value_or(""));
    if (!ua_public || !auth_raw) return respond(http::error_response(errc::bad_json));
    auto encrypted = encrypt_aes128gcm(*ua_public, *auth_raw, text);
    if (!encrypted) return respond(http::error_response(to_errc(encrypted.error())));

    http::Request push;
    push.method = "POST";
    push.target = endpoint.substr(deps_.origin.size());
    push.authority = req.authority;
    // The visitor's address, as any request carries it. The push limit itself is keyed by the
    // demo key (a restricted subscription's sender), which every demo push shares.
    push.client = req.client;
    push.peer_address = req.peer_address;
    push.headers.add("ttl", "60");
    push.headers.add("urgency", "normal");
    push.headers.add("content-encoding", "aes128gcm");
    push.headers.add("content-type", "application/octet-stream");
    push.headers.add("authorization", vapid_authorization(*deps_.demo_key, deps_.origin,
                                                          "mailto:demo@pushsvc.invalid",
                                                          deps_.clock.now_ms() / 1000 + 12 * 3600));
    push.body = std::move(*encrypted);
    deps_.inner(std::move(push), std::move(respond));
}

std::string_view status_page_html() {
    return R"html(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>pushsvc status</title>
<style>
  body { font: 15px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 60em; padding: 0 1em; color: #222; }
  h1 { font-size: 1.5em; margin-bottom: .2em; }
  .sub { color: #666; margin-top: 0; }
  .grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(13em, 1fr)); gap: .8em; margin: 1.2em 0; }
  .card { border: 1px solid #ddd; border-radius: 6px; padding: .7em .9em; }
  .card .label { color: #666; font-size: .85em; }
  .card .value { font-size: 1.6em; font-variant-numeric: tabular-nums; }
  table { border-collapse: collapse; width: 100%; margin: .5em 0 1.5em; }
  th, td { text-align: left; padding: .3em .6em; border-bottom: 1px solid #eee; }
  td.n { text-align: right; font-variant-numeric: tabular-nums; }
  #error { color: #a00; }
  #login { display: none; margin: 1em 0; }
</style>
</head>
<body>
<h1>pushsvc</h1>
<p class="sub">Web Push service &middot; version <span id="version">?</span> &middot; up <span id="uptime">?</span> &middot; <a href="/demo/">try it</a></p>
<p id="error"></p>
<form id="login">
  <label>Operator token (<code>admin.token</code>): <input id="token" type="password" autocomplete="off"></label>
  <button type="submit">Show status</button>
</form>
<div class="grid">
  <div class="card"><div class="label">browsers connected (WebSocket)</div><div class="value" id="ws">-</div></div>
  <div class="card"><div class="label">monitors connected (HTTP/2)</div><div class="value" id="h2">-</div></div>
  <div class="card"><div class="label">pushes per second</div><div class="value" id="pushes">-</div></div>
  <div class="card"><div class="label">deliveries per second</div><div class="value" id="deliveries">-</div></div>
  <div class="card"><div class="label">queued messages</div><div class="value" id="queued">-</div></div>
  <div class="card"><div class="label">store size</div><div class="value" id="disk">-</div></div>
</div>
<h2>Recent errors <small id="errwindow"></small></h2>
<table><thead><tr><th>reason</th><th>count</th></tr></thead><tbody id="errors"><tr><td>none</td><td></td></tr></tbody></table>
<h2>Service</h2>
<table><tbody id="service"></tbody></table>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
const fmtInt = (n) => Number(n).toLocaleString("en");
const fmtRate = (n) => Number(n).toFixed(n < 10 ? 2 : 0);
function fmtBytes(n) {
  const u = ["B", "KiB", "MiB", "GiB", "TiB"]; let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return n.toFixed(i ? 1 : 0) + " " + u[i];
}
function fmtDuration(s) {
  const d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
  return d ? d + "d " + h + "h" : h ? h + "h " + m + "m" : m + "m " + Math.floor(s % 60) + "s";
}
function row(tbody, cells) {
  const tr = document.createElement("tr");
  cells.forEach(([text, cls]) => { const td = document.createElement("td"); td.textContent = text; if (cls) td.className = cls; tr.appendChild(td); });
  tbody.appendChild(tr);
}
function render(s) {
  $("version").textContent = s.version;
  $("uptime").textContent = fmtDuration(s.uptime_s);
  $("ws").textContent = fmtInt(s.connected.websocket);
  $("h2").textContent = fmtInt(s.connected.http2);
  $("pushes").textContent = fmtRate(s.rates.pushes_per_s);
  $("deliveries").textContent = fmtRate(s.rates.deliveries_per_s);
  $("queued").textContent = fmtInt(s.store.queued_messages);
  $("disk").textContent = fmtBytes(s.store.disk_bytes);
  $("errwindow").textContent = "(last " + fmtDuration(s.errors.window_s) + ")";
  const errors = $("errors"); errors.replaceChildren();
  const reasons = Object.entries(s.errors.by_reason).sort((a, b) => b[1] - a[1]);
  if (!reasons.length) row(errors, [["none"], [""]]);
  reasons.forEach(([k, v]) => row(errors, [[k], [fmtInt(v), "n"]]));
  const svc = $("service"); svc.replaceChildren();
  row(svc, [["origin"], [s.origin]]);
  row(svc, [["profile"], [s.profile]]);
  Object.entries(s.listeners).forEach(([k, v]) => row(svc, [["listener " + k], [v]]));
  row(svc, [["store"], [s.store.backend]]);
  row(svc, [["user agents stored"], [fmtInt(s.store.user_agents)]]);
  row(svc, [["receipt subscriptions"], [fmtInt(s.store.receipt_subscriptions)]]);
  row(svc, [["oldest queued message"], [fmtDuration(s.store.oldest_queued_age_s)]]);
  row(svc, [["pushes accepted since start"], [fmtInt(s.totals.pushes)]]);
  row(svc, [["deliveries since start"], [fmtInt(s.totals.deliveries)]]);
  document.body.dataset.loaded = "true";
}
async function refresh() {
  const token = sessionStorage.getItem("pushsvc-token");
  const headers = token ? { authorization: "Bearer " + token } : {};
  try {
    const res = await fetch("/status.json", { headers, cache: "no-store" });
    if (res.status === 401 || res.status === 403) {
      $("login").style.display = "block";
      $("error").textContent = res.status === 403 && token ? "That token is not right." : "This page needs the operator token here.";
      return;
    }
    if (!res.ok) throw new Error("status.json answered " + res.status);
    $("login").style.display = "none"; $("error").textContent = "";
    render(await res.json());
  } catch (e) { $("error").textContent = "Cannot reach pushsvc: " + e.message; }
}
$("login").addEventListener("submit", (e) => {
  e.preventDefault(); sessionStorage.setItem("pushsvc-token", $("token").value); refresh();
});
refresh();
setInterval(refresh, 5000);
</script>
</body>
</html>
)html";
}

std::string_view demo_page_html() {
    return R"html(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>pushsvc: try it</title>
<style>
  body { font: 15px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 42em; padding: 0 1em; color: #222; }
  button { font-size: 1em; padding: .4em 1em; }
  #state { padding: .6em .8em; border-radius: 6px; background: #f3f3f3; }
  #state.bad { background: #fde8e8; }
  #received li { margin: .2em 0; }
  code { background: #f3f3f3; padding: 0 .2em; }
</style>
</head>
<body>
<h1>Try pushsvc</h1>
<p>This page subscribes this browser to push messages with the service's demo key, then asks
pushsvc to send it one. The message is encrypted for this browser alone, goes through the
same route as any application server's, and arrives at the page's service worker, which shows
it as a notification and lists it below.</p>
<p id="state">Starting&hellip;</p>
<p><label>Text: <input id="text" value="Hello from pushsvc" maxlength="1000"></label>
<button id="send" disabled>Send me a push</button></p>
<h2>Received</h2>
<ul id="received"></ul>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
let subscription = null;
function state(text, bad) { $("state").textContent = text; $("state").className = bad ? "bad" : ""; document.body.dataset.state = bad ? "error" : "ok"; }
function b64url(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
function fromB64url(text) {
  const b = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(b, (c) => c.charCodeAt(0));
}
async function start() {
  if (!("serviceWorker" in navigator) || !("PushManager" in window)) {
    return state("This browser has no Push API here (it needs a secure context: https, or http://localhost).", true);
  }
  const { publicKey, origin } = await (await fetch("/demo/key")).json();
  const reg = await navigator.serviceWorker.register("/demo/sw.js", { scope: "/demo/" });
  await navigator.serviceWorker.ready;
  if (Notification.permission === "default") await Notification.requestPermission().catch(() => {});
  let sub = await reg.pushManager.getSubscription();
  if (sub && b64url(sub.options.applicationServerKey || new ArrayBuffer(0)) !== publicKey) {
    await sub.unsubscribe(); sub = null;  // made for another key (the service's key changed)
  }
  if (!sub) sub = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: fromB64url(publicKey) });
  const json = sub.toJSON();
  if (!json.endpoint.startsWith(origin + "/")) {
    const theirs = new URL(json.endpoint).host;
    return state("This browser's push service is " + theirs + ", not this pushsvc (" + origin + "). " +
      "pushsvc can only push to subscriptions it made. In Firefox, set dom.push.serverURL in about:config " +
      "to this service's WebSocket URL (ws:// or wss:// of its address) and restart, then reload this page.", true);
  }
  subscription = json;
  document.body.dataset.endpoint = "ours";
  $("send").disabled = false;
  state("Subscribed. Press the button.");
}
$("send").addEventListener("click", async () => {
  state("Sending\u2026");
  const res = await fetch("/demo/send", { method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ subscription, text: $("text").value }) });
  if (res.status === 201) return state("pushsvc accepted the push (201); waiting for it to arrive\u2026");
  const body = await res.json().catch(() => ({}));
  state("pushsvc answered " + res.status + ": " + (body.message || body.reason || "?"), true);
});
navigator.serviceWorker && navigator.serviceWorker.addEventListener("message", (e) => {
  if (!e.data || e.data.type !== "push") return;
  const li = document.createElement("li"); li.textContent = e.data.text; $("received").appendChild(li);
  document.body.dataset.received = String($("received").children.length);
  state("Received: " + e.data.text);
});
start().catch((e) => state("Could not subscribe: " + e.message, true));
</script>
</body>
</html>
)html";
}

std::string_view demo_worker_js() {
    return R"js("use strict";
// The try-it page's service worker: shows each push as a notification and tells open pages.
self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (e) => e.waitUntil(self.clients.claim()));
self.addEventListener("push", (e) => {
  const text = e.data ? e.data.text() : "(empty push)";
  e.waitUntil((async () => {
    const pages = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    pages.forEach((c) => c.postMessage({ type: "push", text }));
    try { await self.registration.showNotification("pushsvc", { body: text }); } catch (err) { /* no permission */ }
  })());
});
)js";
}

}  // namespace pushsvc::web
