// The HTTP/2 side of RFC 8030 monitoring (http::start_monitor) driven with a fake Pusher,
// over a MemoryStore, the real delivery hub and two io_contexts run by the test thread: one
// for "network" work, one standing for the store executor. What it proves: receipts are
// deleted only after their push went out, refused pushes do not exhaust the window, store
// work runs on the store executor, and a throwing store call ends the request, not the test.
#include "pushsvc/http/monitor_session.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "pushsvc/delivery/hub.h"
#include "pushsvc/store/memory_store.h"

namespace pushsvc::http {
namespace {

namespace asio = boost::asio;

// Delegates to ServiceChannelBackend and records on which executor the writes ran; can be
// told to throw from pending().
class RecordingBackend final : public webpush::ChannelBackend {
  public:
    RecordingBackend(webpush::ChannelBackend& inner, asio::io_context& store_ctx)
        : inner_(inner), store_ctx_(store_ctx) {}

    result<bool> touch_user_agent(std::string_view uaid) override {
        return inner_.touch_user_agent(uaid);
    }
    result<std::string> create_user_agent() override { return inner_.create_user_agent(); }
    result<std::vector<store::SubscriptionRecord>> subscriptions(std::string_view uaid) override {
        return inner_.subscriptions(uaid);
    }
    result<webpush::Subscription> subscribe(std::string_view uaid, std::string_view channel_id,
                                            const std::optional<std::string>& key) override {
        return inner_.subscribe(uaid, channel_id, key);
    }
    result<bool> unsubscribe(std::string_view id) override { return inner_.unsubscribe(id); }
    result<std::vector<store::MessageRecord>> pending(std::string_view uaid, std::uint64_t after,
                                                      std::size_t limit) override {
        if (throw_on_pending) throw std::runtime_error("store exploded");
        return inner_.pending(uaid, after, limit);
    }
    result<bool> ack(std::string_view id) override {
        writes_off_store_executor += !store_ctx_.get_executor().running_in_this_thread();
        ++acks;
        return inner_.ack(id);
    }
    std::string endpoint_url(const store::SubscriptionRecord& sub) override {
        return inner_.endpoint_url(sub);
    }
    void delivered(const store::MessageRecord& m) override {
        writes_off_store_executor += !store_ctx_.get_executor().running_in_this_thread();
        ++delivered_count;
        inner_.delivered(m);
    }
    bool expired(const store::MessageRecord& m) override { return inner_.expired(m); }

    bool throw_on_pending = false;
    int writes_off_store_executor = 0;
    int acks = 0;
    int delivered_count = 0;

  private:
    webpush::ChannelBackend& inner_;
    asio::io_context& store_ctx_;
};

// Records pushes; each push's outcome is given by the test (or at once by `refuse_next`),
// always from the "network" io_context, as the HTTP/2 connection does.
class FakePusher final : public Pusher {
  public:
    struct Pushed {
        std::string path;
        Response response;
        PushDone done;
    };
    explicit FakePusher(asio::io_context& net) : net_(net) {}

    void push(std::string path, Response response, PushDone done) override {
        if (refuse_next > 0) {
            --refuse_next;
            ++refused;
            asio::post(net_, [done = std::move(done)] { done(false); });
            return;
        }
        pushed.push_back({std::move(path), std::move(response), std::move(done)});
    }
    void on_gone(std::function<void()> cb) override { gone = std::move(cb); }
    std::string tag() const override { return "c1/s1"; }

    // Reports the outcome of pushed[i] from the network context.
    void complete(std::size_t i, bool sent) {
        asio::post(net_, [done = std::move(pushed.at(i).done), sent] { done(sent); });
    }
    // The stream ends, as the HTTP/2 connection ends it: every push still waiting for its
    // outcome is reported failed, then the gone callback runs once, taken out first (it and
    // the outcome callbacks hold the session, which holds this pusher).
    void end() {
        for (std::size_t i = 0; i < pushed.size(); ++i)
            if (pushed[i].done) complete(i, false);
        if (auto cb = std::exchange(gone, nullptr)) cb();
    }

    int refuse_next = 0;
    int refused = 0;
    std::vector<Pushed> pushed;
    std::function<void()> gone;

