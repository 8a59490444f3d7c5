#include "tools/client/http2_client.h"

#include <nghttp2/nghttp2.h>

#include <array>
#include <boost/asio/write.hpp>
#include <deque>
#include <map>

#include "tools/client/header_params.h"
#include "tools/client/transport.h"
#include "tools/client/url.h"

namespace webpush_client {
using detail::Clock;
using detail::run_until;

namespace {

struct Stream {
    HttpResponse response;
    bool headers_done = false;  // a final (non-1xx) status arrived
    bool closed = false;
    std::uint32_t error_code = 0;
    std::string request_body;
    std::size_t body_offset = 0;
    bool pushed = false;
    std::int32_t associated = 0;
    Headers promise_headers;
};

}  // namespace

struct Http2Client::Impl {
    ClientOptions options;
    boost::asio::io_context ioc;
    std::optional<detail::Transport> transport;
    Url origin;
    nghttp2_session* session = nullptr;
    std::map<std::int32_t, Stream> streams;
    std::deque<std::int32_t> completed_pushes;
    std::size_t promises = 0;
    std::array<char, 16384> read_buf{};
    std::string write_buf;
    bool reading = false;
    bool writing = false;
    bool dead = false;
    std::string dead_reason;
    std::optional<std::uint32_t> goaway;
    std::uint64_t pings_acked = 0;

    ~Impl() { shutdown(); }

    Clock::time_point deadline(std::optional<std::chrono::milliseconds> t) const {
        return Clock::now() + t.value_or(options.timeout);
    }

    void fail(std::string reason) {
        if (!dead) {
            dead = true;
            dead_reason = std::move(reason);
        }
        if (transport) transport->close();
    }

    void shutdown() {
        if (transport) {
            transport->close();
            run_until(
                ioc, [&] { return !reading && !writing; }, Clock::now() + std::chrono::seconds(2));
            transport.reset();
        }
        if (session) {
            nghttp2_session_del(session);
            session = nullptr;
        }
    }

    void start_read() {
        if (reading || dead) return;
        reading = true;
        transport->visit([&](auto& stream) {
            stream.async_read_some(
                boost::asio::buffer(read_buf),
                [this](boost::system::error_code ec, std::size_t n) { on_read(ec, n); });
        });
    }

    void on_read(boost::system::error_code ec, std::size_t n) {
        reading = false;
        if (ec) {
            fail(ec == boost::asio::error::eof ? "server closed the connection"
                                               : "read: " + detail::describe(ec));
            return;
        }
        ssize_t rv =
            nghttp2_session_mem_recv(session, reinterpret_cast<uint8_t*>(read_buf.data()), n);
        if (rv < 0) {
            fail(std::string("HTTP/2 protocol error: ") + nghttp2_strerror(int(rv)));
            return;
        }
        flush();
        if (nghttp2_session_want_read(session) == 0 && nghttp2_session_want_write(session) == 0 &&
            !writing) {
            fail("HTTP/2 session ended");
            return;
        }
        start_read();
    }

    void flush() {
        if (writing || dead || !session) return;
        write_buf.clear();
        for (;;) {
            const uint8_t* data = nullptr;
            ssize_t n = nghttp2_session_mem_send(session, &data);
            if (n < 0) {
                fail(std::string("HTTP/2 send error: ") + nghttp2_strerror(int(n)));
                return;
            }
            if (n == 0) break;
            write_buf.append(reinterpret_cast<const char*>(data), std::size_t(n));
            if (write_buf.size() > 65536) break;
        }
        if (write_buf.empty()) return;
        writing = true;
        transport->visit([&](auto& stream) {
            boost::asio::async_write(stream, boost::asio::buffer(write_buf),
                                     [this](boost::system::error_code ec, std::size_t) {
                                         writing = false;
                                         if (ec) {
                                             fail("write: " + detail::describe(ec));
                                             return;
                                         }
                                         flush();
                                     });
        });
    }

    bool wait(const std::function<bool()>& done, Clock::time_point until) {
        flush();
        start_read();
        return run_until(
                   ioc, [&] { return done() || dead; }, until) &&
               done();
    }

