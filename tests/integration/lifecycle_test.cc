// Whole-process behaviour: durability across kill -9 and restart, graceful SIGTERM, the strict
// profile, and zero-configuration start (generated token keys keep endpoints valid).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "tests/integration/pushsvc_process.h"
#include "tools/client/http1_client.h"

namespace pushsvc::testing {
namespace {

namespace wc = webpush_client;

wc::HttpResponse call(wc::Http1Client& c, const PushsvcProcess& p, std::string method,
                      const std::string& url,
                      std::vector<std::pair<std::string, std::string>> headers = {}) {
    wc::HttpRequest req;
    req.method = std::move(method);
    req.url = p.on_cleartext(url);
    for (auto& [k, v] : headers) req.headers.add(k, v);
    auto r = c.request(req);
    if (!r) ADD_FAILURE() << r.error().message;
    return r ? *r : wc::HttpResponse{};
}

std::string endpoint_of(const wc::HttpResponse& r) {
    std::string link = r.headers.get("link").value_or("");
    auto a = link.find('<'), b = link.find('>');
    return a == std::string::npos ? "" : link.substr(a + 1, b - a - 1);
}

// Pushes a burst, kills the server with SIGKILL right after the last 201, restarts it on the
// same data folder and proves every accepted message is still there: DELETE on each message
// resource answers 204 exactly once (a 201 is never lost).
void burst_survives_kill9(bool sync, int messages) {
    PushsvcProcess server(ProcessOptions{.sync = sync});
    server.start();
    std::vector<std::string> endpoints, locations;
    {
        wc::Http1Client client;
        for (int i = 0; i < 3; ++i) {
            auto r = call(client, server, "POST", server.origin() + "/subscribe");
            ASSERT_EQ(r.status, 201);
            endpoints.push_back(endpoint_of(r));
        }
        for (int i = 0; i < messages; ++i) {
            auto r = call(client, server, "POST", endpoints[i % 3], {{"TTL", "3600"}});
            ASSERT_EQ(r.status, 201) << r.body;
            locations.push_back(*r.headers.get("location"));
        }
    }
    server.kill9();
    server.start();
    wc::Http1Client client;
    for (const auto& loc : locations)
        ASSERT_EQ(call(client, server, "DELETE", loc).status, 204) << "lost after kill -9: " << loc;
    for (const auto& loc : locations) EXPECT_EQ(call(client, server, "DELETE", loc).status, 404);
    // Endpoints minted before the crash still work: the generated token key was kept.
    for (const auto& ep : endpoints)
        EXPECT_EQ(call(client, server, "POST", ep, {{"TTL", "60"}}).status, 201);
}

TEST(Durability, EveryAcceptedMessageSurvivesKill9) { burst_survives_kill9(false, 300); }

TEST(Durability, EveryAcceptedMessageSurvivesKill9WithSync) { burst_survives_kill9(true, 100); }

// SIGKILL in the middle of commits under load: eight senders push at once (so several pushes
// are being committed together when the signal lands: RocksDB write groups, the store's batched
// commits), and the kill comes while they are all still sending. Every push answered 201
// before the kill is present after restart (DELETE answers 204 exactly once); the pushes the
// kill cut off got no 201 and may or may not be there, which the sender cannot tell apart from
// a lost request anyway (R8030-5-a: 201 means accepted).
TEST(Durability, EveryAcceptedMessageSurvivesKill9DuringConcurrentCommits) {
    constexpr int kSenders = 8;
    constexpr std::size_t kKillAfter = 600;  // 201s received before the kill
    PushsvcProcess server;
    server.start();
    std::vector<std::string> endpoints;
    {
        wc::Http1Client client;
        for (int i = 0; i < kSenders; ++i) {
            auto r = call(client, server, "POST", server.origin() + "/subscribe");
            ASSERT_EQ(r.status, 201);
            endpoints.push_back(endpoint_of(r));
        }
    }
    std::mutex mu;
    std::condition_variable cv;
    std::vector<std::string> accepted;
    std::atomic<bool> stop{false};
    std::atomic<int> refused{0};
    std::vector<std::thread> senders;
    for (int t = 0; t < kSenders; ++t) {
        senders.emplace_back([&, t] {
            wc::Http1Client client(wc::ClientOptions{.timeout = std::chrono::seconds(5)});
            // A 3,000-byte aes128gcm body (RFC 8188 §2.1 header: salt, rs 4096, a 65-octet
            // uncompressed P-256 key id); the records after it are opaque to the server.
            std::string body(16, static_cast<char>('a' + t));
            body += std::string("\x00\x00\x10\x00\x41\x04", 6);
            body.resize(3000, static_cast<char>('A' + t));
            // Bounded: each sender stops at the kill, on its first failed request, or after
            // 2,000 pushes (its queue cap is 1,000, so a 429 ends it before that).
            for (int i = 0; i < 2000 && !stop.load(); ++i) {
                wc::HttpRequest req;
                req.method = "POST";
                req.url = server.on_cleartext(endpoints[t]);
                req.headers.add("TTL", "3600");
                req.headers.add("Content-Encoding", "aes128gcm");
                req.body = body;
                auto r = client.request(req);
                if (!r) return;  // the kill cut this one off: no 201, no claim
                if (r->status != 201) {
                    ++refused;
                    return;
                }
                std::lock_guard lk(mu);
                accepted.push_back(*r->headers.get("location"));
                if (accepted.size() >= kKillAfter) cv.notify_all();
            }
        });
    }
    {
        std::unique_lock lk(mu);
        ASSERT_TRUE(cv.wait_for(lk, std::chrono::seconds(60),
                                [&] { return accepted.size() >= kKillAfter; }))
            << "only " << accepted.size() << " pushes accepted";
    }
    server.kill9();  // the senders are still sending: requests are in flight
    stop = true;
    for (auto& th : senders) th.join();
    ASSERT_EQ(refused.load(), 0) << "a push was refused before the kill";
    std::vector<std::string> locations;
    {
        std::lock_guard lk(mu);
        locations = accepted;
    }
    ASSERT_GE(locations.size(), kKillAfter);
    server.start();
    wc::Http1Client client;
    for (const auto& loc : locations)
        ASSERT_EQ(call(client, server, "DELETE", loc).status, 204) << "lost after kill -9: " << loc;
}

TEST(Lifecycle, SigtermDrainsAndExitsCleanly) {
    PushsvcProcess server;
    server.start();
    wc::Http1Client client;
    EXPECT_EQ(call(client, server, "GET", server.origin() + "/health").status, 200);
    EXPECT_EQ(server.stop(), 0) << server.log();
}

// The last failure boundary, process level: an exception that escapes a network thread (here
// thrown on purpose through the test double) ends pushsvc with a one-line log and exit 70
// after joining its threads and closing the store, instead of std::terminate (SIGABRT). What
// was accepted before is still there after a restart.
TEST(Lifecycle, ExceptionEscapingANetworkThreadStopsCleanlyWithExit70) {
    PushsvcProcess server(ProcessOptions{
        .env = {{"PUSHSVC__TESTDOUBLE__ENABLED", "true"}, {"PUSHSVC__SERVER__THREADS", "4"}}});
    server.start();
    std::string location;
    {
        wc::Http1Client client;
        auto sub = call(client, server, "POST", server.origin() + "/subscribe");
        ASSERT_EQ(sub.status, 201);
        auto pushed = call(client, server, "POST", endpoint_of(sub), {{"TTL", "3600"}});
        ASSERT_EQ(pushed.status, 201);
        location = *pushed.headers.get("location");
        wc::HttpRequest req;
        req.method = "POST";
        req.url = "http://" + server.cleartext() + "/_testdouble/throw";
        (void)client.request(req);  // the answer races the shutdown; the exit status decides
    }
    EXPECT_EQ(server.wait_exit(std::chrono::seconds(15)), 70) << server.log();
    std::string log = server.log();
    EXPECT_NE(log.find("[critical] pushsvc stopped: exception escaped a network thread: test "
                       "double: injected fault on a network thread"),
              std::string::npos)
        << log;
    EXPECT_EQ(log.find("terminate"), std::string::npos) << log;
    server.start();  // the store was closed: it opens again, with the message
    wc::Http1Client client;
    EXPECT_EQ(call(client, server, "DELETE", location).status, 204);
}

TEST(Lifecycle, PortZeroBindsAndReportsTheAddress) {
    PushsvcProcess server;
    server.start();
    EXPECT_GT(server.cleartext_port(), 0);
    EXPECT_EQ(server.origin(), "http://" + server.cleartext());
}

TEST(StrictProfile, RemovedSubscriptionIs404_R8030_7_3_d) {
    PushsvcProcess server(ProcessOptions{.profile = "strict"});
    server.start();
    wc::Http1Client client;
    auto sub = call(client, server, "POST", server.origin() + "/subscribe");
    ASSERT_EQ(sub.status, 201);
    EXPECT_EQ(call(client, server, "DELETE", *sub.headers.get("location")).status, 204);
    EXPECT_EQ(call(client, server, "POST", endpoint_of(sub), {{"TTL", "1"}}).status, 404);
}

TEST(Config, EnvironmentOverridesReachTheServer) {
    PushsvcProcess server(
        ProcessOptions{.env = {{"PUSHSVC__SERVER__PUBLIC_URL", "https://push.example.test"}}});
    server.start();
    EXPECT_EQ(server.origin(), "https://push.example.test");
    wc::Http1Client client;
    auto sub = call(client, server, "POST", "https://push.example.test/subscribe");
    EXPECT_EQ(endpoint_of(sub).rfind("https://push.example.test/push/", 0), 0u);
}

}  // namespace
}  // namespace pushsvc::testing