  private:
    asio::io_context& net_;
};

class MonitorSessionTest : public ::testing::Test {
  protected:
    MonitorSessionTest()
        : service_(options(), store_, webpush::EndpointCodec({std::string(32, 'k')}), clock_),
          inner_(service_, store_, clock_),
          backend_(inner_, store_ctx_) {
        service_.set_notifier(&hub_);
    }
    ~MonitorSessionTest() override {
        if (pusher_) pusher_->end();  // the stream ends with the test
        run();
    }

    static webpush::ServiceOptions options() {
        webpush::ServiceOptions o;
        o.origin = "https://push.test";
        return o;
    }
    static std::string last_segment(const std::string& url) {
        return url.substr(url.rfind('/') + 1);
    }

    // Runs both contexts until neither has work (bounded).
    void run() {
        for (int i = 0; i < 10'000; ++i) {
            std::size_t n = net_ctx_.poll() + store_ctx_.poll();
            net_ctx_.restart();
            store_ctx_.restart();
            if (n == 0) return;
        }
        FAIL() << "work did not settle";
    }

    // Starts monitoring `scope`; the final response (if any) lands in response_.
    void monitor(webpush::MonitorScope scope, bool drain = false, std::size_t window = 32) {
        pusher_ = std::make_shared<FakePusher>(net_ctx_);
        MonitorContext ctx{&hub_, &backend_, net_ctx_.get_executor(), window,
                           store_ctx_.get_executor()};
        start_monitor(ctx, std::move(scope), webpush::Urgency::very_low, drain, pusher_,
                      [this](Response r) { response_ = std::move(r); });
        run();
    }

    webpush::PushOutcome push(const webpush::Subscription& sub, std::string ttl = "60",
                              bool receipt = false) {
        webpush::PushRequest req;
        req.token = last_segment(sub.endpoint);
        req.ttl = std::move(ttl);
        if (receipt) req.prefer = "respond-async";
        auto out = service_.push(req);
        EXPECT_TRUE(out);
        run();
        return out ? *out : webpush::PushOutcome{};
    }

    // A message asking for a receipt, delivered and acknowledged: one 204 receipt waits.
    std::string receipt_waiting() {
        auto sub = *service_.subscribe(webpush::SubscribeRequest{});
        auto sent = push(sub, "60", true);
        inner_.delivered(sent.message);
        EXPECT_TRUE(service_.delete_message(last_segment(sent.location)));
        return last_segment(sent.receipt_url);
    }
    // How many receipts the receipt subscription still has stored.
    std::size_t receipts_stored(const std::string& rid) {
        auto scope = *service_.monitor_scope(webpush::MonitorKind::receipts, rid);
        auto all = inner_.pending(scope.uaid, 0, 100);
        return all ? all->size() : 0;
    }

