#include "pushsvc/http2/engine.h"

#include <boost/container/small_vector.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>
#include <string_view>
#include <utility>

#include "pushsvc/base/text.h"
#include "pushsvc/http/error_map.h"
#include "pushsvc/http2/callbacks.h"
#include "pushsvc/obs/catalog.h"
#include "pushsvc/obs/log.h"

namespace pushsvc::http2 {

namespace {

// Largest header block we send (our responses are small; RFC 9113 §6.5.2).
constexpr std::size_t kMaxSendHeaderBlock = 64 * 1024;
// Outbound PING/SETTINGS ACKs queued while the peer does not read (nghttp2 default).
constexpr std::size_t kMaxOutboundAck = 1000;
// SETTINGS entries accepted in one frame.
constexpr std::size_t kMaxSettingsEntries = 32;

std::string_view view(const std::uint8_t* p, std::size_t n) {
    return {reinterpret_cast<const char*>(p), n};
}

// Points into `name` and `value`: both must outlive the nghttp2_submit_* call that copies
// them (string_views, so a literal never becomes a temporary std::string that dies first).
nghttp2_nv make_nv(std::string_view name, std::string_view value) {
    return {reinterpret_cast<std::uint8_t*>(const_cast<char*>(name.data())),
            reinterpret_cast<std::uint8_t*>(const_cast<char*>(value.data())), name.size(),
            value.size(), NGHTTP2_NV_FLAG_NONE};
}

}  // namespace

Engine::Engine(const net::SessionContext& ctx) : ctx_(ctx) {}

Engine::~Engine() {
    if (session_) nghttp2_session_del(session_);
}

result<void> Engine::start() {
    nghttp2_option* opt = nullptr;
    if (nghttp2_option_new(&opt) != 0) return make_error_code(errc::internal);
    nghttp2_option_set_max_send_header_block_length(opt, kMaxSendHeaderBlock);
    nghttp2_option_set_max_outbound_ack(opt, kMaxOutboundAck);
    nghttp2_option_set_max_settings(opt, kMaxSettingsEntries);
    nghttp2_option_set_stream_reset_rate_limit(opt, kStreamResetBurst, kStreamResetRate);
    const int rv = nghttp2_session_server_new2(&session_, server_callbacks(), this, opt);
    nghttp2_option_del(opt);
    if (rv != 0) return make_error_code(errc::internal);

    const nghttp2_settings_entry iv[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, ctx_.limits.max_concurrent_streams},
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},  // a server may only send 0 (RFC 9113 §6.5.2)
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, ctx_.limits.max_header_bytes},
    };
    if (nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, iv, std::size(iv)) != 0) {
        return make_error_code(errc::internal);
    }
    return {};
}

bool Engine::recv(const std::uint8_t* data, std::size_t len) {
    const ssize_t rv = nghttp2_session_mem_recv(session_, data, len);
    if (rv < 0) {
        SPDLOG_DEBUG("c{} h2 session error: {}", ctx_.id, nghttp2_strerror(static_cast<int>(rv)));
        obs::catalog().http2_session_errors.inc();
        if (rv != NGHTTP2_ERR_BAD_CLIENT_MAGIC) terminate(NGHTTP2_PROTOCOL_ERROR);
        return false;
    }
    return !flooded_;
}

std::vector<Engine::Ready> Engine::take_ready() { return std::exchange(ready_, {}); }

bool Engine::send(std::string& out, std::size_t limit) {
    while (out.size() < limit) {
        const std::uint8_t* data = nullptr;
        const ssize_t n = nghttp2_session_mem_send(session_, &data);
        if (n < 0) return false;
        if (n == 0) break;
        out.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
    }
    return true;
}

bool Engine::submit_response(std::int32_t stream_id, http::Response&& res) {
    Stream* s = find(stream_id);
    if (!s || s->rejected) return false;
    return submit(*s, std::move(res));
}

void Engine::mark_monitored(std::int32_t stream_id) {
    if (Stream* s = find(stream_id)) s->monitored = true;
}

std::int32_t Engine::submit_push(std::int32_t stream_id, const std::string& path,
                                 http::Response&& res) {
    Stream* s = find(stream_id);
    if (!s || s->responded || s->rejected || !peer_enables_push()) return 0;
    const std::string_view scheme = ctx_.secure ? "https" : "http";
    const nghttp2_nv nva[] = {make_nv(":method", "GET"), make_nv(":scheme", scheme),
                              make_nv(":authority", s->authority), make_nv(":path", path)};
    const std::int32_t promised = nghttp2_submit_push_promise(
        session_, NGHTTP2_FLAG_NONE, stream_id, nva, std::size(nva), nullptr);
    if (promised < 0) {
        obs::catalog().http2_push_refused.inc();
        return 0;
    }
    auto p = std::make_unique<Stream>();
    p->id = promised;
    p->request_complete = true;
    p->started = Clock::now();
    Stream& ps = *p;
    streams_[promised] = std::move(p);
    if (!submit(ps, std::move(res))) {
        // Promised but no response: reset it so the client does not wait for one. Erased
        // here because nghttp2 may never open (and so never close) the promised stream.
        nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, promised, NGHTTP2_INTERNAL_ERROR);
        streams_.erase(promised);
        obs::catalog().http2_push_refused.inc();
        return 0;
    }
    ps.push_pending = true;
    obs::catalog().http2_pushes.inc();
    return promised;
}

