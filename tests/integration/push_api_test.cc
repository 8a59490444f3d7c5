// The sender-facing push API of a running pushsvc, driven over every transport (HTTP/1.1 and
// HTTP/2, cleartext and TLS) by the independent client library. Requirement IDs are those
// of docs/checklist.md (RFC, section, letter: R8030-5.2-b).
#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <memory>

#include "tests/integration/pushsvc_process.h"
#include "tools/client/http1_client.h"
#include "tools/client/http2_client.h"
#include "tools/client/push_request.h"
#include "tools/client/user_agent_keys.h"

namespace pushsvc::testing {
namespace {

namespace wc = webpush_client;

enum class Transport { http1, h2c, http1_tls, h2_tls };

std::string name_of(Transport t) {
    switch (t) {
        case Transport::http1:
            return "Http1";
        case Transport::h2c:
            return "H2c";
        case Transport::http1_tls:
            return "Http1Tls";
        case Transport::h2_tls:
            return "H2Tls";
    }
    return "?";
}

// One server for the whole suite (TLS + cleartext), restarted by no test.
PushsvcProcess* g_server = nullptr;

class PushApi : public ::testing::TestWithParam<Transport> {
  protected:
    static void SetUpTestSuite() {
        g_server = new PushsvcProcess(ProcessOptions{.tls = true});
        g_server->start();
    }
    static void TearDownTestSuite() {
        delete g_server;
        g_server = nullptr;
    }

    void SetUp() override {
        wc::ClientOptions opts;
        opts.tls.ca_file = g_server->ca_file().string();
        opts.timeout = std::chrono::seconds(10);
        Transport t = GetParam();
        if (t == Transport::http1 || t == Transport::http1_tls)
            h1_ = std::make_unique<wc::Http1Client>(opts);
        else
            h2_ = std::make_unique<wc::Http2Client>(opts);
        bool tls = t == Transport::http1_tls || t == Transport::h2_tls;
        base_ = tls ? "https://127.0.0.1:" + std::to_string(g_server->tls_port())
                    : "http://127.0.0.1:" + std::to_string(g_server->cleartext_port());
        if (h2_) {
            auto connected = h2_->connect(base_ + "/");
            ASSERT_TRUE(connected) << connected.error().message;
        }
    }

    // Rewrites a URL the service handed out to this transport's listener (same path).
    std::string here(const std::string& url) const {
        auto path = url.find('/', url.find("://") + 3);
        return base_ + url.substr(path);
    }

    wc::HttpResponse send(wc::HttpRequest req) {
        req.url = here(req.url);
        auto r = h1_ ? h1_->request(req) : h2_->request(req);
        if (!r) ADD_FAILURE() << "request failed: " << r.error().message;
        return r ? *r : wc::HttpResponse{};
    }

    wc::HttpResponse post(const std::string& url,
                          std::vector<std::pair<std::string, std::string>> headers,
                          std::string body = {}) {
        wc::HttpRequest req;
        req.method = "POST";
        req.url = url;
        for (auto& [k, v] : headers) req.headers.add(k, v);
        req.body = std::move(body);
        return send(std::move(req));
    }

    struct Sub {
        std::string location, endpoint;
        wc::UserAgentKeys keys = wc::UserAgentKeys::generate();
        wc::Subscription subscription() const { return keys.subscription(endpoint); }
    };

    // POST /subscribe, optionally restricted to `vapid_key` (RFC 8292 §4.1).
    Sub subscribe(const wc::P256Key* vapid_key = nullptr) {
        std::vector<std::pair<std::string, std::string>> headers;
        std::string body;
        if (vapid_key) {
            headers.push_back({"Content-Type", "application/webpush-options+json"});
            body = R"({"vapid":")" + vapid_key->public_base64url() + R"("})";
        }
        auto r = post(g_server->origin() + "/subscribe", headers, body);
        EXPECT_EQ(r.status, 201) << r.body;
        Sub s;
        s.location = r.headers.get("location").value_or("");
        std::string link = r.headers.get("link").value_or("");
        auto a = link.find('<'), b = link.find('>');
        if (a != std::string::npos && b != std::string::npos)
            s.endpoint = link.substr(a + 1, b - a - 1);
        return s;
    }

