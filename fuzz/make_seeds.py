#!/usr/bin/env python3
"""Writes the seed corpora under fuzz/corpus/<target>/ (run from anywhere; idempotent).

Seeds are small, real-looking inputs taken from the unit tests and the RFCs: a fuzzer starting
from valid requests, frames, tokens and records reaches deep code at once. The layout of each
target's input is described at the top of its harness (fuzz/harness/<target>.cc). Files this
script does not write (inputs libFuzzer added with tools/fuzz.sh --update-corpus) are kept.
"""
import hashlib
import os
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
WHOLE = b"\xff"  # byte 0 >= 128: the harness feeds the input in one piece


def write(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# --- HTTP/2 (RFC 9113 §4.1 frames, RFC 7541 HPACK literals without Huffman) -------------------
def frame(ftype, flags, sid, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", sid) + payload


def lit(name, value):  # literal header field without indexing, new name (RFC 7541 §6.2.2)
    return b"\x00" + bytes([len(name)]) + name + bytes([len(value)]) + value


SETTINGS = frame(4, 0, 0, struct.pack(">HI", 2, 0) + struct.pack(">HI", 4, 65535))
SETTINGS_ACK = frame(4, 1, 0)
GET = b"\x82\x86\x84" + lit(b":authority", b"push.test")
POST = b"\x83\x86" + lit(b":path", b"/push/abc") + lit(b":authority", b"push.test")
h2 = {
    "get": SETTINGS + frame(1, 5, 1, GET),
    "post_body": SETTINGS + frame(1, 4, 1, POST + lit(b"ttl", b"60") + lit(b"content-encoding", b"aes128gcm"))
    + frame(0, 0, 1, b"hello ") + frame(0, 1, 1, b"world"),
    "monitor_push_enabled": frame(4, 0, 0, struct.pack(">HI", 2, 1)) + frame(1, 5, 1, b"\x82\x86" + lit(b":path", b"/m/sub") + lit(b":authority", b"push.test") + lit(b"prefer", b"wait=0")),
    "ping_window_priority": SETTINGS + frame(6, 0, 0, b"12345678") + frame(8, 0, 0, struct.pack(">I", 1000))
    + frame(2, 0, 3, struct.pack(">IB", 0, 16)) + frame(1, 5, 3, GET) + SETTINGS_ACK,
    "rst_after_headers": SETTINGS + frame(1, 4, 1, POST) + frame(3, 0, 1, struct.pack(">I", 8)),
    "continuation": SETTINGS + frame(1, 0, 1, b"\x82\x86\x84") + frame(9, 4, 1, lit(b":authority", b"push.test") + lit(b"x-a", b"b")),
    "body_over_limit": SETTINGS + frame(1, 4, 1, POST + lit(b"content-length", b"9999")) + frame(0, 1, 1, b"x" * 300),
    "goaway": SETTINGS + frame(1, 5, 1, GET) + frame(7, 0, 0, struct.pack(">II", 1, 0)),
    "padded_headers": SETTINGS + frame(1, 0x0d, 1, b"\x03" + GET + b"\0\0\0"),
    "two_streams": SETTINGS + frame(1, 5, 1, GET) + frame(1, 5, 3, b"\xbe\x82\x86\x84"),
}
for name, data in h2.items():
    write("http2_engine", name, WHOLE + data)
    write("http2_engine", name + "_sliced", b"\x06" + data)

# --- HTTP/1.1 requests ------------------------------------------------------------------------
AES_BODY = b"s" * 16 + b"\0\0\x10\0" + b"\x41\x04" + b"k" * 64 + b"ciphertext"
h1 = {
    "push": b"POST /push/gAAAAABk HTTP/1.1\r\nHost: push.test\r\nTTL: 60\r\nUrgency: high\r\nTopic: t1\r\n"
    b"Content-Encoding: aes128gcm\r\nContent-Length: %d\r\n\r\n" % len(AES_BODY) + AES_BODY,
    "ws_upgrade": b"GET / HTTP/1.1\r\nHost: push.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
    b"Sec-WebSocket-Protocol: push-notification\r\n\r\n",
    "pipelined": b"GET /metrics HTTP/1.1\r\nHost: a\r\n\r\nDELETE /m/abc HTTP/1.1\r\nHost: a\r\n\r\n"
    b"HEAD /subscription/x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    "chunked": b"POST /subscribe HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    "expect_continue": b"POST /push/x HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
    "http10": b"GET / HTTP/1.0\r\n\r\n",
    "vapid": b"POST /push/x HTTP/1.1\r\nHost: a\r\nAuthorization: vapid t=a.b.c, k=BA1H\r\nTTL: 0\r\nContent-Length: 0\r\n\r\n",
}
for name, data in h1.items():
    write("http1_request", name, WHOLE + data)
write("http1_request", "push_sliced", b"\x05" + h1["push"])


# --- WebSocket frames (RFC 6455 §5) -----------------------------------------------------------
def client_frame(op, payload, fin=True, mask=b"\x11\x22\x33\x44"):
    f = bytes([(0x80 if fin else 0) | op])
    n = len(payload)
    if n < 126:
        f += bytes([0x80 | n])
    elif n <= 0xFFFF:
        f += bytes([0x80 | 126]) + struct.pack(">H", n)
    else:
        f += bytes([0x80 | 127]) + struct.pack(">Q", n)
    return f + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


ws = {
    "rfc_hello": b"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58",
    "fragmented_ping": client_frame(1, b"Hel", False) + client_frame(9, b"p") + client_frame(0, b"l", False) + client_frame(0, b"o"),
    "hello_json": client_frame(1, b'{"messageType":"hello","broadcasts":{},"use_webpush":true}'),
    "close_1000": client_frame(8, struct.pack(">H", 1000) + b"bye"),
    "close_empty": client_frame(8, b""),
    "binary_16bit": client_frame(2, b"\x00" * 300),
    "pong_utf8": client_frame(10, b"x") + client_frame(1, "h\u00e9llo \u20ac \U0001f600".encode()),
    "unmasked": b"\x81\x05Hello",
}
for name, data in ws.items():
    write("ws_frame", name, WHOLE + data)
    write("ws_frame", name + "_sliced", b"\x02" + data)

# --- Firefox push protocol (PushServiceWebSocket.sys.mjs), one frame per line -----------------
CH_A = "d501fd61-5d2f-44d6-8fcb-9c183a0b83ae"
CH_B = "347e5a77-0f34-4ec9-a876-02b6bfdae660"
HELLO = '{"messageType":"hello","broadcasts":{},"use_webpush":true}'
REG = '{"channelID":"%s","messageType":"register"}'
ua = {
    "hello": HELLO,
    "hello_uaid": '{"messageType":"hello","uaid":"30ffe4e0c7a34715829c238fa4ee5c75","channelIDs":[],"use_webpush":true}',
    "register_push_ack": "\n".join([HELLO, REG % CH_A, "#push",
                                    '{"messageType":"ack","updates":[{"channelID":"%s","version":"v","code":100}]}' % CH_A]),
    "register_key_unregister": "\n".join([HELLO,
        '{"channelID":"%s","messageType":"register","key":"BA1Hxzyi1RUM1b5wjxsn7nGxAszw2u61m164i3MrAIxHF6YK5h4SDYic-dRuU_RCPCfA5aq9ojSwk5Y2EmClBPs"}' % CH_B,
        '{"channelID":"%s","messageType":"unregister","code":200}' % CH_B]),
    "ping_nack_broadcast": "\n".join([HELLO, "{}", '{"messageType":"nack","version":"x","code":301}',
                                      '{"messageType":"broadcast_subscribe","broadcasts":{"remote-settings/monitor_changes":"v1"}}']),
    "register_before_hello": REG % CH_A,
    "many_pushes": "\n".join([HELLO, REG % CH_A] + ["#push"] * 6),
}
for name, data in ua.items():
    write("ua_channel", name, data.encode())

# --- VAPID credentials and JWT (RFC 8292 §2.4, §3) --------------------------------------------
TOKEN = ("eyJ0eXAiOiJKV1QiLCJhbGciOiJFUzI1NiJ9.eyJhdWQiOiJodHRwczovL3B1c2guZXhhbXBsZS5uZXQiLCJleHAiOjE0NTM1MjM3NjgsInN1YiI6Im1haWx0bzpwdXNoQGV4YW1wbGUuY29tIn0"
         ".i3CYb7t4xfxCDquptFOepC9GAu_HLGkMlMuCGSK2rpiUfnK9ojFwDXb1JrErtmysazNjjvW2L9OkSSHzvoD1oA")
KEY = "BA1Hxzyi1RUM1b5wjxsn7nGxAszw2u61m164i3MrAIxHF6YK5h4SDYic-dRuU_RCPCfA5aq9ojSwk5Y2EmClBPs"
vc = {
    "vapid": "vapid t=%s, k=%s\n-" % (TOKEN, KEY),
    "vapid_quoted": 'Vapid t="%s",k="%s"\n-' % (TOKEN, KEY),
    "webpush": "WebPush %s\np256ecdsa=%s" % (TOKEN, KEY),
    "bearer_dh": "Bearer %s\ndh=BNoRDbb84JGm8g5Z5CFxurSqsXWJ11ItfXEWYVLE85Y7CYkDjXsIEc4aqxYaQ1G8BqkXCJ6DPpDrWtdWj_mugHU;p256ecdsa=%s" % (TOKEN, KEY),
    "padded_key": "vapid t=%s, k=%s=\n-" % (TOKEN, KEY.replace("-", "+").replace("_", "/")),
    "gcm_key": "key=AAAA\n-",
    "absent": "-\np256ecdsa=%s" % KEY,
}
for name, data in vc.items():
    write("vapid_credentials", name, b"\x00" + data.encode())
    write("vapid_credentials", name + "_strict", b"\x01" + data.encode())

jwt = {
    "rfc_token": b"\x00" + TOKEN.encode(),
    "signed_valid": b"\x01" + b'{"typ":"JWT","alg":"ES256"}\n{"aud":"https://push.example:8443","exp":1700043200,"sub":"mailto:admin@example.com"}',
    "signed_aud_array": b"\x01" + b'{"alg":"ES256"}\n{"aud":["https://push.example"],"exp":1700000000.5}',
    "signed_alg_none": b"\x01" + b'{"alg":"none"}\n{"aud":"https://push.example:8443","exp":1700043200}',
    "signed_crit": b"\x01" + b'{"alg":"ES256","crit":["b64"]}\n{"aud":"x","exp":1}',
    "signed_expired": b"\x01" + b'{"alg":"ES256"}\n{"aud":"https://push.example:8443","exp":1699999999,"sub":null}',
}
for name, data in jwt.items():
    write("vapid_jwt", name, data)

# --- Push headers: TTL, Urgency, Topic, Prefer, Link, Content-Encoding, Encryption, Crypto-Key, body
ph = {
    "aes128gcm": [b"60", b"high", b"t1", b"respond-async", b"</receipt/abc>; rel=\"urn:ietf:params:push:receipt\"", b"aes128gcm", b"-", b"-", AES_BODY],
    "aesgcm": [b" 86400 ", b"very-low", b"dG9waWM=", b"wait=0", b"-", b"aesgcm",
               b"salt=\"lngarbyKfMoi9Z75xYXmkg\"; rs=4096",
               b"dh=BNoRDbb84JGm8g5Z5CFxurSqsXWJ11ItfXEWYVLE85Y7CYkDjXsIEc4aqxYaQ1G8BqkXCJ6DPpDrWtdWj_mugHU;p256ecdsa=" + KEY.encode(), b"payload"],
    "absent": [b"-", b"-", b"-", b"-", b"-", b"-", b"-", b"-", b""],
    "bad_values": [b"99999999999999999999", b"normal, high", b"a" * 33, b"wait=123456789012", b"<x>;rel=other, <y>; rel=\"urn:ietf:params:push:receipt\"", b"AES128GCM, aesgcm", b"salt=", b"dh=", b"x"],
}
for name, lines in ph.items():
    write("push_headers", name, b"\x14" + b"\n".join(lines))
    write("push_headers", name + "_strict", b"\x15" + b"\n".join(lines))

# --- Endpoint tokens: base64url path segments of the lengths real tokens have -----------------
for n in (16, 43, 60, 86, 100):
    write("endpoint_token", "b64_%d" % n, hashlib.sha256(b"%d" % n).hexdigest().encode()[:n].ljust(n, b"A"))
write("endpoint_token", "id_and_key_hash", b"subscription-0001" + bytes(range(32)))


# --- Store records (record_codec.cc) ----------------------------------------------------------
def varint(v):
    out = b""
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def lp(s):
    return varint(len(s)) + s


def be64(v):
    return struct.pack(">Q", v & 0xFFFFFFFFFFFFFFFF)


NOW = 1_700_000_000_000
records = {
    "user_agent_v2": b"\x02" + lp(b"u" * 16) + be64(NOW) + be64(NOW) + varint(0),
    "user_agent_v1": b"\x01" + lp(b"u" * 16) + be64(NOW) + be64(NOW),
    "receipts_agent": b"\x02" + lp(b"r" * 16) + be64(NOW) + be64(NOW) + varint(1),
    "subscription_v2": b"\x02" + lp(b"s" * 16) + lp(b"u" * 16) + lp(CH_A.encode()) + lp(b"\x04" + b"k" * 64) + be64(NOW),
    "subscription_v1": b"\x01" + lp(b"s" * 16) + lp(b"u" * 16) + lp(b"") + lp(b"") + lp(b"set") + be64(NOW),
    "message_v2": b"\x02" + lp(b"m" * 16) + lp(b"u" * 16) + lp(b"s" * 16) + be64(7) + be64(NOW) + be64(NOW + 60000)
    + varint(60) + varint(2) + lp(b"t1") + lp(b"aesgcm") + lp(b"salt=abc") + lp(b"dh=def") + lp(b"") + varint(0) + lp(b"body") + varint(1),
    "message_v1": b"\x01" + lp(b"m" * 16) + lp(b"u" * 16) + lp(b"s" * 16) + be64(7) + be64(NOW) + be64(NOW + 60000)
    + varint(2592000) + varint(3) + lp(b"") + lp(b"aes128gcm") + lp(b"") + lp(b"") + lp(b"r" * 16) + varint(204) + lp(AES_BODY),
}
for name, data in records.items():
    write("record_codec", name, data)

# --- Config (config/pushsvc.toml style) -------------------------------------------------------
cfg = {
    "defaults": b"",
    "typical": b'profile = "strict"\n[server]\nlisten = "127.0.0.1:8080"\n[limits]\nmax_body_bytes = 4096\n'
    b'max_concurrent_streams = 100\n[push]\nmax_ttl = 86400\n[store]\nsync = true\n',
    "testdouble": b'[testdouble]\nenabled = true\nbreak = "ttl-required,location"\n',
    "bad_key": b'[limits]\nmax_body_byts = 1\n',
    "out_of_range": b'[limits]\nread_timeout_ms = 0\nmax_header_bytes = 99999999999\n',
    "types": b'[server]\nlisten = 80\n[push]\nvapid_exp_skew_s = -1.5\nx = [1, "a", {b = 2}]\n',
}
for name, data in cfg.items():
    write("config_load", name, data)
repo_cfg = os.path.join(os.path.dirname(ROOT), "..", "config")
if os.path.isdir(repo_cfg):
    for f in sorted(os.listdir(repo_cfg)):
        if f.endswith(".toml"):
            with open(os.path.join(repo_cfg, f), "rb") as src:
                write("config_load", "repo_" + f, src.read())

# --- Test double control API: "METHOD TARGET BODY" per line -----------------------------------
td = {
    "subscribe_messages": "POST /_testdouble/subscriptions {}\nGET /_testdouble/subscriptions/{id}/messages\n"
    "DELETE /_testdouble/subscriptions/{id}/messages\nPOST /_testdouble/subscriptions/{id}/expire\nDELETE /_testdouble/subscriptions/{id}",
    "restricted_subscription": 'POST /_testdouble/subscriptions {"applicationServerKey":"%s"}\nGET /_testdouble/' % KEY,
    "clock": 'POST /_testdouble/clock {"advance_ms":60000}\nPOST /_testdouble/clock {"offset_ms":-5}\nGET /_testdouble/clock',
    "fail_next": 'POST /_testdouble/fail-next {"status":429,"retry_after":3,"count":2}\nPOST /push/abc x\n'
    'POST /_testdouble/subscriptions {}\nPOST /_testdouble/subscriptions/{id}/fail-next {"status":500}',
    "expire_giveup": 'POST /_testdouble/expire {"set":"http://127.0.0.1:9/set/abc"}\nPOST /_testdouble/messages/abc/give-up\nPOST /_testdouble/reset\nPOST /_testdouble/throw',
    "compat": 'POST /web-push-testing/status\nPOST /web-push-testing/subscribe {"clientHashKey":"x","options":{"userVisibleOnly":true,"applicationServerKey":"%s"}}\n'
    'POST /web-push-testing/get-notifications {"clientHashKey":"x","endpoint":"http://127.0.0.1:9/push/abc"}\nPOST /web-push-testing/expire-subscription/x' % KEY,
}
for name, data in td.items():
    write("testdouble_api", name, data.encode())