    Error closed_error() const {
        return make_error(
            dead_reason.find("timed out") != std::string::npos ? Errc::timeout : Errc::closed,
            dead_reason.empty() ? "not connected" : dead_reason);
    }

    // nghttp2 callbacks (RFC 9113 frames already parsed by the library).
    static int on_begin_headers(nghttp2_session*, const nghttp2_frame* frame, void* user) {
        auto* self = static_cast<Impl*>(user);
        if (frame->hd.type == NGHTTP2_PUSH_PROMISE) {
            Stream& s = self->streams[frame->push_promise.promised_stream_id];
            s.pushed = true;
            s.associated = frame->hd.stream_id;
            ++self->promises;
        }
        return 0;
    }

    static int on_header(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                         size_t namelen, const uint8_t* value, size_t valuelen, uint8_t,
                         void* user) {
        auto* self = static_cast<Impl*>(user);
        std::string n(reinterpret_cast<const char*>(name), namelen);
        std::string v(reinterpret_cast<const char*>(value), valuelen);
        if (frame->hd.type == NGHTTP2_PUSH_PROMISE) {
            self->streams[frame->push_promise.promised_stream_id].promise_headers.add(n, v);
            return 0;
        }
        if (frame->hd.type != NGHTTP2_HEADERS) return 0;
        auto it = self->streams.find(frame->hd.stream_id);
        if (it == self->streams.end()) return 0;
        Stream& s = it->second;
        if (n == ":status") {
            int status = std::atoi(v.c_str());
            if (status >= 200 || !s.headers_done) {
                s.response.status = status;
                s.response.headers = Headers();  // drop headers of an informational response
            }
            return 0;
        }
        s.response.headers.add(std::move(n), std::move(v));
        return 0;
    }

    static int on_frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* user) {
        auto* self = static_cast<Impl*>(user);
        switch (frame->hd.type) {
            case NGHTTP2_HEADERS: {
                auto it = self->streams.find(frame->hd.stream_id);
                if (it != self->streams.end() && it->second.response.status >= 200) {
                    it->second.headers_done = true;
                }
                break;
            }
            case NGHTTP2_GOAWAY:
                self->goaway = frame->goaway.error_code;
                break;
            case NGHTTP2_PING:
                if (frame->hd.flags & NGHTTP2_FLAG_ACK) ++self->pings_acked;
                break;
            default:
                break;
        }
        return 0;
    }

    static int on_data_chunk(nghttp2_session*, uint8_t, int32_t stream_id, const uint8_t* data,
                             size_t len, void* user) {
        auto* self = static_cast<Impl*>(user);
        auto it = self->streams.find(stream_id);
        if (it != self->streams.end()) {
            it->second.response.body.append(reinterpret_cast<const char*>(data), len);
        }
        return 0;
    }

    static int on_stream_close(nghttp2_session*, int32_t stream_id, uint32_t error_code,
                               void* user) {
        auto* self = static_cast<Impl*>(user);
        auto it = self->streams.find(stream_id);
        if (it == self->streams.end()) return 0;
        it->second.closed = true;
        it->second.error_code = error_code;
        if (it->second.pushed) self->completed_pushes.push_back(stream_id);
        return 0;
    }