    // A push request as web-push would build it, with our origin as the VAPID audience.
    wc::HttpRequest push_request(const Sub& sub, const std::string& payload,
                                 wc::PushOptions opts = {}) {
        auto req = wc::build_push_request(sub.subscription(), wc::to_bytes(payload), opts);
        EXPECT_TRUE(req) << (req ? "" : req.error().message);
        return req ? *req : wc::HttpRequest{};
    }

    wc::VapidOptions vapid(const wc::P256Key& key) {
        wc::VapidOptions v{.key = key, .subject = "mailto:test@example.com"};
        v.audience = g_server->origin();
        return v;
    }

    static int json_errno(const wc::HttpResponse& r) {
        auto v = boost::json::parse(r.body).as_object().at("errno");
        return v.is_null() ? 0 : int(v.as_int64());
    }

    std::unique_ptr<wc::Http1Client> h1_;
    std::unique_ptr<wc::Http2Client> h2_;
    std::string base_;
};

TEST_P(PushApi, SubscribeReturnsLocationAndPushLink_R8030_4_a_b_c) {
    auto a = subscribe();
    auto b = subscribe();
    EXPECT_EQ(a.location.rfind(g_server->origin() + "/sub/", 0), 0u);
    EXPECT_EQ(a.endpoint.rfind(g_server->origin() + "/push/", 0), 0u);
    EXPECT_NE(a.location, b.location);
    EXPECT_NE(a.endpoint, b.endpoint);
}

TEST_P(PushApi, EncryptedPushIsAcceptedWithLocationAndTtl_R8030_5_b) {
    auto sub = subscribe();
    wc::PushOptions opts;
    opts.ttl = 60;
    auto r = send(push_request(sub, "hello", opts));
    EXPECT_EQ(r.status, 201) << r.body;
    EXPECT_EQ(r.headers.get("location").value_or("").rfind(g_server->origin() + "/m/", 0), 0u);
    EXPECT_EQ(r.headers.get("ttl"), "60");
}

TEST_P(PushApi, BodylessPushIsAccepted_R8030_5_a) {
    auto sub = subscribe();
    auto r = post(sub.endpoint, {{"TTL", "0"}, {"Content-Length", "0"}});
    EXPECT_EQ(r.status, 201) << r.body;
}

TEST_P(PushApi, MissingTtlIsA400WithErrno111_R8030_5_2_b) {
    auto sub = subscribe();
    wc::PushOptions opts;
    opts.ttl = std::nullopt;
    auto r = send(push_request(sub, "x", opts));
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(json_errno(r), 111);
}

TEST_P(PushApi, TtlSyntaxIsEnforcedAndOverflowClamped_R8030_5_2_c_e_f) {
    auto sub = subscribe();
    for (std::string bad : {"-1", "abc", "1.5", "0x10"})
        EXPECT_EQ(post(sub.endpoint, {{"TTL", bad}}).status, 400) << bad;
    auto r = post(sub.endpoint, {{"TTL", "99999999999999999999"}});
    EXPECT_EQ(r.status, 201);
    EXPECT_EQ(r.headers.get("ttl"), "2592000");  // push.max_ttl default
}

TEST_P(PushApi, UrgencyAndTopicAreValidated_R8030_5_3_h_R8030_5_4_b) {
    auto sub = subscribe();
    EXPECT_EQ(post(sub.endpoint, {{"TTL", "5"}, {"Urgency", "HIGH"}}).status, 201);
    EXPECT_EQ(post(sub.endpoint, {{"TTL", "5"}, {"Urgency", "low, high"}}).status, 400);
    EXPECT_EQ(post(sub.endpoint, {{"TTL", "5"}, {"Urgency", "urgent"}}).status, 400);
    EXPECT_EQ(post(sub.endpoint, {{"TTL", "5"}, {"Topic", std::string(32, 'a')}}).status, 201);
    EXPECT_EQ(post(sub.endpoint, {{"TTL", "5"}, {"Topic", std::string(33, 'a')}}).status, 400);
    EXPECT_EQ(post(sub.endpoint, {{"TTL", "5"}, {"Topic", "a.b"}}).status, 400);
}

TEST_P(PushApi, AesgcmNeedsItsHeadersAndBodyNeedsACoding_RENC04_3_1_a) {
    auto sub = subscribe();
    wc::PushOptions opts;
    opts.encryption.encoding = wc::ContentEncoding::aesgcm;
    auto good = push_request(sub, "legacy", opts);
    EXPECT_EQ(send(good).status, 201);
    auto no_salt = good;
    no_salt.headers.remove("Encryption");
    auto r = send(no_salt);
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(json_errno(r), 110);
    EXPECT_EQ(post(sub.endpoint, {{"TTL", "5"}}, "plaintext").status, 400);
}

TEST_P(PushApi, BodyOf4096BytesPassesAndOversizeIs413_R8030_7_2_d_e) {
    auto sub = subscribe();
    std::string header(16, 's');
    header += std::string("\0\0\x10\0", 4);
    header += "\x41";
    header += "\x04" + std::string(64, 'k');
    auto body = [&](std::size_t n) { return header + std::string(n - header.size(), 'r'); };
    EXPECT_EQ(
        post(sub.endpoint, {{"TTL", "5"}, {"Content-Encoding", "aes128gcm"}}, body(4096)).status,
        201);
    auto r = post(sub.endpoint, {{"TTL", "5"}, {"Content-Encoding", "aes128gcm"}}, body(4353));
    EXPECT_EQ(r.status, 413);
    EXPECT_EQ(json_errno(r), 104);
}

TEST_P(PushApi, RestrictedSubscriptionEnforcesVapid_R8292_4_2_b_g_R8292_3_b) {
    auto key = wc::P256Key::generate();
    auto sub = subscribe(&key);
    wc::PushOptions opts;
    opts.ttl = 30;
    auto unsigned_req = send(push_request(sub, "no auth", opts));
    EXPECT_EQ(unsigned_req.status, 401);
    EXPECT_EQ(unsigned_req.headers.get("www-authenticate"), "vapid");

    opts.vapid = vapid(key);
    EXPECT_EQ(send(push_request(sub, "vapid auth", opts)).status, 201);
    opts.vapid->scheme = wc::VapidScheme::webpush;
    EXPECT_EQ(send(push_request(sub, "legacy auth", opts)).status, 201);

    opts.vapid = vapid(wc::P256Key::generate());
    EXPECT_EQ(send(push_request(sub, "other key", opts)).status, 403);
    opts.vapid = vapid(key);
    opts.vapid->audience = "https://elsewhere.example";
    EXPECT_EQ(send(push_request(sub, "wrong aud", opts)).status, 403);
}

TEST_P(PushApi, TamperedEndpointIs404AndRemovedSubscriptionIs410_R8030_7_3_d) {
    auto sub = subscribe();
    std::string tampered = sub.endpoint;
    tampered[tampered.size() - 3] = tampered[tampered.size() - 3] == 'A' ? 'B' : 'A';
    auto r = post(tampered, {{"TTL", "5"}});
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(json_errno(r), 102);

    wc::HttpRequest del;
    del.method = "DELETE";
    del.url = sub.location;
    EXPECT_EQ(send(del).status, 204);
    r = post(sub.endpoint, {{"TTL", "5"}});
    EXPECT_EQ(r.status, 410);
    EXPECT_EQ(json_errno(r), 106);
}

TEST_P(PushApi, DeleteOfAMessageCancelsItOnce_R8030_6_2_e) {
    auto sub = subscribe();
    auto pushed = post(sub.endpoint, {{"TTL", "60"}});
    ASSERT_EQ(pushed.status, 201);
    wc::HttpRequest del;
    del.method = "DELETE";
    del.url = *pushed.headers.get("location");
    EXPECT_EQ(send(del).status, 204);
    EXPECT_EQ(send(del).status, 404);
}

TEST_P(PushApi, ErrorsAreJsonWithCodeErrnoErrorMessage) {
    wc::HttpRequest req;
    req.url = g_server->origin() + "/no/such/route";
    auto r = send(req);
    EXPECT_EQ(r.status, 404);
    auto body = boost::json::parse(r.body).as_object();
    EXPECT_EQ(body.at("code").as_int64(), 404);
    EXPECT_TRUE(body.contains("errno"));
    EXPECT_TRUE(body.contains("error"));
    EXPECT_TRUE(body.contains("message"));
}

TEST_P(PushApi, RootWithoutAWebSocketUpgradeIsAJson400) {
    // `/` is the push channel (RFC 6455 upgrades over HTTP/1.1); a plain GET is told so.
    // Invalid upgrades (wrong version, bad key) are in unit_http1's handshake test.
    wc::HttpRequest req;
    req.url = g_server->origin() + "/";
    auto r = send(req);
    EXPECT_EQ(r.status, 400);
    auto body = boost::json::parse(r.body).as_object();
    EXPECT_EQ(body.at("reason").as_string(), "websocket_required");

    // Another WebSocket version: 426 naming the one spoken (RFC 6455 §4.2.2).
    req.headers.add("Sec-WebSocket-Version", "8");
    auto old = send(req);
    EXPECT_EQ(old.status, 426);
    EXPECT_EQ(old.headers.get("sec-websocket-version").value_or(""), "13");
    EXPECT_EQ(boost::json::parse(old.body).at("reason").as_string(), "websocket_version");
}

// A sender streaming its push with chunked transfer coding (a short chunk extension
// included) is served as before the chunked-body limits of issue 14; written on a raw
// cleartext socket because the client library always sends Content-Length.
TEST_P(PushApi, AChunkedPushOverHttp11IsAccepted) {
    if (GetParam() != Transport::http1) GTEST_SKIP() << "HTTP/1.1 framing only";
    auto sub = subscribe();
    auto req = push_request(sub, std::string(1000, 'p'));
    const std::string url = here(req.url);
    std::string wire = "POST " + url.substr(url.find('/', url.find("://") + 3)) +
                       " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
    for (const auto& [name, value] : req.headers) {
        if (name != "Content-Length" && name != "content-length")
            wire += name + ": " + value + "\r\n";
    }
    wire += "Transfer-Encoding: chunked\r\n\r\n";
    for (std::size_t off = 0; off < req.body.size(); off += 256) {
        const std::string part = req.body.substr(off, 256);
        char size[16];
        std::snprintf(size, sizeof size, "%zx", part.size());
        wire += std::string(size) + (off == 0 ? ";note=first" : "") + "\r\n" + part + "\r\n";
    }
    wire += "0\r\n\r\n";

    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(g_server->cleartext_port());
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ASSERT_EQ(::send(fd, wire.data(), wire.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(wire.size()));
    std::string response;  // up to the server's close (Connection: close), at most 10 s
    for (int i = 0; i < 200; ++i) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 50) <= 0) continue;
        char buf[4096];
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        response.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    EXPECT_EQ(response.rfind("HTTP/1.1 201 ", 0), 0u) << response;
}

INSTANTIATE_TEST_SUITE_P(AllTransports, PushApi,
                         ::testing::Values(Transport::http1, Transport::h2c, Transport::http1_tls,
                                           Transport::h2_tls),
                         [](const auto& info) { return name_of(info.param); });

}  // namespace
}  // namespace pushsvc::testing
