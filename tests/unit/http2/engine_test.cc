// http2::Engine paired in memory with an nghttp2 client session; every byte the client sends
// is fed to the engine in odd-sized slices.
#include "pushsvc/http2/engine.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "pushsvc/obs/catalog.h"

namespace pushsvc::http2 {
namespace {

struct ClientStream {
    int status = 0;
    std::vector<std::pair<std::string, std::string>> headers;  // in order, :status excluded
    std::string body;
    bool closed = false;
    std::uint32_t close_code = 0;
};

// The test's client: an nghttp2 client session recording what the server sends.
class Client {
  public:
    explicit Client(bool enable_push = false) {
        nghttp2_session_callbacks* cbs = nullptr;
        nghttp2_session_callbacks_new(&cbs);
        nghttp2_session_callbacks_set_on_header_callback(
            cbs,
            [](nghttp2_session*, const nghttp2_frame* f, const std::uint8_t* n, std::size_t nl,
               const std::uint8_t* v, std::size_t vl, std::uint8_t, void* u) -> int {
                const std::string name(reinterpret_cast<const char*>(n), nl);
                const std::string value(reinterpret_cast<const char*>(v), vl);
                auto& s = self(u).streams[f->hd.stream_id];
                if (name == ":status") {
                    s.status = std::stoi(value);
                } else {
                    s.headers.emplace_back(name, value);
                }
                return 0;
            });
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(
            cbs,
            [](nghttp2_session*, std::uint8_t, std::int32_t id, const std::uint8_t* d,
               std::size_t len, void* u) -> int {
                self(u).streams[id].body.append(reinterpret_cast<const char*>(d), len);
                return 0;
            });
        nghttp2_session_callbacks_set_on_stream_close_callback(
            cbs, [](nghttp2_session*, std::int32_t id, std::uint32_t code, void* u) -> int {
                self(u).streams[id].closed = true;
                self(u).streams[id].close_code = code;
                return 0;
            });
        nghttp2_session_callbacks_set_on_frame_recv_callback(
            cbs, [](nghttp2_session*, const nghttp2_frame* f, void* u) -> int {
                if (f->hd.type == NGHTTP2_GOAWAY) {
                    self(u).goaway = true;
                    self(u).goaway_code = f->goaway.error_code;
                }
                return 0;
            });
        nghttp2_session_client_new(&session, cbs, this);
        nghttp2_session_callbacks_del(cbs);
        nghttp2_settings_entry iv[] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, enable_push ? 1u : 0u}};
        nghttp2_submit_settings(session, NGHTTP2_FLAG_NONE, iv, 1);
    }
    ~Client() { nghttp2_session_del(session); }