    static ssize_t read_body(nghttp2_session*, int32_t stream_id, uint8_t* buf, size_t length,
                             uint32_t* flags, nghttp2_data_source*, void* user) {
        auto* self = static_cast<Impl*>(user);
        auto it = self->streams.find(stream_id);
        if (it == self->streams.end()) {
            *flags |= NGHTTP2_DATA_FLAG_EOF;
            return 0;
        }
        Stream& s = it->second;
        std::size_t n = std::min(length, s.request_body.size() - s.body_offset);
        std::copy_n(s.request_body.data() + s.body_offset, n, buf);
        s.body_offset += n;
        if (s.body_offset == s.request_body.size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
        return ssize_t(n);
    }
};

Http2Client::Http2Client(ClientOptions options) : impl_(std::make_unique<Impl>()) {
    impl_->options = std::move(options);
}

Http2Client::~Http2Client() = default;

Result<void> Http2Client::connect(const std::string& url_text) {
    auto url = parse_url(url_text);
    if (!url) return url.error();
    impl_->shutdown();
    impl_->streams.clear();
    impl_->completed_pushes.clear();
    impl_->dead = false;
    impl_->dead_reason.clear();
    impl_->goaway.reset();
    impl_->origin = *url;
    impl_->transport.emplace(impl_->ioc);
    auto connected =
        impl_->transport->connect(*url, impl_->options, {"h2"}, impl_->deadline(std::nullopt));
    if (!connected) {
        impl_->transport.reset();
        return connected.error();
    }
    if (url->tls() && impl_->transport->alpn_selected() != "h2") {
        impl_->fail("server did not negotiate h2");
        return make_error(Errc::protocol, url->authority() + " did not negotiate h2 via ALPN");
    }

    nghttp2_session_callbacks* cbs = nullptr;
    nghttp2_session_callbacks_new(&cbs);
    nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, &Impl::on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cbs, &Impl::on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, &Impl::on_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, &Impl::on_data_chunk);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, &Impl::on_stream_close);
    int rv = nghttp2_session_client_new(&impl_->session, cbs, impl_.get());
    nghttp2_session_callbacks_del(cbs);
    if (rv != 0) return make_error(Errc::crypto, "nghttp2_session_client_new failed");

    const nghttp2_settings_entry settings[] = {
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 1},
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 1000},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20},
    };
    nghttp2_submit_settings(impl_->session, NGHTTP2_FLAG_NONE, settings, 3);
    nghttp2_session_set_local_window_size(impl_->session, NGHTTP2_FLAG_NONE, 0, 16 << 20);
    impl_->flush();
    impl_->start_read();
    return {};
}

bool Http2Client::is_open() const { return impl_->session && !impl_->dead; }

Result<std::int32_t> Http2Client::submit(const HttpRequest& request) {
    if (!is_open()) return impl_->closed_error();
    auto url = parse_url(request.url);
    if (!url) return url.error();
    std::vector<std::pair<std::string, std::string>> fields;
    fields.emplace_back(":method", request.method);
    fields.emplace_back(":scheme", impl_->origin.tls() ? "https" : "http");
    fields.emplace_back(":authority", request.headers.get("Host").value_or(url->authority()));
    fields.emplace_back(":path", url->target);
    bool has_length = false;
    for (const auto& [name, value] : request.headers) {
        std::string lower = name;
        for (char& c : lower) c = char(std::tolower(static_cast<unsigned char>(c)));
        // RFC 9113 §8.2.2: connection-specific fields are not allowed.
        if (lower == "host" || lower == "connection" || lower == "keep-alive" ||
            lower == "transfer-encoding" || lower == "upgrade" || lower == "proxy-connection") {
            continue;
        }
        has_length = has_length || lower == "content-length";
        fields.emplace_back(std::move(lower), value);
    }
    if (!has_length && (!request.body.empty() || request.method == "POST")) {
        fields.emplace_back("content-length", std::to_string(request.body.size()));
    }
    std::vector<nghttp2_nv> nva;
    for (auto& [name, value] : fields) {
        nva.push_back({reinterpret_cast<uint8_t*>(name.data()),
                       reinterpret_cast<uint8_t*>(value.data()), name.size(), value.size(),
                       NGHTTP2_NV_FLAG_NONE});
    }
    nghttp2_data_provider provider{};
    provider.read_callback = &Impl::read_body;
    std::int32_t id = nghttp2_submit_request(impl_->session, nullptr, nva.data(), nva.size(),
                                             request.body.empty() ? nullptr : &provider, nullptr);
    if (id < 0) {
        return make_error(Errc::protocol,
                          std::string("cannot submit HTTP/2 request: ") + nghttp2_strerror(id));
    }
    Stream& s = impl_->streams[id];
    s.request_body = request.body;
    s.response.version = 20;
    impl_->flush();
    return id;
}

