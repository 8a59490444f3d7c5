// PushService over a MemoryStore and a fake clock: the application-server rules of RFC 8030
// §4-§5 and RFC 8292 §4 without any transport.
#include "pushsvc/webpush/push_service.h"

#include <gtest/gtest.h>

#include "pushsvc/base/base64url.h"
#include "pushsvc/crypto/p256.h"
#include "pushsvc/obs/catalog.h"
#include "pushsvc/store/memory_store.h"

namespace pushsvc::webpush {
namespace {

using base::base64url_encode;
using Opt = std::optional<std::string>;

constexpr std::string_view kOrigin = "https://push.test:8443";

std::string make_jwt(const crypto::P256PrivateKey& key, const std::string& aud, std::int64_t exp) {
    std::string header = base64url_encode(R"({"typ":"JWT","alg":"ES256"})");
    std::string claims = base64url_encode(R"({"aud":")" + aud + R"(","exp":)" +
                                          std::to_string(exp) + R"(,"sub":"mailto:a@b.c"})");
    std::string input = header + "." + claims;
    return input + "." + base64url_encode(key.sign_es256(input));
}

class PushServiceTest : public ::testing::Test {
  protected:
    explicit PushServiceTest(config::Profile profile = config::Profile::compat)
        : service_(options(profile), store_, EndpointCodec({std::string(32, 'k')}), clock_) {}

    static ServiceOptions options(config::Profile profile) {
        ServiceOptions o;
        o.profile = profile;
        o.origin = std::string(kOrigin);
        o.max_ttl = 3600;
        return o;
    }

    std::string token_of(const Subscription& sub) {
        return sub.endpoint.substr(sub.endpoint.rfind('/') + 1);
    }

    Subscription subscribe_restricted(const crypto::P256PrivateKey& key) {
        SubscribeRequest req;
        req.content_type = "application/webpush-options+json; charset=utf-8";
        req.body = R"({"vapid":")" + base64url_encode(key.public_raw()) + R"(","x":1})";
        auto sub = service_.subscribe(req);
        EXPECT_TRUE(sub);
        return *sub;
    }

    PushRequest push_to(const Subscription& sub, std::string ttl = "60") {
        PushRequest req;
        req.token = token_of(sub);
        req.ttl = std::move(ttl);
        return req;
    }

    std::string vapid_header(const crypto::P256PrivateKey& key,
                             std::string aud = std::string(kOrigin),
                             std::int64_t exp_offset_s = 3600) {
        return "vapid t=" + make_jwt(key, aud, clock_.now_ms() / 1000 + exp_offset_s) +
               ", k=" + base64url_encode(key.public_raw());
    }

    errc push_error(PushRequest req) { return to_errc(service_.push(std::move(req)).error()); }