    std::int32_t request(const std::string& method, const std::string& path,
                         std::vector<std::pair<std::string, std::string>> extra = {},
                         const std::string* body = nullptr) {
        std::vector<std::pair<std::string, std::string>> fields = {
            {":method", method}, {":scheme", "http"}, {":authority", "push.test"}, {":path", path}};
        fields.insert(fields.end(), extra.begin(), extra.end());
        std::vector<nghttp2_nv> nva;
        for (auto& [n, v] : fields) {
            nva.push_back({reinterpret_cast<std::uint8_t*>(n.data()),
                           reinterpret_cast<std::uint8_t*>(v.data()), n.size(), v.size(),
                           NGHTTP2_NV_FLAG_NONE});
        }
        nghttp2_data_provider prd{};
        if (body) {
            body_ = *body;
            prd.read_callback = [](nghttp2_session*, std::int32_t, std::uint8_t* buf,
                                   std::size_t len, std::uint32_t* flags, nghttp2_data_source*,
                                   void* u) -> ssize_t {
                auto& c = self(u);
                const std::size_t n = std::min(len, c.body_.size() - c.body_off_);
                std::memcpy(buf, c.body_.data() + c.body_off_, n);
                c.body_off_ += n;
                if (c.body_off_ == c.body_.size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
                return static_cast<ssize_t>(n);
            };
            body_off_ = 0;
        }
        return nghttp2_submit_request(session, nullptr, nva.data(), nva.size(),
                                      body ? &prd : nullptr, nullptr);
    }

    static Client& self(void* u) { return *static_cast<Client*>(u); }

    nghttp2_session* session = nullptr;
    std::map<std::int32_t, ClientStream> streams;
    bool goaway = false;
    std::uint32_t goaway_code = 0;

  private:
    std::string body_;
    std::size_t body_off_ = 0;
};

net::SessionContext context() {
    net::SessionContext ctx;
    ctx.limits.max_header_bytes = 1024;
    ctx.limits.max_body_bytes = 100;
    ctx.limits.max_concurrent_streams = 10;
    return ctx;
}

// Moves bytes both ways until neither side has anything to say. Client bytes reach the engine
// in slices of 1, 7 and 13 bytes. Returns false when the engine ended the session.
bool pump(Client& c, Engine& e, std::string* raw_client_bytes = nullptr) {
    static const std::size_t kSlices[] = {1, 7, 13};
    std::size_t slice = 0;
    bool alive = true;
    for (int round = 0; round < 100; ++round) {
        std::string to_server;
        const std::uint8_t* data = nullptr;
        ssize_t n;
        while ((n = nghttp2_session_mem_send(c.session, &data)) > 0) {
            to_server.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
        }
        if (raw_client_bytes) {
            to_server += *raw_client_bytes;
            raw_client_bytes = nullptr;
        }
        for (std::size_t off = 0; off < to_server.size() && alive;) {
            const std::size_t len = std::min(kSlices[slice++ % 3], to_server.size() - off);
            alive = e.recv(reinterpret_cast<const std::uint8_t*>(to_server.data() + off), len);
            off += len;
        }
        std::string to_client;
        EXPECT_TRUE(e.send(to_client, 1 << 20));
        if (!to_client.empty()) {
            nghttp2_session_mem_recv(c.session,
                                     reinterpret_cast<const std::uint8_t*>(to_client.data()),
                                     to_client.size());
        }
        if (to_server.empty() && to_client.empty()) break;
    }
    return alive;
}

http::Response ok(const std::string& body) {
    http::Response r;
    r.body = body;
    return r;
}

TEST(Http2Engine, HandsOutACompleteRequestAndSubmitsItsResponse) {
    Engine e(context());
    ASSERT_TRUE(e.start());
    Client c;
    const std::string body = "hello";
    const auto id = c.request("POST", "/p?x=1", {{"x-echo", "v"}}, &body);
    ASSERT_TRUE(pump(c, e));
    auto ready = e.take_ready();
    ASSERT_EQ(ready.size(), 1u);
    const http::Request& r = ready[0].request;
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.target, "/p?x=1");
    EXPECT_EQ(r.authority, "push.test");
    EXPECT_EQ(r.headers.get("x-echo"), "v");
    EXPECT_EQ(r.body, "hello");
    EXPECT_FALSE(r.can_push);
    EXPECT_TRUE(e.submit_response(ready[0].stream_id, ok("answer")));
    pump(c, e);
    EXPECT_EQ(c.streams[id].status, 200);
    EXPECT_EQ(c.streams[id].body, "answer");
    EXPECT_TRUE(c.streams[id].closed);
    EXPECT_EQ(e.open_streams(), 0u);
}

TEST(Http2Engine, SendsTheHandlersFieldsLowerCasedWithDateServerAndLength) {  // RFC 9113 §8.2.1
    Engine e(context());
    ASSERT_TRUE(e.start());
    Client c;
    const auto id = c.request("GET", "/", {});
    ASSERT_TRUE(pump(c, e));
    auto ready = e.take_ready();
    ASSERT_EQ(ready.size(), 1u);
    http::Response res = ok("four");
    res.status = 201;
    res.headers.add("location", "/m/1");
    res.headers.add("X-Mixed-Case", "kept as is");
    // Short names live inside their strings: lowered copies must not move while pointed at.
    res.headers.add("X-A", "1");
    res.headers.add("X-B", "2");
    res.headers.add("X-C", "3");
    res.headers.add("Content-Length", "999");  // the transport's own: replaced
    res.headers.add("Date", "yesterday");      // the same
    res.headers.add(":x", "pseudo");           // never a handler's to send
    res.headers.add("", "nameless");
    ASSERT_TRUE(e.submit_response(ready[0].stream_id, std::move(res)));
    pump(c, e);
    const auto& got = c.streams[id];
    EXPECT_EQ(got.status, 201);
    std::vector<std::string> names;
    for (const auto& [name, value] : got.headers) names.push_back(name);
    EXPECT_EQ(names, (std::vector<std::string>{"location", "x-mixed-case", "x-a", "x-b", "x-c",
                                               "date", "server", "content-length"}));
    EXPECT_EQ(got.headers[0].second, "/m/1");
    EXPECT_EQ(got.headers[1].second, "kept as is");
    EXPECT_EQ(got.headers[2].second, "1");
    EXPECT_EQ(got.headers[4].second, "3");
    EXPECT_EQ(got.headers[5].second.size(), 29u) << got.headers[5].second;  // IMF-fixdate
    EXPECT_EQ(got.headers[7].second, "4");
    EXPECT_EQ(got.body, "four");
}