    base::FakeClock clock_;
    store::MemoryStore store_{&clock_};
    webpush::PushService service_;
    webpush::ServiceChannelBackend inner_;
    asio::io_context net_ctx_;
    asio::io_context store_ctx_;
    RecordingBackend backend_;
    delivery::Hub hub_;
    std::shared_ptr<FakePusher> pusher_;
    std::optional<Response> response_;
};

TEST_F(MonitorSessionTest, AReceiptIsDeletedOnlyAfterItsPushWasSent_R8030_6_3_b) {
    const auto rid = receipt_waiting();
    ASSERT_EQ(receipts_stored(rid), 1u);
    monitor(*service_.monitor_scope(webpush::MonitorKind::receipts, rid));
    ASSERT_EQ(pusher_->pushed.size(), 1u);
    EXPECT_EQ(pusher_->pushed[0].response.status, 204);
    EXPECT_EQ(receipts_stored(rid), 1u) << "deleted before the push went out";
    pusher_->complete(0, true);
    run();
    EXPECT_EQ(receipts_stored(rid), 0u);
    EXPECT_EQ(backend_.acks, 1);
    EXPECT_FALSE(response_);  // still monitoring (R8030-6.3-a)
}

TEST_F(MonitorSessionTest, AFailedReceiptPushLeavesItStoredForTheNextMonitor_R8030_6_3_b) {
    const auto rid = receipt_waiting();
    monitor(*service_.monitor_scope(webpush::MonitorKind::receipts, rid));
    ASSERT_EQ(pusher_->pushed.size(), 1u);
    pusher_->complete(0, false);  // promised stream reset, connection closed, ...
    run();
    EXPECT_EQ(receipts_stored(rid), 1u);
    EXPECT_EQ(pusher_->pushed.size(), 1u);  // no retry loop on the failure itself
    pusher_->end();
    run();
    // The next monitor gets it, and this time it goes out.
    monitor(*service_.monitor_scope(webpush::MonitorKind::receipts, rid), /*drain=*/true);
    ASSERT_EQ(pusher_->pushed.size(), 1u);
    ASSERT_TRUE(response_);
    EXPECT_EQ(response_->status, 200);  // Prefer: wait=0 ends before the outcome arrives
    EXPECT_EQ(receipts_stored(rid), 1u);
    pusher_->complete(0, true);
    run();
    EXPECT_EQ(receipts_stored(rid), 0u);
}

TEST_F(MonitorSessionTest, ARefusedReceiptPushLeavesItStored_R8030_6_3_b) {
    const auto rid = receipt_waiting();
    auto scope = *service_.monitor_scope(webpush::MonitorKind::receipts, rid);
    pusher_ = std::make_shared<FakePusher>(net_ctx_);
    pusher_->refuse_next = 1;  // nghttp2_submit_push_promise failed
    MonitorContext ctx{&hub_, &backend_, net_ctx_.get_executor(), 32, store_ctx_.get_executor()};
    start_monitor(ctx, scope, webpush::Urgency::very_low, false, pusher_, [](Response) {});
    run();
    EXPECT_EQ(pusher_->refused, 1);
    EXPECT_EQ(receipts_stored(rid), 1u);
    EXPECT_EQ(backend_.acks, 0);
}

TEST_F(MonitorSessionTest, FortyRefusedPushesDoNotSilenceTheMonitor) {
    auto sub = *service_.subscribe(webpush::SubscribeRequest{});
    monitor(
        *service_.monitor_scope(webpush::MonitorKind::subscription, last_segment(sub.resource_url)),
        false, 32);
    pusher_->refuse_next = 40;
    // TTL-0 messages go straight to the monitor; every push of them is refused.
    for (int i = 0; i < 40; ++i) push(sub, "0");
    EXPECT_EQ(pusher_->refused, 40);
    EXPECT_TRUE(pusher_->pushed.empty());
    auto good = push(sub, "60");
    ASSERT_EQ(pusher_->pushed.size(), 1u) << "the window leaked the refused pushes' slots";
    EXPECT_EQ("https://push.test" + pusher_->pushed[0].path, good.location);
}

TEST_F(MonitorSessionTest, StoreWritesRunOnTheStoreExecutor) {
    const auto rid = receipt_waiting();
    auto sub = *service_.subscribe(webpush::SubscribeRequest{});
    push(sub);
    monitor(*service_.monitor_scope(webpush::MonitorKind::subscription,
                                    last_segment(sub.resource_url)));
    ASSERT_EQ(pusher_->pushed.size(), 1u);
    EXPECT_EQ(backend_.delivered_count, 1);
    pusher_->end();
    run();
    monitor(*service_.monitor_scope(webpush::MonitorKind::receipts, rid));
    ASSERT_EQ(pusher_->pushed.size(), 1u);
    pusher_->complete(0, true);  // the outcome comes from the network context
    run();
    EXPECT_EQ(backend_.acks, 1);
    EXPECT_EQ(backend_.writes_off_store_executor, 0);
}

TEST_F(MonitorSessionTest, AThrowingStoreEndsTheRequestWith500) {
    auto sub = *service_.subscribe(webpush::SubscribeRequest{});
    backend_.throw_on_pending = true;
    monitor(*service_.monitor_scope(webpush::MonitorKind::subscription,
                                    last_segment(sub.resource_url)));
    ASSERT_TRUE(response_);
    EXPECT_EQ(response_->status, 500);
    // Ended: later messages are not pushed on it.
    backend_.throw_on_pending = false;
    push(sub);
    EXPECT_TRUE(pusher_->pushed.empty());
}

}  // namespace
}  // namespace pushsvc::http