Result<HttpResponse> Http2Client::wait_response(std::int32_t stream_id,
                                                std::optional<std::chrono::milliseconds> timeout) {
    auto it = impl_->streams.find(stream_id);
    if (it == impl_->streams.end()) {
        return make_error(Errc::invalid_argument, "unknown stream " + std::to_string(stream_id));
    }
    if (!impl_->wait([&] { return it->second.closed; }, impl_->deadline(timeout))) {
        if (impl_->dead) return impl_->closed_error();
        return make_error(Errc::timeout, "no complete response on stream " +
                                             std::to_string(stream_id) + " in time");
    }
    Stream s = std::move(it->second);
    impl_->streams.erase(it);
    if (s.error_code != 0 && !s.headers_done) {
        return make_error(Errc::protocol, "stream " + std::to_string(stream_id) +
                                              " reset by the server (error code " +
                                              std::to_string(s.error_code) + ")");
    }
    return std::move(s.response);
}

Result<int> Http2Client::wait_status(std::int32_t stream_id,
                                     std::optional<std::chrono::milliseconds> timeout) {
    auto it = impl_->streams.find(stream_id);
    if (it == impl_->streams.end()) {
        return make_error(Errc::invalid_argument, "unknown stream " + std::to_string(stream_id));
    }
    Stream& s = it->second;
    if (!impl_->wait([&] { return s.headers_done || s.closed; }, impl_->deadline(timeout))) {
        if (impl_->dead) return impl_->closed_error();
        return make_error(Errc::timeout, "no response headers in time");
    }
    if (!s.headers_done) {
        return make_error(Errc::protocol, "stream " + std::to_string(stream_id) +
                                              " closed without a response (error code " +
                                              std::to_string(s.error_code) + ")");
    }
    return s.response.status;
}

Result<HttpResponse> Http2Client::request(const HttpRequest& request) {
    auto id = submit(request);
    if (!id) return id.error();
    return wait_response(*id);
}

Result<PushPromise> Http2Client::wait_push(std::optional<std::chrono::milliseconds> timeout) {
    if (!impl_->wait([&] { return !impl_->completed_pushes.empty(); }, impl_->deadline(timeout))) {
        if (impl_->dead && impl_->completed_pushes.empty()) return impl_->closed_error();
        return make_error(Errc::timeout, "no server push in time");
    }
    std::int32_t id = impl_->completed_pushes.front();
    impl_->completed_pushes.pop_front();
    auto it = impl_->streams.find(id);
    PushPromise p;
    p.promised_stream_id = id;
    p.associated_stream_id = it->second.associated;
    p.request_headers = std::move(it->second.promise_headers);
    p.response = std::move(it->second.response);
    p.response.version = 20;
    p.reset_code = it->second.error_code;
    impl_->streams.erase(it);
    return p;
}

std::size_t Http2Client::pending_pushes() const { return impl_->completed_pushes.size(); }

std::size_t Http2Client::promises_received() const { return impl_->promises; }

Result<void> Http2Client::ping(std::optional<std::chrono::milliseconds> timeout) {
    if (!is_open()) return impl_->closed_error();
    std::uint64_t before = impl_->pings_acked;
    nghttp2_submit_ping(impl_->session, NGHTTP2_FLAG_NONE, nullptr);
    if (!impl_->wait([&] { return impl_->pings_acked > before; }, impl_->deadline(timeout))) {
        if (impl_->dead) return impl_->closed_error();
        return make_error(Errc::timeout, "no PING ACK in time");
    }
    return {};
}

Result<void> Http2Client::cancel(std::int32_t stream_id) {
    if (!is_open()) return impl_->closed_error();
    nghttp2_submit_rst_stream(impl_->session, NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_CANCEL);
    impl_->flush();
    return {};
}

bool Http2Client::stream_open(std::int32_t stream_id) const {
    auto it = impl_->streams.find(stream_id);
    return it != impl_->streams.end() && !it->second.closed;
}

void Http2Client::poll(std::chrono::milliseconds duration) {
    if (!is_open()) return;
    impl_->wait([] { return false; }, Clock::now() + duration);
}

std::optional<std::uint32_t> Http2Client::goaway_code() const { return impl_->goaway; }

void Http2Client::close() {
    if (is_open()) {
        nghttp2_session_terminate_session(impl_->session, NGHTTP2_NO_ERROR);
        impl_->flush();
        run_until(
            impl_->ioc, [&] { return !impl_->writing; },
            Clock::now() + std::chrono::milliseconds(500));
    }
    impl_->fail("closed by the client");
    impl_->shutdown();
}

}  // namespace webpush_client
