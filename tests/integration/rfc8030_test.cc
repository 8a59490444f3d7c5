// RFC 8030 in full against a running pushsvc, over real HTTP/2 connections driven by the
// client library: monitoring by server push (§6), Urgency filtering (§5.3), acknowledgement by
// DELETE (§6.2), subscription sets (§4.1, §6.1, §7.3.1), receipts (§5.1, §6.3) and
// subscription removal (§7.3). Test names carry the checklist IDs they check.
#include <gtest/gtest.h>

#include <thread>

#include <boost/json.hpp>

#include <cstdint>
#include <set>
#include <thread>

#include "tests/integration/pushsvc_process.h"
#include "tools/client/http1_client.h"
#include "tools/client/http2_client.h"
#include "tools/client/push_service.h"

namespace pushsvc::testing {
namespace {

namespace wc = webpush_client;
using std::chrono::milliseconds;
using Headers = std::vector<std::pair<std::string, std::string>>;

std::string path_of(const std::string& url) {
    auto p = url.find('/', url.find("://") + 3);
    return p == std::string::npos ? "/" : url.substr(p);
}

class Rfc8030 : public ::testing::Test {
  protected:
    void SetUp() override { start_server(); }

    // The default configuration: expiry is prompt without tuning (the earliest expiry is
    // planned, not polled).
    virtual ProcessOptions process_options() const { return ProcessOptions{}; }

    void start_server() {
        if (!server_) server_ = std::make_unique<PushsvcProcess>(process_options());
        server_->start();
        base_ = "http://" + server_->cleartext();
    }

    // A fresh HTTP/2 connection with server push enabled (h2c prior knowledge).
    std::unique_ptr<wc::Http2Client> h2() {
        wc::ClientOptions opts;
        opts.timeout = std::chrono::seconds(10);
        auto c = std::make_unique<wc::Http2Client>(opts);
        auto r = c->connect(base_ + "/");
        EXPECT_TRUE(r) << (r ? "" : r.error().message);
        return c;
    }

    wc::HttpResponse call(std::string method, const std::string& url, Headers headers = {},
                          std::string body = {}) {
        wc::HttpRequest req;
        req.method = std::move(method);
        req.url = base_ + path_of(url);
        for (auto& [k, v] : headers) req.headers.add(k, v);
        req.body = std::move(body);
        auto r = sender_.request(req);
        if (!r) ADD_FAILURE() << r.error().message;
        return r ? *r : wc::HttpResponse{};
    }

    wc::SubscribeResult subscribe(Headers headers = {}) {
        auto r = call("POST", base_ + "/subscribe", std::move(headers));
        EXPECT_EQ(r.status, 201) << r.body;
        auto parsed = wc::parse_subscribe_response(base_ + "/subscribe", r);
        EXPECT_TRUE(parsed);
        return parsed ? *parsed : wc::SubscribeResult{};
    }

    // Pushes and returns the message resource (Location).
    std::string push(const std::string& push_url, Headers headers = {}, std::string body = {}) {
        bool has_ttl = false;
        for (auto& h : headers) has_ttl |= h.first == "TTL";
        if (!has_ttl) headers.push_back({"TTL", "600"});
        if (!body.empty()) headers.push_back({"Content-Encoding", "aes128gcm"});
        auto r = call("POST", push_url, std::move(headers), std::move(body));
        EXPECT_TRUE(r.status == 201 || r.status == 202) << r.status << " " << r.body;
        return r.headers.get("location").value_or("");
    }

    // An aes128gcm-shaped body of `n` bytes (header + filler), n >= 86.
    static std::string body_of(std::size_t n, char fill = 'x') {
        std::string b(16, 's');
        b += std::string("\0\0\x10\0", 4);
        b += "\x41\x04" + std::string(64, 'k');
        return b + std::string(n - b.size(), fill);
    }