    base::FakeClock clock_;
    store::MemoryStore store_{&clock_};
    PushService service_;
};

TEST_F(PushServiceTest, SubscribeMintsDistinctEndpointAndResourceUrls_R8030_4_b_c) {
    auto a = service_.subscribe({});
    auto b = service_.subscribe({});
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->endpoint.rfind(std::string(kOrigin) + "/push/", 0), 0u);
    EXPECT_EQ(a->resource_url.rfind(std::string(kOrigin) + "/sub/", 0), 0u);
    EXPECT_NE(a->endpoint, b->endpoint);
    EXPECT_NE(a->resource_url, b->resource_url);
    EXPECT_NE(a->record.uaid, b->record.uaid);
}

TEST_F(PushServiceTest, PushStoresTheMessageInArrivalOrder_R8030_5_b) {
    auto sub = *service_.subscribe({});
    for (int i = 0; i < 3; ++i) {
        auto req = push_to(sub);
        req.content_encoding = "aes128gcm";
        req.body = std::string(16, 's') + std::string("\0\0\x10\0", 4) + "\x41" +
                   std::string(1, '\x04') + std::string(64, 'K') + "payload" + std::to_string(i);
        auto out = service_.push(std::move(req));
        ASSERT_TRUE(out);
        EXPECT_TRUE(store_.get_message(out->message.id)->has_value());
        EXPECT_EQ(out->location, service_.message_url(out->message.id));
    }
    auto pending = *store_.pending(sub.record.uaid, clock_.now_ms(), 0, 10);
    ASSERT_EQ(pending.size(), 3u);
    EXPECT_TRUE(pending[2].body.ends_with("payload2"));
    EXPECT_EQ(pending[0].content_encoding, "aes128gcm");
}

TEST_F(PushServiceTest, TtlZeroIsAcceptedButNotStored_R8030_5_2_i) {
    auto sub = *service_.subscribe({});
    auto out = service_.push(push_to(sub, "0"));
    ASSERT_TRUE(out);
    EXPECT_FALSE(store_.get_message(out->message.id)->has_value());
    EXPECT_TRUE(store_.pending(sub.record.uaid, clock_.now_ms(), 0, 10)->empty());
}

TEST_F(PushServiceTest, ExpiredMessagesAreNeverReturned_R8030_5_2_h) {
    auto sub = *service_.subscribe({});
    ASSERT_TRUE(service_.push(push_to(sub, "1")));
    clock_.advance_ms(1000);
    EXPECT_TRUE(store_.pending(sub.record.uaid, clock_.now_ms(), 0, 10)->empty());
}

TEST_F(PushServiceTest, TopicReplacesTheUndeliveredMessage_R8030_5_4_a_c) {
    auto sub = *service_.subscribe({});
    auto first = push_to(sub);
    first.topic = "t";
    auto a = *service_.push(first);
    auto second = push_to(sub);
    second.topic = "t";
    auto b = *service_.push(second);
    EXPECT_NE(a.location, b.location);
    auto pending = *store_.pending(sub.record.uaid, clock_.now_ms(), 0, 10);
    ASSERT_EQ(pending.size(), 1u);
    EXPECT_EQ(pending[0].id, b.message.id);
    auto id_of = [](const std::string& url) { return url.substr(url.rfind('/') + 1); };
    EXPECT_EQ(to_errc(service_.delete_message(id_of(a.location)).error()), errc::not_found);
    EXPECT_TRUE(service_.delete_message(id_of(b.location)));
    EXPECT_EQ(to_errc(service_.delete_message(id_of(b.location)).error()), errc::not_found);
}

TEST_F(PushServiceTest, TamperedTokenIsNotFoundAndRemovedSubscriptionIsGone_R8030_7_3_d) {
    auto sub = *service_.subscribe({});
    auto req = push_to(sub);
    req.token[5] = req.token[5] == 'A' ? 'B' : 'A';
    EXPECT_EQ(push_error(req), errc::token_invalid);
    auto id = sub.resource_url.substr(sub.resource_url.rfind('/') + 1);
    ASSERT_TRUE(service_.delete_subscription(id));
    EXPECT_EQ(push_error(push_to(sub)), errc::subscription_gone);
    EXPECT_EQ(to_errc(service_.delete_subscription(id).error()), errc::not_found);
}

TEST_F(PushServiceTest, RestrictedSubscriptionNeedsCredentials_R8292_4_2_b) {
    auto key = crypto::P256PrivateKey::generate();
    auto sub = subscribe_restricted(key);
    EXPECT_EQ(push_error(push_to(sub)), errc::vapid_missing);
    auto req = push_to(sub);
    req.authorization = "key=AIzaSomething";
    EXPECT_EQ(push_error(req), errc::vapid_missing);
}

TEST_F(PushServiceTest, RestrictedSubscriptionAcceptsBothAuthForms_R8292_4_1_a_RVAPID01_2_a) {
    auto key = crypto::P256PrivateKey::generate();
    auto sub = subscribe_restricted(key);
    auto req = push_to(sub);
    req.authorization = vapid_header(key);
    EXPECT_TRUE(service_.push(req));
    auto legacy = push_to(sub);
    legacy.authorization =
        "WebPush " + make_jwt(key, std::string(kOrigin), clock_.now_ms() / 1000 + 600);
    legacy.crypto_key = "p256ecdsa=" + base64url_encode(key.public_raw());
    EXPECT_TRUE(service_.push(legacy));
}

TEST_F(PushServiceTest, RejectsAnotherKeyWrongAudienceAndExpiredTokens_R8292_4_2_e_f_g) {
    auto key = crypto::P256PrivateKey::generate();
    auto other = crypto::P256PrivateKey::generate();
    auto sub = subscribe_restricted(key);
    auto req = push_to(sub);
    req.authorization = vapid_header(other);
    EXPECT_EQ(push_error(req), errc::vapid_key_mismatch);
    req.authorization = vapid_header(key, "https://other.example");
    EXPECT_EQ(push_error(req), errc::vapid_invalid);
    req.authorization = vapid_header(key, std::string(kOrigin), -10);
    EXPECT_EQ(push_error(req), errc::vapid_invalid);
    req.authorization = vapid_header(key, std::string(kOrigin), 25 * 3600);
    EXPECT_EQ(push_error(req), errc::vapid_invalid);
}

TEST_F(PushServiceTest, CachedTokenIsRejectedOnceExpired_R8292_5_a) {
    auto key = crypto::P256PrivateKey::generate();
    auto sub = subscribe_restricted(key);
    auto req = push_to(sub);
    req.authorization = vapid_header(key, std::string(kOrigin), 60);
    EXPECT_TRUE(service_.push(req));
    EXPECT_TRUE(service_.push(req));
    clock_.advance_ms(61'000);
    EXPECT_EQ(push_error(req), errc::vapid_invalid);
}

TEST_F(PushServiceTest, CompatAcceptsAudienceWithoutTheNonDefaultPort_A9) {
    auto key = crypto::P256PrivateKey::generate();
    auto sub = subscribe_restricted(key);
    auto req = push_to(sub);
    req.authorization = vapid_header(key, "https://push.test");
    EXPECT_TRUE(service_.push(req));
}

TEST_F(PushServiceTest, SenderEcdhKeyEqualToVapidKeyIsRejected_R8292_3_2_b) {
    auto key = crypto::P256PrivateKey::generate();
    auto sub = subscribe_restricted(key);
    auto req = push_to(sub);
    req.authorization = vapid_header(key);
    req.content_encoding = "aes128gcm";
    req.body =
        std::string(16, 's') + std::string("\0\0\x10\0", 4) + "\x41" + key.public_raw() + "x";
    EXPECT_EQ(push_error(req), errc::same_key);
}

TEST_F(PushServiceTest, UnrestrictedSubscriptionIgnoresBadCredentialsInCompat_A8) {
    auto sub = *service_.subscribe({});
    auto req = push_to(sub);
    req.authorization = "vapid t=a.b.c, k=AAAA";
    EXPECT_TRUE(service_.push(req));
}

TEST_F(PushServiceTest, SubscribeRejectsAnInvalidKeyAndIgnoresOtherMediaTypes_R8292_4_1_b_d) {
    SubscribeRequest bad;
    bad.content_type = "application/webpush-options+json";
    bad.body = R"({"vapid":"AAAA"})";
    EXPECT_EQ(to_errc(service_.subscribe(bad).error()), errc::bad_subscribe_key);
    bad.body = "{not json";
    EXPECT_EQ(to_errc(service_.subscribe(bad).error()), errc::bad_json);
    SubscribeRequest other;
    other.content_type = "application/json";
    other.body = R"({"vapid":"AAAA"})";
    auto sub = service_.subscribe(other);
    ASSERT_TRUE(sub);
    EXPECT_TRUE(sub->record.app_server_key.empty());
}

TEST_F(PushServiceTest, LegacyCryptoKeyHeaderRestrictsTheSubscription_RVAPID01_5_1_a) {
    auto key = crypto::P256PrivateKey::generate();
    SubscribeRequest req;
    req.crypto_key = "p256ecdsa=" + base64url_encode(key.public_raw());
    auto sub = service_.subscribe(req);
    ASSERT_TRUE(sub);
    EXPECT_EQ(sub->record.app_server_key, key.public_raw());
    EXPECT_EQ(push_error(push_to(*sub)), errc::vapid_missing);
}

TEST(PushServiceQueueCap, PushesBeyondTheCapAre429UntilTheQueueDrains_R8030_8_4_b) {
    base::FakeClock clock;
    store::MemoryStore store(&clock);
    ServiceOptions o;
    o.origin = "https://push.test";
    o.max_queued_per_ua = 3;
    PushService service(o, store, EndpointCodec({std::string(32, 'k')}), clock);
    auto sub = *service.subscribe({});
    PushRequest req;
    req.token = sub.endpoint.substr(sub.endpoint.rfind('/') + 1);
    req.ttl = "60";
    std::vector<std::string> ids;
    for (int i = 0; i < 3; ++i) ids.push_back(service.push(req)->message.id);
    EXPECT_EQ(to_errc(service.push(req).error()), errc::too_many_requests);
    req.ttl = "0";  // not stored: not limited by the queue
    EXPECT_TRUE(service.push(req));
    req.ttl = "60";
    ASSERT_TRUE(store.delete_message(ids[0]));  // an ack makes room
    EXPECT_TRUE(service.push(req));
    EXPECT_EQ(store.pending(sub.record.uaid, clock.now_ms(), 0, 10)->size(), 3u);
}

class StrictPushServiceTest : public PushServiceTest {
  protected:
    StrictPushServiceTest() : PushServiceTest(config::Profile::strict) {}
};

TEST_F(StrictPushServiceTest, InvalidCredentialsOnUnrestrictedSubscriptionAreForbidden_R8292_2_f) {
    auto sub = *service_.subscribe({});
    auto req = push_to(sub);
    req.authorization = "vapid t=a.b.c, k=AAAA";
    EXPECT_EQ(push_error(req), errc::vapid_invalid);
}

TEST_F(StrictPushServiceTest, AudienceMustMatchExactly_R8292_2_b) {
    auto key = crypto::P256PrivateKey::generate();
    auto sub = subscribe_restricted(key);
    auto req = push_to(sub);
    req.authorization = vapid_header(key, "https://push.test");
    EXPECT_EQ(push_error(req), errc::vapid_invalid);
}

// --- Running for months: abandoned user agents and receipt subscriptions go away ---

class LifetimeTest : public PushServiceTest {
  protected:
    static constexpr base::UnixMs kDay = 24 * 3600 * 1000;
    LifetimeTest() {
        // options(): max_ttl 3600 s, so receipt subscriptions expire after an hour unseen;
        // user agents after the default 60 days.
    }
    base::UnixMs last_seen(const std::string& uaid) {
        auto ua = store_.get_user_agent(uaid);
        EXPECT_TRUE(ua && *ua);
        return ua && *ua ? (*ua)->last_seen_ms : 0;
    }
    std::string receipt_uaid(const PushOutcome& out) {
        auto seg = out.receipt_url.substr(out.receipt_url.rfind('/') + 1);
        return "R" + *base::base64url_decode(seg);
    }
};

TEST_F(LifetimeTest, AUserAgentPastItsIdleAgeIsGoneForSendersBeforeCollection_R8030_7_3_d) {
    auto sub = *service_.subscribe({});
    clock_.advance_ms(60 * kDay - 1);
    EXPECT_TRUE(service_.push(push_to(sub)));
    clock_.advance_ms(1);
    // Not collected yet (the record is still there), but pushes are told 410 already.
    EXPECT_TRUE(store_.get_user_agent(sub.record.uaid)->has_value());
    EXPECT_EQ(push_error(push_to(sub)), errc::subscription_gone);
    EXPECT_EQ(*service_.collect_idle(100), 1u);
    EXPECT_FALSE(store_.get_user_agent(sub.record.uaid)->has_value());
    EXPECT_FALSE(store_.get_subscription(sub.record.id)->has_value());
    EXPECT_EQ(*store_.queued(sub.record.uaid, 10), 0u);  // its queue went with it
    EXPECT_EQ(*service_.collect_idle(100), 0u);
}

TEST_F(LifetimeTest, SeenIsWrittenAtMostOnceADayAndKeepsAUserAgent) {
    auto sub = *service_.subscribe({});
    const auto& uaid = sub.record.uaid;
    base::UnixMs created = last_seen(uaid);
    clock_.advance_ms(kDay - 1);
    EXPECT_TRUE(*service_.seen(uaid));
    EXPECT_EQ(last_seen(uaid), created);  // within a day: no write
    clock_.advance_ms(1);
    EXPECT_TRUE(*service_.seen(uaid));
    EXPECT_EQ(last_seen(uaid), created + kDay);
    // Seen every 59 days for half a year: never idle.
    for (int i = 0; i < 3; ++i) {
        clock_.advance_ms(59 * kDay);
        EXPECT_TRUE(*service_.seen(uaid));
        EXPECT_EQ(*service_.collect_idle(100), 0u);
        EXPECT_TRUE(service_.push(push_to(sub)));
    }
}

TEST_F(LifetimeTest, AUserAgentBackAfterItsIdleAgeIsNotRevived) {
    // Senders were told 410 already; reviving it would keep a subscription they dropped.
    auto sub = *service_.subscribe({});
    clock_.advance_ms(61 * kDay);
    EXPECT_FALSE(*service_.seen(sub.record.uaid));
    EXPECT_FALSE(store_.get_user_agent(sub.record.uaid)->has_value());
    EXPECT_FALSE(store_.get_subscription(sub.record.id)->has_value());
}

TEST_F(LifetimeTest, AConnectedUserAgentIsKeptHoweverOldItsHello) {
    auto sub = *service_.subscribe({});
    for (int i = 0; i < 4; ++i) {
        clock_.advance_ms(30 * kDay);
        EXPECT_TRUE(*service_.refresh_connected(sub.record.uaid));  // housekeeping, daily
    }
    EXPECT_EQ(*service_.collect_idle(100), 0u);
    EXPECT_TRUE(service_.push(push_to(sub)));
}

TEST_F(LifetimeTest, CollectionIsBoundedPerCall) {
    for (int i = 0; i < 5; ++i) service_.subscribe({});
    clock_.advance_ms(60 * kDay);
    EXPECT_EQ(*service_.collect_idle(2), 2u);
    EXPECT_EQ(*service_.collect_idle(2), 2u);
    EXPECT_EQ(*service_.collect_idle(2), 1u);
    EXPECT_EQ(*service_.collect_idle(2), 0u);
}

TEST_F(LifetimeTest, AnUnusedReceiptSubscriptionExpiresAfterMaxTtl_R8030_5_1_h) {
    auto sub = *service_.subscribe({});
    auto req = push_to(sub);
    req.prefer = "respond-async";
    auto out = service_.push(req);
    ASSERT_TRUE(out);
    std::string rq = receipt_uaid(*out);
    EXPECT_EQ(store_.get_user_agent(rq)->value().kind, store::AgentKind::receipts);
    // Named by a push within max_ttl: in use, so kept.
    clock_.advance_ms(3600 * 1000 - 1);
    auto again = push_to(sub);
    again.prefer = "respond-async";
    again.link = "<" + out->receipt_url + ">; rel=\"urn:ietf:params:push:receipt\"";
    EXPECT_TRUE(service_.push(again));
    clock_.advance_ms(1);
    EXPECT_EQ(*service_.collect_idle(100), 0u);
    // Unused for max_ttl plus the half of it by which last_seen may lag (so a message named
    // at the end of that lag still finds it) after that naming: collected, and naming it now
    // is a 400.
    clock_.advance_ms(5400 * 1000 - 2);  // 1 ms short of that, counted from the naming
    EXPECT_EQ(*service_.collect_idle(100), 0u);
    clock_.advance_ms(1);
    EXPECT_EQ(*service_.collect_idle(100), 1u);
    EXPECT_FALSE(store_.get_user_agent(rq)->has_value());
    EXPECT_EQ(to_errc(service_.push(again).error()), errc::unknown_receipt);  // 400
    // The user agent itself is untouched.
    EXPECT_TRUE(store_.get_user_agent(sub.record.uaid)->has_value());
}

TEST_F(LifetimeTest, AReceiptSubscriptionLivesMaxTtlPastItsLastReceipt_R8030_6_3_d) {
    auto sub = *service_.subscribe({});
    auto req = push_to(sub, "3600");  // max_ttl: the message lives as long as its receipts
    req.prefer = "respond-async";
    auto out = *service_.push(req);
    clock_.advance_ms(3600 * 1000);
    EXPECT_EQ(*service_.sweep(clock_.now_ms(), 100), 1u);  // expiry runs before collection
    EXPECT_EQ(*service_.collect_idle(100), 0u);
    EXPECT_EQ(*store_.queued(receipt_uaid(out), 10), 1u);  // the 410 waits for its reader
    clock_.advance_ms(5400 * 1000);
    EXPECT_EQ(*service_.collect_idle(100), 1u);  // then unused (max_ttl + lag): collected
}

TEST_F(LifetimeTest, RefusedAndTtlZeroPushesLeaveNoReceiptSubscription) {
    auto sub = *service_.subscribe({});
    auto count = [&] { return store_.stats()->receipt_subscriptions; };
    auto req = push_to(sub, "0");
    req.prefer = "respond-async";
    auto ttl0 = service_.push(req);
    ASSERT_TRUE(ttl0);
    EXPECT_TRUE(ttl0->receipt_url.empty());  // 201: a TTL-0 message is never confirmed
    EXPECT_EQ(count(), 0u);
    req.ttl = "-1";  // refused (400)
    EXPECT_FALSE(service_.push(req));
    EXPECT_EQ(count(), 0u);
    req.ttl = "60";
    req.topic = "bad topic!";  // refused (400)
    EXPECT_FALSE(service_.push(req));
    EXPECT_EQ(count(), 0u);
}

TEST(PushServiceQueueCapReceipts, A429LeavesNoReceiptSubscriptionAndReceiptQueuesAreCapped) {
    base::FakeClock clock;
    store::MemoryStore store(&clock);
    ServiceOptions o;
    o.origin = "https://push.test";
    o.max_queued_per_ua = 2;
    PushService service(o, store, EndpointCodec({std::string(32, 'k')}), clock);
    auto sub = *service.subscribe({});
    PushRequest req;
    req.token = sub.endpoint.substr(sub.endpoint.rfind('/') + 1);
    req.ttl = "60";
    req.prefer = "respond-async";
    auto first = service.push(req);
    ASSERT_TRUE(first);
    ASSERT_TRUE(service.push(req));
    EXPECT_EQ(store.stats()->receipt_subscriptions, 2u);
    EXPECT_EQ(to_errc(service.push(req).error()), errc::too_many_requests);
    EXPECT_EQ(store.stats()->receipt_subscriptions, 2u);  // the 429 left none behind
    // One receipt subscription named by many pushes: its queue holds at most the cap.
    req.link = "<" + first->receipt_url + ">; rel=\"urn:ietf:params:push:receipt\"";
    auto second_sub = *service.subscribe({});
    req.token = second_sub.endpoint.substr(second_sub.endpoint.rfind('/') + 1);
    for (int i = 0; i < 2; ++i) ASSERT_TRUE(service.push(req));
    clock.advance_ms(61'000);  // everything expires undelivered: 410 receipts are due
    EXPECT_EQ(*service.sweep(clock.now_ms(), 100), 4u);
    auto rq =
        "R" + *base::base64url_decode(first->receipt_url.substr(first->receipt_url.rfind('/') + 1));
    EXPECT_EQ(*store.queued(rq, 100), 2u);  // three were due, the cap kept two
}

// --- Rate limits (rate.push_*, R8030-8.4-b) ---

class PushRateLimitTest : public ::testing::Test {
  protected:
    PushRateLimitTest()
        : service_(options(), store_, EndpointCodec({std::string(32, 'k')}), clock_) {}

    static ServiceOptions options() {
        ServiceOptions o;
        o.origin = std::string(kOrigin);
        o.rate.push_per_min = 6;  // one every 10 s
        o.rate.push_burst = 3;
        return o;
    }

    PushRequest push_to(const Subscription& sub, std::string client, std::string ttl = "60") {
        PushRequest req;
        req.token = sub.endpoint.substr(sub.endpoint.rfind('/') + 1);
        req.ttl = std::move(ttl);
        req.client = std::move(client);
        return req;
    }

    std::string vapid_header(const crypto::P256PrivateKey& key) {
        return "vapid t=" + make_jwt(key, std::string(kOrigin), clock_.now_ms() / 1000 + 3600) +
               ", k=" + base64url_encode(key.public_raw());
    }

    Subscription subscribe_restricted(const crypto::P256PrivateKey& key) {
        SubscribeRequest req;
        req.content_type = "application/webpush-options+json";
        req.body = R"({"vapid":")" + base64url_encode(key.public_raw()) + R"("})";
        return *service_.subscribe(req);
    }

    static std::uint64_t refused() {
        return obs::catalog().rate_limited(obs::Limited::push).value();
    }

    base::FakeClock clock_;
    store::MemoryStore store_{&clock_};
    PushService service_;
};

TEST_F(PushRateLimitTest,
       AnAddressOverItsBurstGets429WithRetryAfterUntilTheClockRefills_R8030_8_4_b) {
    auto sub = *service_.subscribe({});
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(service_.push(push_to(sub, "192.0.2.1"))) << i;
    const auto before = refused();
    std::uint32_t retry_after = 0;
    auto over = service_.push(push_to(sub, "192.0.2.1"), &retry_after);
    ASSERT_FALSE(over);
    EXPECT_EQ(to_errc(over.error()), errc::rate_limited);
    EXPECT_EQ(retry_after, 10u);  // seconds until the bucket has a token
    EXPECT_EQ(refused(), before + 1);
    EXPECT_EQ(store_.pending(sub.record.uaid, clock_.now_ms(), 0, 10)->size(), 3u);  // not stored
    // Another address is another sender; an in-process caller (no address) is never limited.
    EXPECT_TRUE(service_.push(push_to(sub, "192.0.2.2")));
    EXPECT_TRUE(service_.push(push_to(sub, "")));
    EXPECT_EQ(service_.rate_limits().tracked(Limited::push), 2u);  // no bucket for ""
    clock_.advance_ms(10'000);  // the service clock refills: one more push
    EXPECT_TRUE(service_.push(push_to(sub, "192.0.2.1")));
    EXPECT_FALSE(service_.push(push_to(sub, "192.0.2.1")));
}

TEST_F(PushRateLimitTest, TtlZeroPushesCountToo) {
    // TTL 0 skips the per-UA queue cap (nothing is stored), so the rate limit is its bound.
    auto sub = *service_.subscribe({});
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(service_.push(push_to(sub, "192.0.2.1", "0")));
    std::uint32_t retry_after = 0;
    auto over = service_.push(push_to(sub, "192.0.2.1", "0"), &retry_after);
    ASSERT_FALSE(over);
    EXPECT_EQ(to_errc(over.error()), errc::rate_limited);
    EXPECT_EQ(retry_after, 10u);
}

TEST_F(PushRateLimitTest, ARestrictedSubscriptionsSenderIsItsVapidKeyWhateverItsAddress) {
    auto key = crypto::P256PrivateKey::generate();
    auto sub = subscribe_restricted(key);
    // Rotating source addresses does not help a sender whose key is fixed by the subscription.
    for (int i = 0; i < 3; ++i) {
        auto req = push_to(sub, "198.51.100." + std::to_string(i));
        req.authorization = vapid_header(key);
        ASSERT_TRUE(service_.push(std::move(req))) << i;
    }
    auto req = push_to(sub, "198.51.100.99");
    req.authorization = vapid_header(key);
    EXPECT_EQ(to_errc(service_.push(std::move(req)).error()), errc::rate_limited);
    // Its address's own budget (for unrestricted subscriptions) is untouched.
    auto open = *service_.subscribe({});
    EXPECT_TRUE(service_.push(push_to(open, "198.51.100.99")));
    // A push refused for another reason before the limit (bad VAPID) takes no token.
    auto other_key = crypto::P256PrivateKey::generate();
    auto other = subscribe_restricted(other_key);
    for (int i = 0; i < 5; ++i) {
        auto wrong = push_to(other, "198.51.100.1");
        wrong.authorization = vapid_header(key);  // not the subscription's key: 403
        EXPECT_EQ(to_errc(service_.push(std::move(wrong)).error()), errc::vapid_key_mismatch);
    }
    auto right = push_to(other, "198.51.100.1");
    right.authorization = vapid_header(other_key);
    EXPECT_TRUE(service_.push(std::move(right)));
}

TEST_F(PushRateLimitTest, AFloodAskingForReceiptsLeavesNoReceiptSubscriptionsBehind_R8030_5_1) {
    auto sub = *service_.subscribe({});
    for (int i = 0; i < 50; ++i) {
        auto req = push_to(sub, "192.0.2.7");
        req.prefer = "respond-async";
        auto out = service_.push(std::move(req));
        if (i < 3) {
            ASSERT_TRUE(out);
            EXPECT_FALSE(out->receipt_url.empty());
        } else {
            ASSERT_FALSE(out);
            EXPECT_EQ(to_errc(out.error()), errc::rate_limited);
        }
    }
    EXPECT_EQ(store_.stats()->receipt_subscriptions, 3u);  // one per accepted push, no more
}

}  // namespace
}  // namespace pushsvc::webpush