TEST(Http2Engine, SetsCanPushWhenTheClientEnablesPush) {
    Engine e(context());
    ASSERT_TRUE(e.start());
    Client c(/*enable_push=*/true);
    c.request("GET", "/monitor");
    pump(c, e);
    auto ready = e.take_ready();
    ASSERT_EQ(ready.size(), 1u);
    EXPECT_TRUE(ready[0].request.can_push);
}

TEST(Http2Engine, AnswersABodyOverTheLimitWith413AndNeverHandsItOut) {
    Engine e(context());
    ASSERT_TRUE(e.start());
    Client c;
    const std::string body(500, 'x');
    const auto id = c.request("POST", "/big", {}, &body);
    pump(c, e);
    EXPECT_TRUE(e.take_ready().empty());
    EXPECT_EQ(c.streams[id].status, 413);
    EXPECT_NE(c.streams[id].body.find("\"errno\":104"), std::string::npos);
}

TEST(Http2Engine, AnswersADeclaredOversizedContentLengthWith413BeforeAnyData) {
    Engine e(context());
    ASSERT_TRUE(e.start());
    Client c;
    // HEADERS only (no END_STREAM, no DATA yet): the declared length alone triggers the 413.
    std::string fields[] = {":method", "POST",  ":scheme", "http",           ":authority",
                            "a",       ":path", "/cl",     "content-length", "5000"};
    nghttp2_nv nva[5];
    for (int i = 0; i < 5; ++i) {
        nva[i] = {reinterpret_cast<std::uint8_t*>(fields[2 * i].data()),
                  reinterpret_cast<std::uint8_t*>(fields[2 * i + 1].data()), fields[2 * i].size(),
                  fields[2 * i + 1].size(), NGHTTP2_NV_FLAG_NONE};
    }
    const auto id =
        nghttp2_submit_headers(c.session, NGHTTP2_FLAG_NONE, -1, nullptr, nva, 5, nullptr);
    pump(c, e);
    EXPECT_TRUE(e.take_ready().empty());
    EXPECT_EQ(c.streams[id].status, 413);
    // Complete response before the complete request: RST_STREAM(NO_ERROR), RFC 9113 §8.1.
    EXPECT_TRUE(c.streams[id].closed);
    EXPECT_EQ(c.streams[id].close_code, static_cast<std::uint32_t>(NGHTTP2_NO_ERROR));
}

TEST(Http2Engine, AnswersAnOversizedHeaderListWith431) {
    Engine e(context());
    ASSERT_TRUE(e.start());
    Client c;
    const auto id = c.request("GET", "/h", {{"x-big", std::string(2000, 'a')}});
    pump(c, e);
    EXPECT_TRUE(e.take_ready().empty());
    EXPECT_EQ(c.streams[id].status, 431);
}