bool Engine::submit_ping() {
    return nghttp2_submit_ping(session_, NGHTTP2_FLAG_NONE, nullptr) == 0;
}

void Engine::reset_stream(std::int32_t stream_id) {
    if (Stream* s = find(stream_id)) s->rejected = true;
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_INTERNAL_ERROR);
}

void Engine::shutdown() {
    nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE,
                          nghttp2_session_get_last_proc_stream_id(session_), NGHTTP2_NO_ERROR,
                          nullptr, 0);
}

void Engine::terminate(std::uint32_t error_code) {
    nghttp2_session_terminate_session(session_, error_code);
}

bool Engine::want_read() const { return nghttp2_session_want_read(session_) != 0; }
bool Engine::want_write() const { return nghttp2_session_want_write(session_) != 0; }

bool Engine::peer_enables_push() const {
    return nghttp2_session_get_remote_settings(session_, NGHTTP2_SETTINGS_ENABLE_PUSH) == 1;
}

std::optional<Clock::time_point> Engine::oldest_incomplete() const {
    std::optional<Clock::time_point> out;
    for (const auto& [id, s] : streams_) {
        if (s->request_complete || s->rejected) continue;
        if (!out || s->started < *out) out = s->started;
    }
    return out;
}

std::size_t Engine::reset_stalled(Clock::time_point cutoff) {
    std::size_t n = 0;
    for (auto& [id, s] : streams_) {
        if (s->request_complete || s->rejected || s->started >= cutoff) continue;
        s->rejected = true;
        nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
        ++n;
    }
    if (n) obs::catalog().http2_read_timeouts.inc(n);
    return n;
}

namespace {
bool body_pending(const Stream& s) {
    return s.responded && !s.rejected && s.out_offset < s.out_body.size();
}
}  // namespace

std::optional<Clock::time_point> Engine::oldest_write_progress() const {
    std::optional<Clock::time_point> out;
    for (const auto& [id, s] : streams_) {
        if (!body_pending(*s)) continue;
        if (!out || s->progress < *out) out = s->progress;
    }
    return out;
}

std::size_t Engine::reset_write_stalled(Clock::time_point cutoff, bool& none_moving) {
    std::size_t n = 0;
    // At the cutoff counts as stalled: the timer fires exactly at progress + timeout.
    none_moving = body_progress_ <= cutoff;
    for (auto& [id, s] : streams_) {
        if (!body_pending(*s) || s->progress > cutoff) continue;
        s->rejected = true;
        nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
        ++n;
    }
    if (n) {
        obs::catalog().http2_write_stalls.inc(n);
        SPDLOG_DEBUG("c{} {} response(s) stalled on flow control, reset", ctx_.id, n);
    }
    if (n == 0) none_moving = false;
    return n;
}

bool Engine::stream_seen() const { return nghttp2_session_get_last_proc_stream_id(session_) > 0; }

Stream* Engine::find(std::int32_t stream_id) noexcept {
    auto it = streams_.find(stream_id);
    return it == streams_.end() ? nullptr : it->second.get();
}

void Engine::complete(Stream& s) noexcept {
    s.request_complete = true;
    if (s.rejected) return;
    s.request.can_push = peer_enables_push();
    s.request.client = ctx_.client;              // per-address rate limits
    s.request.peer_address = ctx_.peer_address;  // the operator routes' loopback rule
    s.request.protocol = "HTTP/2";
    s.request.connection = ctx_.id;
    s.request.secure = ctx_.secure;
    s.authority = s.request.authority;
    ready_.push_back({s.id, std::move(s.request)});
}

void Engine::reject(Stream& s, errc e) noexcept {
    s.rejected = true;
    if (!submit(s, http::error_response(e, ctx_.profile))) {
        nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, s.id, NGHTTP2_INTERNAL_ERROR);
    }
}