    struct Drained {
        int status = 0;
        std::vector<wc::PushPromise> pushes;
    };
    // MON with Prefer: wait=0 on a fresh connection: every push, then the final status.
    Drained drain(const std::string& url, Headers headers = {}) {
        auto c = h2();
        wc::HttpRequest req = wc::make_monitor_request(base_ + path_of(url), true);
        for (auto& [k, v] : headers) req.headers.add(k, v);
        Drained out;
        auto id = c->submit(req);
        EXPECT_TRUE(id);
        auto res = c->wait_response(*id, milliseconds(5000));
        EXPECT_TRUE(res) << (res ? "" : res.error().message);
        out.status = res ? res->status : 0;
        while (out.pushes.size() < c->promises_received()) {
            auto p = c->wait_push(milliseconds(2000));
            if (!p) break;
            out.pushes.push_back(std::move(*p));
        }
        return out;
    }

    std::unique_ptr<PushsvcProcess> server_;
    std::string base_;
    wc::Http1Client sender_;
};

TEST_F(Rfc8030, MonitorReceivesEachMessageAsAServerPush_R8030_6_a_b_c_d_g) {
    auto sub = subscribe();
    auto ua = h2();
    auto stream = ua->submit(wc::make_monitor_request(base_ + path_of(sub.subscription_url)));
    ASSERT_TRUE(stream);
    ua->poll(milliseconds(100));  // the GET is registered before the push
    std::string body = body_of(103);
    std::string location = push(sub.push_url, {{"Urgency", "high"}, {"Topic", "t1"}}, body);
    auto p = ua->wait_push(milliseconds(5000));
    ASSERT_TRUE(p) << p.error().message;
    EXPECT_EQ(p->associated_stream_id, *stream);
    EXPECT_EQ(p->method(), "GET");
    EXPECT_EQ(p->path(), path_of(location));
    EXPECT_EQ(p->request_headers.get(":authority"), server_->cleartext());
    EXPECT_EQ(p->response.status, 200);
    EXPECT_EQ(p->response.body, body);  // byte-exact
    EXPECT_EQ(p->response.headers.get("link"),
              "<" + sub.push_url + ">; rel=\"urn:ietf:params:push\"");
    EXPECT_EQ(p->response.headers.get("content-encoding"), "aes128gcm");
    EXPECT_TRUE(p->response.headers.get("last-modified"));  // R8030-7.2-a
    EXPECT_EQ(p->response.headers.get("cache-control"), "private");
    EXPECT_FALSE(p->response.headers.get("urgency"));  // R8030-5.3-b
    EXPECT_FALSE(p->response.headers.get("topic"));    // R8030-5.4-h
    EXPECT_FALSE(p->response.headers.get("ttl"));
    EXPECT_TRUE(ua->stream_open(*stream));  // held open (R8030-3-c)
}

TEST_F(Rfc8030, BodiesOfEverySizeArriveByteExact_R8030_6_d) {
    auto sub = subscribe();
    std::set<std::string> sent;
    for (std::size_t n : {std::size_t(0), std::size_t(86), std::size_t(103), std::size_t(4096)}) {
        std::string b = n ? body_of(n, char('a' + n % 26)) : std::string();
        push(sub.push_url, {}, b);
        sent.insert(b);
    }
    auto d = drain(sub.subscription_url);
    std::set<std::string> got;
    for (auto& p : d.pushes) got.insert(p.response.body);
    EXPECT_EQ(got, sent);
}

TEST_F(Rfc8030, DrainPushesWhatIsStoredThenEnds_R8030_6_e_f) {
    auto sub = subscribe();
    auto empty = drain(sub.subscription_url);
    EXPECT_EQ(empty.status, 204);
    EXPECT_TRUE(empty.pushes.empty());
    for (int i = 0; i < 3; ++i) push(sub.push_url);
    auto full = drain(sub.subscription_url);
    EXPECT_EQ(full.status, 200);
    EXPECT_EQ(full.pushes.size(), 3u);
}

TEST_F(Rfc8030, UrgencyThresholdWithholdsButNeverDrops_R8030_5_3_c_e_f_i) {
    auto sub = subscribe();
    for (std::string u : {"very-low", "low", "normal", "high"})
        push(sub.push_url, {{"Urgency", u}});
    push(sub.push_url);  // no Urgency: normal
    EXPECT_EQ(drain(sub.subscription_url, {{"Urgency", "low"}}).pushes.size(), 4u);
    EXPECT_EQ(drain(sub.subscription_url, {{"Urgency", "HIGH"}}).pushes.size(), 1u);
    EXPECT_EQ(drain(sub.subscription_url, {{"Urgency", "high"}}).status, 200);
    EXPECT_EQ(drain(sub.subscription_url).pushes.size(), 5u);  // withheld ones are still there
}

TEST_F(Rfc8030, MoreThanOneUrgencyOnTheMonitorIsA400_R8030_5_3_h) {
    auto sub = subscribe();
    EXPECT_EQ(drain(sub.subscription_url, {{"Urgency", "low, high"}}).status, 400);
    EXPECT_EQ(drain(sub.subscription_url, {{"Urgency", "urgent"}}).status, 400);
}

TEST_F(Rfc8030, DeleteAcknowledgesOnceAndUnackedMessagesComeAgain_R8030_6_2_a_c) {
    auto sub = subscribe();
    std::string m1 = push(sub.push_url);
    std::string m2 = push(sub.push_url);
    auto first = drain(sub.subscription_url);
    ASSERT_EQ(first.pushes.size(), 2u);
    EXPECT_EQ(call("DELETE", m1).status, 204);
    EXPECT_EQ(call("DELETE", m1).status, 404);
    auto second = drain(sub.subscription_url);
    ASSERT_EQ(second.pushes.size(), 1u);
    EXPECT_EQ(second.pushes[0].path(), path_of(m2));  // same :path again (R8030-6.2-c)
}

TEST_F(Rfc8030, TtlZeroReachesAnOpenMonitorOnly_R8030_5_2_i) {
    auto sub = subscribe();
    push(sub.push_url, {{"TTL", "0"}});
    EXPECT_EQ(drain(sub.subscription_url).status, 204);  // nobody was listening
    auto ua = h2();
    ASSERT_TRUE(ua->submit(wc::make_monitor_request(base_ + path_of(sub.subscription_url))));
    // Wait for the monitor to be in place (a fixed 100 ms here raced a busy server): a stored
    // message reaches it only once it has started and is attached to the hub.
    const std::string stored = push(sub.push_url, {{"TTL", "60"}});
    auto first = ua->wait_push(milliseconds(5000));
    ASSERT_TRUE(first) << first.error().message;
    EXPECT_EQ(first->path(), path_of(stored));
    const std::string direct = push(sub.push_url, {{"TTL", "0"}});
    auto second = ua->wait_push(milliseconds(5000));
    ASSERT_TRUE(second) << second.error().message;
    EXPECT_EQ(second->path(), path_of(direct));
}

// The same service in test-double mode, whose clock the test moves (POST /_testdouble/clock)
// instead of waiting for real time to pass.
class Rfc8030Clock : public Rfc8030 {
  protected:
    ProcessOptions process_options() const override {
        auto o = Rfc8030::process_options();
        o.env["PUSHSVC__TESTDOUBLE__ENABLED"] = "true";
        return o;
    }
    // Moves the service's clock forward by `ms`; returns the new offset.
    std::int64_t advance_clock(std::int64_t ms) {
        auto r = call("POST", base_ + "/_testdouble/clock", {{"Content-Type", "application/json"}},
                      R"({"advance_ms": )" + std::to_string(ms) + "}");
        EXPECT_EQ(r.status, 200) << r.body;
        auto parsed = boost::json::parse(r.body).as_object();
        return parsed.at("offset_ms").as_int64();
    }
};

// The message lives exactly its TTL on the service's clock: still pushed a second before the
// end (so the service is not simply dropping it), never at or after it.
TEST_F(Rfc8030Clock, ExpiredMessagesAreNeverPushed_R8030_5_2_h_R8030_7_2_b) {
    auto sub = subscribe();
    push(sub.push_url, {{"TTL", "60"}});
    EXPECT_EQ(advance_clock(59'000), 59'000);
    EXPECT_EQ(drain(sub.subscription_url).pushes.size(), 1u);  // not acknowledged: stays
    EXPECT_EQ(advance_clock(1'000), 60'000);
    auto expired = drain(sub.subscription_url);
    EXPECT_EQ(expired.status, 204);
    EXPECT_TRUE(expired.pushes.empty());
}

// Running for months: a subscription set nobody has seen for push.ua_idle_days (default 60)
// is collected and gone for senders (410), while one held by a monitoring GET (connected, so
// seen) stays and keeps receiving (R8030-7.3-d).
TEST_F(Rfc8030Clock, AnAbandonedSubscriptionIsCollectedAConnectedOneStays_R8030_7_3_d) {
    auto idle = subscribe();
    auto watched = subscribe();
    push(idle.push_url);
    auto mon = h2();
    ASSERT_TRUE(mon->submit(wc::make_monitor_request(base_ + path_of(watched.subscription_url))));
    push(watched.push_url, {}, body_of(100, 'a'));
    ASSERT_TRUE(mon->wait_push(milliseconds(5000)));  // the monitor is attached
    advance_clock(60LL * 24 * 3600 * 1000);
    // The clock move wakes housekeeping: connected user agents are marked seen, then the
    // idle ones collected. Its counter is the only outside view of that pass.
    std::string removed;
    for (int i = 0; i < 100 && removed != "1"; ++i) {
        auto m = call("GET", base_ + "/metrics").body;
        auto at = m.find("\npushsvc_idle_user_agents_removed_total ");
        removed = at == std::string::npos ? "" : m.substr(at + 40, m.find('\n', at + 1) - at - 40);
        if (removed != "1") std::this_thread::sleep_for(milliseconds(50));
    }
    ASSERT_EQ(removed, "1");
    EXPECT_EQ(call("POST", idle.push_url, {{"TTL", "60"}}).status, 410);
    EXPECT_EQ(drain(idle.subscription_url).status, 404);
    push(watched.push_url, {}, body_of(100, 'b'));
    auto p = mon->wait_push(milliseconds(5000));
    ASSERT_TRUE(p) << p.error().message;
    EXPECT_EQ(p->response.status, 200);
}

TEST_F(Rfc8030, MonitoringOverHttp1IsAClear400_A5) {
    auto sub = subscribe();
    auto r = call("GET", sub.subscription_url);
    EXPECT_EQ(r.status, 400);
    EXPECT_NE(r.body.find("HTTP/2"), std::string::npos);
}

TEST_F(Rfc8030, RemovingAMonitoredSubscriptionEndsTheMonitorWith404_R8030_7_3_b_e) {
    auto sub = subscribe();
    auto ua = h2();
    auto stream = ua->submit(wc::make_monitor_request(base_ + path_of(sub.subscription_url)));
    ASSERT_TRUE(stream);
    ua->poll(milliseconds(100));
    EXPECT_EQ(call("DELETE", sub.subscription_url).status, 204);
    auto status = ua->wait_status(*stream, milliseconds(5000));
    ASSERT_TRUE(status);
    EXPECT_EQ(*status, 404);
    EXPECT_EQ(call("POST", sub.push_url, {{"TTL", "5"}}).status, 410);
    EXPECT_EQ(drain(sub.subscription_url).status, 404);
}

TEST_F(Rfc8030, SubscriptionSetsGatherTheirMembers_R8030_4_1_a_b_d_R8030_6_1_b_c_d_e) {
    auto s1 = subscribe();
    ASSERT_TRUE(s1.set_url);
    auto s2 = subscribe({{"Link", "<" + *s1.set_url + ">; rel=\"urn:ietf:params:push:set\""}});
    EXPECT_EQ(s2.set_url, s1.set_url);
    auto s3 =
        subscribe({{"Link", "<" + path_of(*s1.set_url) + ">; rel=\"urn:ietf:params:push:set\""}});
    EXPECT_EQ(s3.set_url, s1.set_url);  // a relative reference names it too
    EXPECT_EQ(drain(*s1.set_url).status, 204);
    push(s1.push_url, {{"Urgency", "high"}});
    push(s2.push_url, {{"Urgency", "low"}});
    auto all = drain(*s1.set_url);
    ASSERT_EQ(all.pushes.size(), 2u);
    std::set<std::string> links;
    for (auto& p : all.pushes) links.insert(p.response.headers.get("link").value_or(""));
    EXPECT_EQ(links,
              (std::set<std::string>{"<" + s1.push_url + ">; rel=\"urn:ietf:params:push\"",
                                     "<" + s2.push_url + ">; rel=\"urn:ietf:params:push\""}));
    EXPECT_EQ(drain(*s1.set_url, {{"Urgency", "high"}}).pushes.size(), 1u);
    // A member's own monitor sees only its messages.
    EXPECT_EQ(drain(s2.subscription_url).pushes.size(), 1u);
}

TEST_F(Rfc8030, AnUnknownSetIsA400_R8030_4_1_e) {
    auto r = call(
        "POST", base_ + "/subscribe",
        {{"Link", "<" + base_ + "/set/AAAAAAAAAAAAAAAAAAAAAA>; rel=\"urn:ietf:params:push:set\""}});
    EXPECT_EQ(r.status, 400);
    auto bad = call("POST", base_ + "/subscribe",
                    {{"Link", "</nonsense>; rel=\"urn:ietf:params:push:set\""}});
    EXPECT_EQ(bad.status, 400);
}

TEST_F(Rfc8030, DeletingMembersAndSets_R8030_7_3_1_c_d) {
    auto s1 = subscribe();
    auto s2 = subscribe({{"Link", "<" + *s1.set_url + ">; rel=\"urn:ietf:params:push:set\""}});
    EXPECT_EQ(call("DELETE", s1.subscription_url).status, 204);
    EXPECT_EQ(call("POST", s1.push_url, {{"TTL", "5"}}).status, 410);
    push(s2.push_url);
    EXPECT_EQ(drain(*s1.set_url).pushes.size(), 1u);
    EXPECT_EQ(call("DELETE", *s1.set_url).status, 204);
    EXPECT_EQ(call("POST", s2.push_url, {{"TTL", "5"}}).status, 410);
    EXPECT_EQ(drain(*s1.set_url).status, 404);  // R8030-7.3.1-b
}

// --- receipts ---

struct Receipt {
    std::string path;
    int status;
};

TEST_F(Rfc8030, RespondAsyncGets202WithAReceiptSubscription_R8030_5_1_a_b_c_d_e_f_g_h) {
    auto sub = subscribe();
    auto r = call("POST", sub.push_url, {{"TTL", "60"}, {"Prefer", "respond-async"}});
    EXPECT_EQ(r.status, 202);
    EXPECT_TRUE(r.headers.get("location"));
    std::string link = r.headers.get("link").value_or("");
    ASSERT_NE(link.find("rel=\"urn:ietf:params:push:receipt\""), std::string::npos);
    // Reused when named again (mixed-case Prefer with another preference).
    auto again = call("POST", sub.push_url,
                      {{"TTL", "60"}, {"Prefer", "Respond-Async, wait=5"}, {"Link", link}});
    EXPECT_EQ(again.status, 202);
    EXPECT_EQ(again.headers.get("link"), link);
    auto unknown = call(
        "POST", sub.push_url,
        {{"TTL", "60"},
         {"Prefer", "respond-async"},
         {"Link",
          "<" + base_ + "/receipt/AAAAAAAAAAAAAAAAAAAAAA>; rel=\"urn:ietf:params:push:receipt\""}});
    EXPECT_EQ(unknown.status, 400);
    // R8030-5.1-j: the old Push-Receipt header does not turn receipts on.
    EXPECT_EQ(
        call("POST", sub.push_url, {{"TTL", "60"}, {"Push-Receipt", base_ + "/receipt/x"}}).status,
        201);
}

std::string receipt_url_of(const wc::HttpResponse& r) {
    std::string link = r.headers.get("link").value_or("");
    auto a = link.find('<'), b = link.find('>');
    return a == std::string::npos ? "" : link.substr(a + 1, b - a - 1);
}

TEST_F(Rfc8030, AckedMessageEarnsA204ReceiptAndCancelEarnsNone_R8030_6_2_b_R8030_6_3_a_b_A6) {
    auto sub = subscribe();
    auto sent = call("POST", sub.push_url, {{"TTL", "60"}, {"Prefer", "respond-async"}});
    ASSERT_EQ(sent.status, 202);
    std::string receipts = receipt_url_of(sent);
    std::string message = *sent.headers.get("location");
    auto cancelled =
        call("POST", sub.push_url,
             {{"TTL", "60"}, {"Prefer", "respond-async"}, {"Link", *sent.headers.get("link")}});
    // The application server waits for receipts.
    auto as = h2();
    auto rstream = as->submit(wc::make_monitor_request(base_ + path_of(receipts)));
    ASSERT_TRUE(rstream);
    as->poll(milliseconds(100));
    // The sender cancels the second before any delivery: no receipt for it (A-6).
    EXPECT_EQ(call("DELETE", *cancelled.headers.get("location")).status, 204);
    // The UA receives the first and acknowledges it.
    auto d = drain(sub.subscription_url);
    ASSERT_EQ(d.pushes.size(), 1u);
    EXPECT_EQ(call("DELETE", message).status, 204);
    auto receipt = as->wait_push(milliseconds(5000));
    ASSERT_TRUE(receipt) << receipt.error().message;
    EXPECT_EQ(receipt->path(), path_of(message));
    EXPECT_EQ(receipt->response.status, 204);
    EXPECT_TRUE(receipt->response.body.empty());
    EXPECT_FALSE(as->wait_push(milliseconds(300)));  // nothing for the cancelled one
    EXPECT_TRUE(as->stream_open(*rstream));          // held open (R8030-6.3-a)
}

TEST_F(Rfc8030, ExpiryWithoutAckEarnsA410Receipt_R8030_6_3_c_d) {
    auto sub = subscribe();
    auto sent = call("POST", sub.push_url, {{"TTL", "1"}, {"Prefer", "respond-async"}});
    ASSERT_EQ(sent.status, 202);
    auto as = h2();
    ASSERT_TRUE(as->submit(wc::make_monitor_request(base_ + path_of(receipt_url_of(sent)))));
    auto receipt = as->wait_push(milliseconds(5000));  // expiry is planned for the TTL's end
    ASSERT_TRUE(receipt) << receipt.error().message;
    EXPECT_EQ(receipt->path(), path_of(*sent.headers.get("location")));
    EXPECT_EQ(receipt->response.status, 410);
}

TEST_F(Rfc8030, TopicReplacementDropsTheReplacedMessagesReceipt_R8030_5_4_d) {
    auto sub = subscribe();
    auto a =
        call("POST", sub.push_url, {{"TTL", "60"}, {"Topic", "t"}, {"Prefer", "respond-async"}});
    ASSERT_EQ(drain(sub.subscription_url).pushes.size(), 1u);  // A delivered, not acked
    auto b = call("POST", sub.push_url, {{"TTL", "60"}, {"Topic", "t"}});
    EXPECT_EQ(call("DELETE", *a.headers.get("location")).status, 404);  // replaced (R8030-5.4-c)
    auto as = h2();
    auto rstream = as->submit(wc::make_monitor_request(base_ + path_of(receipt_url_of(a)), true));
    ASSERT_TRUE(rstream);
    auto res = as->wait_response(*rstream, milliseconds(5000));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 204);  // no receipt at all
}

TEST_F(Rfc8030, QueuedMessagesUnackedMessagesAndPendingReceiptsSurviveKill9) {
    auto sub = subscribe();
    auto sent = call("POST", sub.push_url, {{"TTL", "600"}, {"Prefer", "respond-async"}});
    std::string receipts = receipt_url_of(sent);
    std::string unacked = push(sub.push_url);
    std::string queued = push(sub.push_url);
    ASSERT_EQ(drain(sub.subscription_url).pushes.size(), 3u);
    EXPECT_EQ(call("DELETE", *sent.headers.get("location")).status, 204);  // receipt pending
    server_->kill9();
    start_server();
    sender_.close();
    auto d = drain(sub.subscription_url);
    std::set<std::string> paths;
    for (auto& p : d.pushes) paths.insert(p.path());
    EXPECT_EQ(paths, (std::set<std::string>{path_of(unacked), path_of(queued)}));
    auto r = drain(receipts);
    ASSERT_EQ(r.pushes.size(), 1u);
    EXPECT_EQ(r.pushes[0].response.status, 204);
    // A receipt is consumed once its push has gone out (R8030-6.3-b: never before), which is
    // reported after a Prefer: wait=0 request already ended: a drain right behind it may get
    // the same receipt again (at least once, never lost), never another. Bounded.
    int status = 0;
    for (int i = 0; i < 50 && status != 204; ++i) {
        auto again = drain(receipts);
        status = again.status;
        for (auto& p : again.pushes) EXPECT_EQ(p.path(), r.pushes[0].path());
    }
    EXPECT_EQ(status, 204);  // consumed
}

TEST_F(Rfc8030, AckAfterKill9OfAMessageDeliveredBeforeEarnsA204_R8030_6_3_b) {
    // Delivered (pushed to the monitor), then the service dies before the UA acks: the ack
    // after the restart is still an acknowledgement, not a sender's cancel (A-6).
    auto sub = subscribe();
    auto sent = call("POST", sub.push_url, {{"TTL", "600"}, {"Prefer", "respond-async"}});
    ASSERT_EQ(sent.status, 202);
    std::string receipts = receipt_url_of(sent);
    ASSERT_EQ(drain(sub.subscription_url).pushes.size(), 1u);
    server_->kill9();
    start_server();
    sender_.close();
    EXPECT_EQ(call("DELETE", *sent.headers.get("location")).status, 204);
    auto r = drain(receipts);
    ASSERT_EQ(r.pushes.size(), 1u);
    EXPECT_EQ(r.pushes[0].response.status, 204);
}

TEST_F(Rfc8030, DeletedReceiptSubscriptionIsGone_R8030_7_3_c_e) {
    auto sub = subscribe();
    auto sent = call("POST", sub.push_url, {{"TTL", "60"}, {"Prefer", "respond-async"}});
    std::string receipts = receipt_url_of(sent);
    auto as = h2();
    auto stream = as->submit(wc::make_monitor_request(base_ + path_of(receipts)));
    ASSERT_TRUE(stream);
    as->poll(milliseconds(100));
    EXPECT_EQ(call("DELETE", receipts).status, 204);
    auto status = as->wait_status(*stream, milliseconds(5000));
    ASSERT_TRUE(status);
    EXPECT_EQ(*status, 404);
    EXPECT_EQ(
        call("POST", sub.push_url,
             {{"TTL", "60"}, {"Prefer", "respond-async"}, {"Link", *sent.headers.get("link")}})
            .status,
        400);
}

}  // namespace
}  // namespace pushsvc::testing