TEST(Http2Engine, NeverHandsOutARequestResetMidBody) {
    Engine e(context());
    ASSERT_TRUE(e.start());
    Client c;
    // HEADERS without END_STREAM, then part of the body via a deferred provider is simpler
    // to model as: open the stream, send no END_STREAM, then RST_STREAM.
    std::string fields[] = {":method", "POST", ":scheme", "http", ":authority", "a", ":path", "/"};
    nghttp2_nv nva[4];
    for (int i = 0; i < 4; ++i) {
        nva[i] = {reinterpret_cast<std::uint8_t*>(fields[2 * i].data()),
                  reinterpret_cast<std::uint8_t*>(fields[2 * i + 1].data()), fields[2 * i].size(),
                  fields[2 * i + 1].size(), NGHTTP2_NV_FLAG_NONE};
    }
    const auto id =
        nghttp2_submit_headers(c.session, NGHTTP2_FLAG_NONE, -1, nullptr, nva, 4, nullptr);
    pump(c, e);
    EXPECT_EQ(e.open_streams(), 1u);
    nghttp2_submit_rst_stream(c.session, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
    pump(c, e);
    EXPECT_TRUE(e.take_ready().empty());
    EXPECT_EQ(e.open_streams(), 0u);
    EXPECT_FALSE(e.submit_response(id, ok("late")));  // dropped: the stream is gone
}

TEST(Http2Engine, ResetsARequestThatStalledPastTheCutoff) {
    Engine e(context());
    ASSERT_TRUE(e.start());
    Client c;
    std::string fields[] = {":method", "POST", ":scheme", "http", ":authority", "a", ":path", "/"};
    nghttp2_nv nva[4];
    for (int i = 0; i < 4; ++i) {
        nva[i] = {reinterpret_cast<std::uint8_t*>(fields[2 * i].data()),
                  reinterpret_cast<std::uint8_t*>(fields[2 * i + 1].data()), fields[2 * i].size(),
                  fields[2 * i + 1].size(), NGHTTP2_NV_FLAG_NONE};
    }
    const auto id =
        nghttp2_submit_headers(c.session, NGHTTP2_FLAG_NONE, -1, nullptr, nva, 4, nullptr);
    pump(c, e);
    ASSERT_TRUE(e.oldest_incomplete());
    EXPECT_EQ(e.reset_stalled(Clock::now() + std::chrono::seconds(1)), 1u);
    pump(c, e);
    EXPECT_TRUE(c.streams[id].closed);
    EXPECT_EQ(c.streams[id].close_code, static_cast<std::uint32_t>(NGHTTP2_CANCEL));
    EXPECT_TRUE(e.take_ready().empty());
}

TEST(Http2Engine, SendsGoawayOnShutdownAndFinishesOpenStreams) {
    Engine e(context());
    ASSERT_TRUE(e.start());
    Client c;
    const auto id = c.request("GET", "/slow");
    pump(c, e);
    auto ready = e.take_ready();
    ASSERT_EQ(ready.size(), 1u);
    e.shutdown();
    pump(c, e);
    EXPECT_TRUE(c.goaway);
    EXPECT_EQ(c.goaway_code, static_cast<std::uint32_t>(NGHTTP2_NO_ERROR));
    EXPECT_TRUE(e.want_read());  // the open stream may still finish
    EXPECT_TRUE(e.submit_response(ready[0].stream_id, ok("done")));
    pump(c, e);
    EXPECT_EQ(c.streams[id].body, "done");
    EXPECT_FALSE(e.want_read());
    EXPECT_FALSE(e.want_write());
}

TEST(Http2Engine, EndsThePingFloodWithEnhanceYourCalm) {
    Engine e(context());
    ASSERT_TRUE(e.start());
    Client c;
    for (std::uint32_t i = 0; i < kMaxControlFramesPerSecond + 10; ++i) {
        nghttp2_submit_ping(c.session, NGHTTP2_FLAG_NONE, nullptr);
    }
    EXPECT_FALSE(pump(c, e));
    EXPECT_TRUE(c.goaway);
    EXPECT_EQ(c.goaway_code, static_cast<std::uint32_t>(NGHTTP2_ENHANCE_YOUR_CALM));
}

// A raw WINDOW_UPDATE frame (RFC 9113 §6.9) for `stream`, increment 1.
std::string window_update(std::uint32_t stream) {
    std::string f("\x00\x00\x04\x08\x00", 5);
    for (int shift : {24, 16, 8, 0}) f.push_back(static_cast<char>((stream >> shift) & 0x7f));
    f.append("\x00\x00\x00\x01", 4);
    return f;
}

TEST(Http2Engine, EndsAWindowUpdateFloodWithEnhanceYourCalm) {
    Engine e(context());
    ASSERT_TRUE(e.start());
    Client c;
    ASSERT_TRUE(pump(c, e));  // prefaces
    std::string flood;
    for (std::uint32_t i = 0; i < kMaxControlFramesPerSecond + 10; ++i) flood += window_update(0);
    EXPECT_FALSE(pump(c, e, &flood));
    EXPECT_TRUE(c.goaway);
    EXPECT_EQ(c.goaway_code, static_cast<std::uint32_t>(NGHTTP2_ENHANCE_YOUR_CALM));
}

TEST(Http2Engine, WindowUpdatesReturningCreditForOurDataNeverCountAsAFlood) {
    Engine e(context());
    ASSERT_TRUE(e.start());
    Client c;
    ASSERT_TRUE(pump(c, e));
    // A client that returns credit for every DATA frame it gets, on the connection and on the
    // stream, for more responses than the control-frame budget of one second.
    for (std::uint32_t i = 0; i < kMaxControlFramesPerSecond; ++i) {
        const auto id = c.request("GET", "/r");
        ASSERT_TRUE(pump(c, e)) << i;
        auto ready = e.take_ready();
        ASSERT_EQ(ready.size(), 1u) << i;
        ASSERT_TRUE(e.submit_response(ready[0].stream_id, ok("x")));
        ASSERT_TRUE(pump(c, e)) << i;
        ASSERT_EQ(c.streams[id].body, "x") << i;
        std::string updates = window_update(0) + window_update(static_cast<std::uint32_t>(id));
        ASSERT_TRUE(pump(c, e, &updates)) << i;
    }
    EXPECT_FALSE(c.goaway);
}

TEST(Http2Engine, AnswersAMalformedFrameWithGoaway) {
    Engine e(context());
    ASSERT_TRUE(e.start());
    Client c;
    pump(c, e);  // exchange prefaces
    // WINDOW_UPDATE on stream 0 with increment 0: PROTOCOL_ERROR (RFC 9113 §6.9).
    std::string bad("\x00\x00\x04\x08\x00\x00\x00\x00\x00\x00\x00\x00\x00", 13);
    pump(c, e, &bad);
    EXPECT_TRUE(c.goaway);
    EXPECT_EQ(c.goaway_code, static_cast<std::uint32_t>(NGHTTP2_PROTOCOL_ERROR));
    EXPECT_FALSE(e.want_read());
}

TEST(Http2Engine, RefusesBytesThatAreNotTheClientPreface) {
    Engine e(context());
    ASSERT_TRUE(e.start());
    const std::string junk = "GET / HTTP/1.1\r\n\r\n";
    EXPECT_FALSE(e.recv(reinterpret_cast<const std::uint8_t*>(junk.data()), junk.size()));
}

TEST(Http2Engine, OmitsTheBodyOfAHeadResponseButAnnouncesItsLength) {
    Engine e(context());
    ASSERT_TRUE(e.start());
    Client c;
    const auto id = c.request("HEAD", "/h");
    pump(c, e);
    auto ready = e.take_ready();
    ASSERT_EQ(ready.size(), 1u);
    EXPECT_TRUE(e.submit_response(ready[0].stream_id, ok("twelve bytes")));
    pump(c, e);
    EXPECT_EQ(c.streams[id].status, 200);
    EXPECT_TRUE(c.streams[id].body.empty());
}

// A monitoring GET from a push-enabled client, ready and marked monitored.
std::int32_t monitoring_get(Client& c, Engine& e) {
    c.request("GET", "/receipt/r");
    pump(c, e);
    auto ready = e.take_ready();
    EXPECT_EQ(ready.size(), 1u);
    if (ready.empty()) return 0;
    e.mark_monitored(ready[0].stream_id);
    return ready[0].stream_id;
}

http::Response receipt204() {
    http::Response r;
    r.status = 204;
    return r;
}

// R8030-6.3-b: the receipt's push is reported sent only once its final frame went out, so
// the application deletes the receipt no earlier.
TEST(Http2Engine, ReportsAPushSentOnlyOnceItsFinalFrameWasSerialized_R8030_6_3_b) {
    Engine e(context());
    ASSERT_TRUE(e.start());
    Client c(/*enable_push=*/true);
    const auto id = monitoring_get(c, e);
    const auto promised = e.submit_push(id, "/m/abc", receipt204());
    ASSERT_GT(promised, 0);
    EXPECT_TRUE(e.take_push_results().empty());  // queued, nothing serialized yet
    pump(c, e);
    auto results = e.take_push_results();
    ASSERT_EQ(results.size(), 1u);
    EXPECT_EQ(results[0].promised_id, promised);
    EXPECT_TRUE(results[0].sent);
    EXPECT_EQ(c.streams[promised].status, 204);
    EXPECT_TRUE(c.streams[promised].closed);
    EXPECT_EQ(e.open_streams(), 1u);  // the monitoring GET only
}

TEST(Http2Engine, ReportsAPushResetByThePeerBeforeItsLastFrameAsFailed) {
    Engine e(context());
    ASSERT_TRUE(e.start());
    Client c(/*enable_push=*/true);
    // No flow-control window for our DATA: the pushed body cannot finish.
    nghttp2_settings_entry iv[] = {{NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 0}};
    nghttp2_submit_settings(c.session, NGHTTP2_FLAG_NONE, iv, 1);
    const auto id = monitoring_get(c, e);
    const auto promised = e.submit_push(id, "/m/abc", ok("a message body"));
    ASSERT_GT(promised, 0);
    pump(c, e);
    EXPECT_TRUE(e.take_push_results().empty());  // HEADERS out, DATA blocked
    EXPECT_EQ(c.streams[promised].status, 200);
    nghttp2_submit_rst_stream(c.session, NGHTTP2_FLAG_NONE, promised, NGHTTP2_CANCEL);
    pump(c, e);
    auto results = e.take_push_results();
    ASSERT_EQ(results.size(), 1u);
    EXPECT_EQ(results[0].promised_id, promised);
    EXPECT_FALSE(results[0].sent);
    EXPECT_EQ(e.open_streams(), 1u);
}

TEST(Http2Engine, ReportsAPushThePeerDisabledBeforeItWentOutAsFailed) {
    Engine e(context());
    ASSERT_TRUE(e.start());
    Client c(/*enable_push=*/true);
    const auto id = monitoring_get(c, e);
    const auto promised = e.submit_push(id, "/m/abc", receipt204());
    ASSERT_GT(promised, 0);
    // The client's SETTINGS reach the engine before its queued PUSH_PROMISE is sent.
    nghttp2_settings_entry iv[] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0}};
    nghttp2_submit_settings(c.session, NGHTTP2_FLAG_NONE, iv, 1);
    pump(c, e);
    auto results = e.take_push_results();
    ASSERT_EQ(results.size(), 1u);
    EXPECT_FALSE(results[0].sent);
    EXPECT_EQ(c.streams.count(promised), 0u);  // never promised
    EXPECT_EQ(e.open_streams(), 1u);           // no stream left behind
}