bool Engine::submit(Stream& s, http::Response&& res) noexcept {
    if (s.responded) return false;
    const bool no_body = res.status < 200 || res.status == 204 || res.status == 304;
    // nghttp2_submit_response copies the fields, so they point at strings that live until it
    // returns: the response's own, and the few made here (a push's 201 then allocates nothing).
    const std::string status = std::to_string(res.status);
    const std::string length = no_body ? std::string() : std::to_string(res.body.size());
    // HTTP/2 field names are lower case; a handler's name that is not gets a lowered copy.
    std::size_t upper = 0;
    for (const auto& f : res.headers.all()) upper += !base::is_lower(f.name);
    std::vector<std::string> lowered;
    lowered.reserve(upper);  // no reallocation: the fields below point into it
    boost::container::small_vector<nghttp2_nv, 12> nva;
    nva.push_back(make_nv(":status", status));
    for (const auto& f : res.headers.all()) {
        std::string_view name = f.name;
        if (!base::is_lower(name)) name = lowered.emplace_back(base::to_lower(name));
        if (http::transport_owned(name) || name.empty() || name[0] == ':') continue;
        nva.push_back(make_nv(name, f.value));
    }
    nva.push_back(make_nv("date", net::http_date_now()));
    nva.push_back(make_nv("server", net::kServerName));
    if (!no_body) nva.push_back(make_nv("content-length", length));

    s.out_body = (no_body || s.is_head) ? std::string() : std::move(res.body);
    s.out_offset = 0;
    nghttp2_data_provider prd{};
    prd.read_callback = read_body_callback;
    const bool has_body = !s.out_body.empty();
    if (nghttp2_submit_response(session_, s.id, nva.data(), nva.size(),
                                has_body ? &prd : nullptr) != 0) {
        return false;
    }
    s.responded = true;
    s.progress = Clock::now();
    return true;
}

bool Engine::flood(Clock::time_point now) noexcept {
    if (flooded_ || control_frames_.allow(now)) return false;
    flooded_ = true;
    obs::catalog().http2_floods.inc();
    SPDLOG_DEBUG("c{} h2 control frame flood, GOAWAY", ctx_.id);
    nghttp2_session_terminate_session(session_, NGHTTP2_ENHANCE_YOUR_CALM);
    return true;
}

int Engine::on_begin_headers(const nghttp2_frame* frame) noexcept {
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) {
        return 0;
    }
    auto s = std::make_unique<Stream>();
    s->id = frame->hd.stream_id;
    s->started = Clock::now();
    streams_[s->id] = std::move(s);
    return 0;
}

int Engine::on_header(const nghttp2_frame* frame, const std::uint8_t* name, std::size_t namelen,
                      const std::uint8_t* value, std::size_t valuelen) noexcept {
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    Stream* s = find(frame->hd.stream_id);
    if (!s || s->rejected) return 0;
    // Header list size as defined for SETTINGS_MAX_HEADER_LIST_SIZE (RFC 9113 §6.5.2).
    s->header_bytes += namelen + valuelen + 32;
    if (s->header_bytes > ctx_.limits.max_header_bytes) return 0;  // answered at END_HEADERS
    if (frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;      // trailers: size only
    const std::string_view n = view(name, namelen);
    const std::string_view v = view(value, valuelen);
    http::Request& r = s->request;
    if (n == ":method") {
        r.method = v;
        s->is_head = v == "HEAD";
    } else if (n == ":path") {
        r.target = v;
    } else if (n == ":authority") {
        r.authority = v;
    } else if (!n.empty() && n[0] == ':') {
        // :scheme (and :protocol) are validated by nghttp2 and not exposed.
    } else {
        if (n == "host" && r.authority.empty()) r.authority = v;
        r.headers.add(std::string(n), std::string(v));
    }
    return 0;
}

int Engine::on_frame_recv(const nghttp2_frame* frame) noexcept {
    const auto now = Clock::now();
    switch (frame->hd.type) {
        case NGHTTP2_DATA: {
            const bool end = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
            if (frame->hd.length == 0 && !end && flood(now)) return 0;
            if (!end) return 0;
            if (Stream* s = find(frame->hd.stream_id)) complete(*s);
            return 0;
        }
        case NGHTTP2_HEADERS: {
            Stream* s = find(frame->hd.stream_id);
            if (!s) return 0;
            if (!s->rejected && s->header_bytes > ctx_.limits.max_header_bytes) {
                obs::catalog().http2_header_too_large.inc();
                reject(*s, errc::header_too_large);
            }
            if (!s->rejected && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
                // Declared body size beyond the limit: answer before any DATA arrives.
                if (auto cl = s->request.headers.get("content-length")) {
                    std::uint64_t len = 0;
                    auto [p, ec] = std::from_chars(cl->data(), cl->data() + cl->size(), len);
                    if (ec == std::errc() && len > ctx_.limits.max_body_bytes) {
                        reject(*s, errc::payload_too_large);
                    }
                }
            }
            if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) complete(*s);
            return 0;
        }
        case NGHTTP2_PING:
        case NGHTTP2_SETTINGS:
            if (!(frame->hd.flags & NGHTTP2_FLAG_ACK)) flood(now);
            return 0;
        case NGHTTP2_PRIORITY:
            flood(now);
            return 0;
        case NGHTTP2_WINDOW_UPDATE:
            // A client returns flow-control credit for the DATA we sent it (one connection-
            // and one stream-level update per frame at most), so those updates are earned and
            // never counted; any beyond that cost us work for nothing and count as control
            // frames (a flood of them is answered like a PING flood).
            if (window_update_credit_ > 0) {
                --window_update_credit_;
            } else {
                flood(now);
            }
            return 0;
        default:
            return 0;
    }
}

void Engine::push_outcome(Stream& s, bool sent) noexcept {
    if (!s.push_pending) return;  // decided already: one outcome per push
    s.push_pending = false;
    push_results_.push_back({s.id, sent});
    if (!sent) obs::catalog().http2_push_failed.inc();
}

int Engine::on_frame_send(const nghttp2_frame* frame) noexcept {
    if (frame->hd.type == NGHTTP2_DATA) {
        window_update_credit_ =
            std::min(window_update_credit_ + kWindowUpdatesPerDataFrame, kMaxWindowUpdateCredit);
    }
    if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) return 0;
    if (!(frame->hd.flags & NGHTTP2_FLAG_END_STREAM)) return 0;
    Stream* s = find(frame->hd.stream_id);
    // The pushed response's last frame is serialized: the push is handed over.
    if (s) push_outcome(*s, true);
    if (s && !s->request_complete) {
        // Complete response before the complete request: ask the client to stop sending
        // without error (RFC 9113 §8.1).
        nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_NO_ERROR);
    }
    return 0;
}

int Engine::on_frame_not_send(const nghttp2_frame* frame, int /*error_code*/) noexcept {
    if (frame->hd.type == NGHTTP2_PUSH_PROMISE) {
        // Refused when it was due to go out (the peer disabled push or sent GOAWAY meanwhile,
        // the associated stream closed): nghttp2 never opened the promised stream, so no
        // on_stream_close follows; its queued response is dropped by nghttp2 as well.
        auto it = streams_.find(frame->push_promise.promised_stream_id);
        if (it == streams_.end()) return 0;
        push_outcome(*it->second, false);
        streams_.erase(it);
        return 0;
    }
    if (Stream* s = find(frame->hd.stream_id)) push_outcome(*s, false);
    return 0;
}

int Engine::on_data_chunk(std::int32_t stream_id, const std::uint8_t* data,
                          std::size_t len) noexcept {
    Stream* s = find(stream_id);
    if (!s || s->rejected) return 0;
    if (s->request.body.size() + len > ctx_.limits.max_body_bytes) {
        reject(*s, errc::payload_too_large);
        return 0;
    }
    s->request.body.append(reinterpret_cast<const char*>(data), len);
    return 0;
}

int Engine::on_stream_close(std::int32_t stream_id, std::uint32_t error_code) noexcept {
    if (error_code != NGHTTP2_NO_ERROR) obs::catalog().http2_stream_resets.inc();
    // A request that completed in this read but whose stream was closed in the same read
    // (HEADERS + END_STREAM, then RST_STREAM: rapid reset, CVE-2023-44487) never reaches the
    // handler: nobody is left to read its answer, and running it would let a client make the
    // service do any amount of work (subscriptions, pushes) at the cost of two frames.
    // Whatever the error code: a stream still waiting for its handler has no response yet,
    // so no close of it is a normal end.
    const auto undispatched =
        std::erase_if(ready_, [stream_id](const Ready& r) { return r.stream_id == stream_id; });
    if (undispatched) obs::catalog().http2_reset_before_dispatch.inc(undispatched);
    auto it = streams_.find(stream_id);
    if (it == streams_.end()) return 0;
    if (it->second->monitored) closed_monitored_.push_back(stream_id);
    push_outcome(*it->second, false);  // closed before its final frame went out
    streams_.erase(it);
    return 0;
}

ssize_t Engine::read_body(std::int32_t stream_id, std::uint8_t* buf, std::size_t len,
                          std::uint32_t* data_flags) noexcept {
    Stream* s = find(stream_id);
    if (!s) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    const std::size_t n = std::min(len, s->out_body.size() - s->out_offset);
    if (n) std::memcpy(buf, s->out_body.data() + s->out_offset, n);
    s->out_offset += n;
    if (n) s->progress = body_progress_ = Clock::now();
    // The whole body is known when the response is submitted (pushes are separate responses
    // on promised streams, not a body that stays open), so the end of it ends the stream.
    if (s->out_offset == s->out_body.size()) *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
}

std::size_t Engine::held_bytes() const noexcept {
    std::size_t n = 0;
    for (const auto& [id, s] : streams_)
        n += s->header_bytes + s->request.body.size() + s->out_body.size();
    return n;
}

}  // namespace pushsvc::http2