TEST(Http2Engine, RefusesAPushAtOnceWhenThePeerDisabledPush) {
    Engine e(context());
    ASSERT_TRUE(e.start());
    Client c(/*enable_push=*/false);
    c.request("GET", "/receipt/r");
    pump(c, e);
    auto ready = e.take_ready();
    ASSERT_EQ(ready.size(), 1u);
    EXPECT_EQ(e.submit_push(ready[0].stream_id, "/m/abc", receipt204()), 0);
    pump(c, e);
    EXPECT_TRUE(e.take_push_results().empty());  // refused synchronously: no later outcome
}

TEST(Http2Engine, NeverHandsOutARequestResetInTheSameReadAsItsEndStream) {
    // Rapid reset (CVE-2023-44487): complete requests whose streams the client resets before
    // the connection takes them are dropped, others on the connection are not.
    Engine e(context());
    ASSERT_TRUE(e.start());
    Client c;
    // The client's bytes are collected after each submit: nghttp2 would otherwise cancel
    // HEADERS still queued when their RST_STREAM is submitted, and send neither.
    std::string wire;
    auto drain = [&] {
        const std::uint8_t* data = nullptr;
        ssize_t n;
        while ((n = nghttp2_session_mem_send(c.session, &data)) > 0)
            wire.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
    };
    const auto kept_before = c.request("GET", "/kept-1");
    std::vector<std::int32_t> reset;
    for (int i = 0; i < 5; ++i) {
        reset.push_back(c.request("POST", "/subscribe"));
        drain();
        nghttp2_submit_rst_stream(c.session, NGHTTP2_FLAG_NONE, reset.back(), NGHTTP2_CANCEL);
        drain();
    }
    const auto kept_after = c.request("GET", "/kept-2");
    drain();
    const auto before = obs::catalog().http2_reset_before_dispatch.value();
    ASSERT_TRUE(pump(c, e, &wire));  // everything arrives before take_ready()
    auto ready = e.take_ready();
    ASSERT_EQ(ready.size(), 2u);
    EXPECT_EQ(ready[0].stream_id, kept_before);
    EXPECT_EQ(ready[1].stream_id, kept_after);
    EXPECT_EQ(obs::catalog().http2_reset_before_dispatch.value(), before + 5);
    EXPECT_EQ(e.open_streams(), 2u);  // the reset streams left nothing behind
    for (auto id : reset) EXPECT_FALSE(e.submit_response(id, ok("late")));
}

}  // namespace
}  // namespace pushsvc::http2
