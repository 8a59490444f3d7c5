// The Store contract (pushsvc/store/store.h), written once and run against every
// implementation: MemoryStore and RocksStore (a real RocksDB in a fresh /tmp directory) in
// unit_store; PgStore (a real PostgreSQL 15 started for the run, a fresh schema per test) in
// unit_store_postgres, the same file built with PUSHSVC_CONTRACT_POSTGRES.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/unit/store/store_contract.h"

namespace pushsvc::store {
namespace {

using contract::BackendName;
using contract::Backends;
using contract::StoreContract;
using testing::kT0;
using testing::make_message;
using testing::make_subscription;
using testing::must;

TYPED_TEST_SUITE(StoreContract, Backends, BackendName);

// --- user agents and subscriptions ---

TYPED_TEST(StoreContract, StoresReturnsAndDeletesUserAgent) {
    Store& s = this->store();
    EXPECT_FALSE(must(s.get_user_agent("ua1")).has_value());
    must(s.put_user_agent({.uaid = "ua1", .created_ms = kT0, .last_seen_ms = kT0 + 5}));
    auto ua = must(s.get_user_agent("ua1"));
    ASSERT_TRUE(ua.has_value());
    EXPECT_EQ(ua->uaid, "ua1");
    EXPECT_EQ(ua->created_ms, kT0);
    EXPECT_EQ(ua->last_seen_ms, kT0 + 5);

    must(s.put_user_agent({.uaid = "ua1", .created_ms = kT0, .last_seen_ms = kT0 + 9}));
    EXPECT_EQ(must(s.get_user_agent("ua1"))->last_seen_ms, kT0 + 9);

    must(s.delete_user_agent("ua1"));
    EXPECT_FALSE(must(s.get_user_agent("ua1")).has_value());
}

TYPED_TEST(StoreContract, StoresAndReturnsSubscriptionWithEveryField) {
    Store& s = this->store();
    SubscriptionRecord sub{.id = "sub1",
                           .uaid = "ua1",
                           .channel_id = "chan-1",
                           .app_server_key = std::string(65, '\x04'),
                           .created_ms = kT0};
    must(s.put_subscription(sub));
    auto got = must(s.get_subscription("sub1"));
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->id, sub.id);
    EXPECT_EQ(got->uaid, sub.uaid);
    EXPECT_EQ(got->channel_id, sub.channel_id);
    EXPECT_EQ(got->app_server_key, sub.app_server_key);
    EXPECT_EQ(got->created_ms, sub.created_ms);
    EXPECT_FALSE(must(s.get_subscription("nope")).has_value());
}

TYPED_TEST(StoreContract, SubscriptionsOfListsOnlyThatUserAgentsSubscriptions) {
    Store& s = this->store();
    must(s.put_subscription(make_subscription("b", "ua1")));
    must(s.put_subscription(make_subscription("a", "ua1")));
    must(s.put_subscription(make_subscription("c", "ua2")));
    // "ua" is a prefix of "ua1": it must not see ua1's subscriptions.
    must(s.put_subscription(make_subscription("d", "ua")));

    std::vector<std::string> ids;
    for (const auto& sub : must(s.subscriptions_of("ua1"))) ids.push_back(sub.id);
    std::sort(ids.begin(), ids.end());
    EXPECT_EQ(ids, (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(must(s.subscriptions_of("ua")).size(), 1u);
    EXPECT_TRUE(must(s.subscriptions_of("ua3")).empty());
}

TYPED_TEST(StoreContract, DeleteSubscriptionRemovesItAndOnlyItsMessages) {
    Store& s = this->store();
    must(s.put_subscription(make_subscription("s1", "ua1")));
    must(s.put_subscription(make_subscription("s2", "ua1")));
    this->add(make_message("m1", "ua1", "s1", 600, "t"));
    this->add(make_message("m2", "ua1", "s2"));
    this->add(make_message("m3", "ua1", "s1"));

    EXPECT_TRUE(must(s.delete_subscription("s1")));
    EXPECT_FALSE(must(s.get_subscription("s1")).has_value());
    EXPECT_EQ(this->pending_ids("ua1"), (std::vector<std::string>{"m2"}));
    EXPECT_FALSE(must(s.get_message(this->id("m1"))).has_value());
    EXPECT_FALSE(must(s.delete_message(this->id("m3"))));
    ASSERT_EQ(must(s.subscriptions_of("ua1")).size(), 1u);
    EXPECT_FALSE(must(s.delete_subscription("s1")));

    // Its topic index went with it: a re-created subscription starts clean (R8030-5.4-f).
    must(s.put_subscription(make_subscription("s1", "ua1")));
    MessageRecord again = make_message("m4", "ua1", "s1", 600, "t");
    EXPECT_FALSE(must(this->enqueue(again)).has_value());
}

TYPED_TEST(StoreContract, DeleteUserAgentCascadesToSubscriptionsAndMessages) {
    Store& s = this->store();
    must(s.put_user_agent({.uaid = "ua1"}));
    must(s.put_user_agent({.uaid = "ua2"}));
    must(s.put_subscription(make_subscription("s1", "ua1")));
    must(s.put_subscription(make_subscription("s2", "ua2")));
    this->add(make_message("m1", "ua1", "s1", 600, "t"));
    this->add(make_message("m2", "ua2", "s2", 600, "t"));

    must(s.delete_user_agent("ua1"));
    EXPECT_FALSE(must(s.get_subscription("s1")).has_value());
    EXPECT_TRUE(must(s.subscriptions_of("ua1")).empty());
    EXPECT_TRUE(this->pending_ids("ua1").empty());
    EXPECT_FALSE(must(s.get_message(this->id("m1"))).has_value());
    EXPECT_FALSE(must(s.delete_message(this->id("m1"))));

    EXPECT_TRUE(must(s.get_user_agent("ua2")).has_value());
    EXPECT_TRUE(must(s.get_subscription("s2")).has_value());
    EXPECT_EQ(this->pending_ids("ua2"), (std::vector<std::string>{"m2"}));
}

TYPED_TEST(StoreContract, SubscriptionReadBeforeAChangeIsNotServedStale) {
    // RocksStore caches subscriptions it has read; every change must show on the next read.
    Store& s = this->store();
    must(s.put_subscription(make_subscription("s1", "ua1")));
    ASSERT_EQ(must(s.get_subscription("s1"))->uaid, "ua1");
    must(s.put_subscription(make_subscription("s1", "ua2")));  // moved to another UA
    EXPECT_EQ(must(s.get_subscription("s1"))->uaid, "ua2");

    must(s.put_subscription(make_subscription("s2", "ua1")));
    ASSERT_TRUE(must(s.get_subscription("s2")).has_value());
    EXPECT_TRUE(must(s.delete_subscription("s2")));
    EXPECT_FALSE(must(s.get_subscription("s2")).has_value());

    must(s.put_user_agent({.uaid = "ua3"}));
    must(s.put_subscription(make_subscription("s3", "ua3")));
    ASSERT_TRUE(must(s.get_subscription("s3")).has_value());
    must(s.delete_user_agent("ua3"));
    EXPECT_FALSE(must(s.get_subscription("s3")).has_value());
}

TYPED_TEST(StoreContract, PushTargetIsTheSubscriptionWithItsOwnerAsLastWritten) {
    Store& s = this->store();
    EXPECT_FALSE(must(s.push_target("s1")).has_value());
    must(s.put_user_agent({.uaid = "ua1", .created_ms = kT0, .last_seen_ms = kT0 + 5}));
    must(s.put_subscription(make_subscription("s1", "ua1")));
    auto first = must(s.push_target("s1"));
    ASSERT_TRUE(first.has_value());
    ASSERT_TRUE(first->subscription && first->owner);
    EXPECT_EQ(first->subscription->id, "s1");
    EXPECT_EQ(first->subscription->uaid, "ua1");
    EXPECT_EQ(first->owner->last_seen_ms, kT0 + 5);

    // A change shows on the next call (a store that caches the records it shares must not
    // hand out the one read before the change).
    EXPECT_TRUE(must(s.touch_user_agent("ua1", kT0 + 9)));
    auto second = must(s.push_target("s1"));
    ASSERT_TRUE(second && second->owner);
    EXPECT_EQ(second->owner->last_seen_ms, kT0 + 9);

    // A subscription whose user agent has no record has no owner; a deleted one no target.
    must(s.put_subscription(make_subscription("s2", "ua-none")));
    auto orphan = must(s.push_target("s2"));
    ASSERT_TRUE(orphan.has_value());
    EXPECT_EQ(orphan->owner, nullptr);
    EXPECT_TRUE(must(s.delete_subscription("s1")));
    EXPECT_FALSE(must(s.push_target("s1")).has_value());
}

// --- queue order and paging ---

TYPED_TEST(StoreContract, PendingReturnsManyMessagesInArrivalOrder) {
    std::vector<std::string> expected;
    std::uint64_t last = 0;
    for (int i = 0; i < 300; ++i) {
        const std::string id = "m" + std::to_string(i);
        const std::uint64_t seq = this->add(make_message(id, "ua1", i % 2 ? "s1" : "s2"));
        EXPECT_GT(seq, last);
        last = seq;
        expected.push_back(id);
        this->add(make_message("other" + std::to_string(i), "ua2", "s3"));
    }
    EXPECT_EQ(this->pending_ids("ua1"), expected);
}

TYPED_TEST(StoreContract, PendingPagesWithAfterSeqAndLimit) {
    std::vector<std::uint64_t> seqs;
    for (int i = 0; i < 10; ++i) {
        seqs.push_back(this->add(make_message("m" + std::to_string(i), "ua1", "s1")));
    }
    EXPECT_EQ(this->pending_ids("ua1", kT0, 0, 3), (std::vector<std::string>{"m0", "m1", "m2"}));
    EXPECT_EQ(this->pending_ids("ua1", kT0, seqs[2], 3),
              (std::vector<std::string>{"m3", "m4", "m5"}));
    EXPECT_EQ(this->pending_ids("ua1", kT0, seqs[8], 3), (std::vector<std::string>{"m9"}));
    EXPECT_TRUE(this->pending_ids("ua1", kT0, seqs[9], 3).empty());
    EXPECT_TRUE(this->pending_ids("ua1", kT0, 0, 0).empty());
    EXPECT_TRUE(this->pending_ids("ua1", kT0, UINT64_MAX, 3).empty());
    EXPECT_TRUE(this->pending_ids("unknown").empty());
}

TYPED_TEST(StoreContract, UserAgentWhoseIdPrefixesAnothersHasItsOwnQueue) {
    const std::string a("\x00\xff", 2);
    const std::string b("\x00\xff\x00", 3);
    this->add(make_message("ma", a, "s1"));
    this->add(make_message("mb", b, "s2"));
    EXPECT_EQ(this->pending_ids(a), (std::vector<std::string>{"ma"}));
    EXPECT_EQ(this->pending_ids(b), (std::vector<std::string>{"mb"}));
}

TYPED_TEST(StoreContract, GetMessageReturnsEveryFieldByteExact) {
    MessageRecord m = make_message(std::string("id\0\xff", 4), "ua1", "s1", 60, "topic");
    m.urgency = 3;
    m.content_encoding = "aesgcm";
    m.encryption = "salt=abc";
    m.crypto_key = "dh=def";
    m.receipt_id = "rcpt";
    m.body.clear();
    for (int i = 0; i < 4096; ++i) m.body.push_back(static_cast<char>(i % 256));
    must(this->store().enqueue(m));
    EXPECT_GT(m.seq, 0u);

    auto got = must(this->store().get_message(m.id));
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->id, m.id);
    EXPECT_EQ(got->uaid, m.uaid);
    EXPECT_EQ(got->subscription_id, m.subscription_id);
    EXPECT_EQ(got->seq, m.seq);
    EXPECT_EQ(got->received_ms, m.received_ms);
    EXPECT_EQ(got->expires_ms, m.expires_ms);
    EXPECT_EQ(got->ttl_s, 60u);
    EXPECT_EQ(got->urgency, 3);
    EXPECT_EQ(got->topic, "topic");
    EXPECT_EQ(got->content_encoding, "aesgcm");
    EXPECT_EQ(got->encryption, "salt=abc");
    EXPECT_EQ(got->crypto_key, "dh=def");
    EXPECT_EQ(got->receipt_id, "rcpt");
    EXPECT_EQ(got->body, m.body);  // all 256 byte values, 4096 bytes
    auto listed = must(this->store().pending("ua1", kT0, 0, 10));
    ASSERT_EQ(listed.size(), 1u);
    EXPECT_EQ(listed[0].body, m.body);
}

// A message id is a capability (RFC 8030 §8.3): only the id enqueue left finds the message;
// any other byte string, however close, finds nothing and changes nothing.
TYPED_TEST(StoreContract, OnlyTheExactIdFindsAMessage) {
    Store& s = this->store();
    const std::string name = "0123456789abcdef";  // 16 octets, like the ids webpush/ mints
    this->add(make_message(name, "ua1", "s1", 600, "t"));
    const std::string id = this->id(name);
    EXPECT_EQ(id.substr(0, name.size()), name);  // extended, if at all, at the end
    std::vector<std::string> forged{id.substr(0, id.size() - 1), id + "x", ""};
    for (std::size_t i = 0; i < id.size(); ++i) {
        forged.push_back(id);
        forged.back()[i] = static_cast<char>(forged.back()[i] ^ 0x01);
    }
    for (const auto& f : forged) {
        EXPECT_FALSE(must(s.get_message(f)).has_value()) << f.size();
        must(s.mark_delivered(f));
        EXPECT_FALSE(must(s.delete_message(f)).has_value()) << f.size();
    }
    auto m = must(s.get_message(id));
    ASSERT_TRUE(m.has_value());
    EXPECT_FALSE(m->delivered);
    EXPECT_EQ(this->pending_ids("ua1"), (std::vector<std::string>{name}));
    EXPECT_TRUE(must(s.delete_message(id)).has_value());
}

// --- topic replacement (RFC 8030 §5.4) ---

// R8030-5.4-a, R8030-5.4-c
TYPED_TEST(StoreContract, TopicReplacesUndeliveredMessageOfSameSubscription) {
    Store& s = this->store();
    MessageRecord a = make_message("A", "ua1", "s1", 600, "t");
    EXPECT_FALSE(must(this->enqueue(a)).has_value());  // R8030-5.4-f: no match, stored normally
    MessageRecord b = make_message("B", "ua1", "s1", 600, "t");
    auto replaced = must(this->enqueue(b));
    ASSERT_TRUE(replaced.has_value());
    EXPECT_EQ(*replaced, "A");
    EXPECT_GT(b.seq, a.seq);
    EXPECT_EQ(this->pending_ids("ua1"), (std::vector<std::string>{"B"}));
    EXPECT_FALSE(must(s.get_message(this->id("A"))).has_value());
    EXPECT_FALSE(must(s.delete_message(this->id("A"))));  // R8030-5.4-c: old resource is gone
    EXPECT_TRUE(must(s.get_message(this->id("B"))).has_value());
}

// R8030-5.4-a
TYPED_TEST(StoreContract, SameTopicOnAnotherSubscriptionIsUntouched) {
    this->add(make_message("A", "ua1", "s1", 600, "t"));
    MessageRecord b = make_message("B", "ua1", "s2", 600, "t");
    EXPECT_FALSE(must(this->enqueue(b)).has_value());
    EXPECT_EQ(this->pending_ids("ua1"), (std::vector<std::string>{"A", "B"}));
}

TYPED_TEST(StoreContract, MessagesWithoutOrWithOtherTopicAreNeverReplaced) {
    this->add(make_message("A", "ua1", "s1"));
    MessageRecord b = make_message("B", "ua1", "s1");
    EXPECT_FALSE(must(this->enqueue(b)).has_value());
    MessageRecord c = make_message("C", "ua1", "s1", 600, "t1");
    EXPECT_FALSE(must(this->enqueue(c)).has_value());
    MessageRecord d = make_message("D", "ua1", "s1", 600, "t2");
    EXPECT_FALSE(must(this->enqueue(d)).has_value());
    EXPECT_EQ(this->pending_ids("ua1"), (std::vector<std::string>{"A", "B", "C", "D"}));
}

// R8030-5.4-e
TYPED_TEST(StoreContract, ReplacementCarriesItsOwnTtlUrgencyAndReceipt) {
    MessageRecord a = make_message("A", "ua1", "s1", 600, "t");
    a.urgency = 3;
    a.receipt_id = "r1";
    this->add(a);
    MessageRecord b = make_message("B", "ua1", "s1", 30, "t");
    b.urgency = 0;
    this->add(b);
    auto got = must(this->store().get_message(this->id("B")));
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->urgency, 0);
    EXPECT_EQ(got->ttl_s, 30u);
    EXPECT_EQ(got->receipt_id, "");
}

TYPED_TEST(StoreContract, AckedTopicMessageIsNotReportedAsReplaced) {
    Store& s = this->store();
    this->add(make_message("A", "ua1", "s1", 600, "t"));
    EXPECT_TRUE(must(s.delete_message(this->id("A"))));
    MessageRecord b = make_message("B", "ua1", "s1", 600, "t");
    EXPECT_FALSE(must(this->enqueue(b)).has_value());
    MessageRecord c = make_message("C", "ua1", "s1", 600, "t");
    EXPECT_EQ(must(this->enqueue(c)), std::optional<std::string>("B"));
}

// --- expiry ---

// R8030-5.2-h
TYPED_TEST(StoreContract, PendingSkipsExpiredMessages) {
    this->add(make_message("short", "ua1", "s1", 1));
    this->add(make_message("long", "ua1", "s1", 60));
    EXPECT_EQ(this->pending_ids("ua1", kT0 + 999), (std::vector<std::string>{"short", "long"}));
    // Expired once now >= expires_ms.
    EXPECT_EQ(this->pending_ids("ua1", kT0 + 1000), (std::vector<std::string>{"long"}));
    EXPECT_TRUE(this->pending_ids("ua1", kT0 + 60'000).empty());
}

// R8030-7.2-b
TYPED_TEST(StoreContract, ExpiredMessageBehavesAsIfNeverSent) {
    Store& s = this->store();
    this->add(make_message("m1", "ua1", "s1", 1));
    this->add(make_message("m2", "ua1", "s1", 1));
    EXPECT_TRUE(must(s.get_message(this->id("m1"))).has_value());
    this->clock_.set(kT0 + 1000);
    EXPECT_FALSE(must(s.get_message(this->id("m1"))).has_value());
    EXPECT_FALSE(must(s.delete_message(this->id("m2"))));
    EXPECT_TRUE(this->pending_ids("ua1", kT0 + 1000).empty());
}

TYPED_TEST(StoreContract, SweepExpiredCountsAndRemovesOnlyExpiredMessages) {
    Store& s = this->store();
    this->add(make_message("e1", "ua1", "s1", 1, "t"));
    this->add(make_message("e2", "ua2", "s2", 2));
    this->add(make_message("keep", "ua1", "s1", 3));
    this->add(make_message("old", "ua3", "s3", 1, "", kT0 - 5000));

    EXPECT_EQ(must(s.sweep_expired(kT0 + 2000, 100, nullptr)), 3u);  // expires_ms <= now is swept
    EXPECT_EQ(must(s.sweep_expired(kT0 + 2000, 100, nullptr)), 0u);
    EXPECT_FALSE(must(s.delete_message(this->id("e1"))));
    EXPECT_FALSE(must(s.delete_message(this->id("e2"))));
    EXPECT_EQ(this->pending_ids("ua1", kT0), (std::vector<std::string>{"keep"}));
    EXPECT_TRUE(this->pending_ids("ua2", kT0).empty());
    EXPECT_TRUE(must(s.get_message(this->id("keep"))).has_value());

    // The swept message's topic index is gone too.
    MessageRecord again = make_message("e1b", "ua1", "s1", 600, "t");
    EXPECT_FALSE(must(this->enqueue(again)).has_value());
}

// --- acks ---

TYPED_TEST(StoreContract, MarkDeliveredIsKeptWithTheMessage) {
    // What makes a later DELETE an ack (204 receipt) rather than a cancel (R8030-6.3-b, A-6).
    Store& s = this->store();
    this->add(make_message("m1", "ua1", "s1"));
    this->add(make_message("m2", "ua1", "s1"));
    EXPECT_FALSE(must(s.get_message(this->id("m1")))->delivered);
    must(s.mark_delivered(this->id("m1")));
    must(s.mark_delivered(this->id("m1")));       // idempotent
    must(s.mark_delivered(this->id("missing")));  // gone: nothing to do
    EXPECT_TRUE(must(s.get_message(this->id("m1")))->delivered);
    EXPECT_FALSE(must(s.get_message(this->id("m2")))->delivered);
    auto pending = must(s.pending("ua1", kT0, 0, 10));
    ASSERT_EQ(pending.size(), 2u);
    EXPECT_TRUE(pending[0].delivered);
    EXPECT_EQ(pending[0].body, make_message("m1", "ua1", "s1").body);  // the rest unchanged
}

TYPED_TEST(StoreContract, DeleteMessageRemovesExactlyOneAndSecondCallReportsFalse) {
    Store& s = this->store();
    this->add(make_message("m1", "ua1", "s1"));
    this->add(make_message("m2", "ua1", "s1"));
    this->add(make_message("m3", "ua1", "s1"));
    auto removed = must(s.delete_message(this->id("m2")));
    ASSERT_TRUE(removed.has_value());  // what it was, for the receipt decision
    EXPECT_EQ(this->name_of(removed->id), "m2");
    EXPECT_EQ(removed->uaid, "ua1");
    EXPECT_EQ(removed->subscription_id, "s1");
    EXPECT_TRUE(removed->body.empty());
    EXPECT_FALSE(must(s.delete_message(this->id("m2"))));
    EXPECT_FALSE(must(s.delete_message(this->id("never"))));
    EXPECT_EQ(this->pending_ids("ua1"), (std::vector<std::string>{"m1", "m3"}));
}

// R8030-6.3-d: expiry of a message that asked for a receipt must be reportable.
TYPED_TEST(StoreContract, SweepReportsExpiredMessagesThatAskedForAReceipt) {
    Store& s = this->store();
    MessageRecord with = make_message("with", "ua1", "s1", 1);
    with.receipt_id = "rcpt";
    this->add(with);
    this->add(make_message("without", "ua1", "s1", 1));
    std::vector<MessageRecord> receipts;
    EXPECT_EQ(must(s.sweep_expired(kT0 + 5000, 100, &receipts)), 2u);
    ASSERT_EQ(receipts.size(), 1u);
    EXPECT_EQ(this->name_of(receipts[0].id), "with");
    EXPECT_EQ(receipts[0].receipt_id, "rcpt");
    EXPECT_TRUE(receipts[0].body.empty());
}

// Prompt expiry (issue "Running for months"): the store tells when the next sweep has work,
// and sweeps in bounded batches, earliest first.
TYPED_TEST(StoreContract, NextExpiryIsTheEarliestQueuedExpiry) {
    Store& s = this->store();
    EXPECT_FALSE(must(s.next_expiry()).has_value());
    this->add(make_message("late", "ua1", "s1", 60));
    this->add(make_message("soon", "ua2", "s2", 2));
    this->add(make_message("past", "ua3", "s3", 1, "", kT0 - 5000));
    EXPECT_EQ(must(s.next_expiry()), kT0 - 4000);
    EXPECT_FALSE(
        must(s.delete_message(this->id("past"))).has_value());  // expired: removed, not returned
    EXPECT_EQ(must(s.next_expiry()), kT0 + 2000);
    EXPECT_EQ(must(s.sweep_expired(kT0 + 2000, 10, nullptr)), 1u);
    EXPECT_EQ(must(s.next_expiry()), kT0 + 60'000);
}

TYPED_TEST(StoreContract, SweepTakesAtMostTheLimitEarliestFirst) {
    Store& s = this->store();
    for (int i = 0; i < 7; ++i)
        this->add(make_message("m" + std::to_string(i), "ua" + std::to_string(i % 3), "s", 1, "",
                               kT0 + (6 - i) * 10));  // m6 expires first
    EXPECT_EQ(must(s.sweep_expired(kT0 + 10'000, 3, nullptr)), 3u);
    // The three earliest (m6, m5, m4) are gone, the rest are still there (until swept).
    EXPECT_EQ(must(s.queued("ua0", 10)), 2u);
    EXPECT_EQ(must(s.queued("ua1", 10)), 1u);
    EXPECT_EQ(must(s.queued("ua2", 10)), 1u);
    std::set<std::string> left;
    for (int u = 0; u < 3; ++u)
        for (const auto& m : must(s.pending("ua" + std::to_string(u), kT0, 0, 10)))
            left.insert(this->name_of(m.id));
    EXPECT_EQ(left, (std::set<std::string>{"m0", "m1", "m2", "m3"}));
    EXPECT_EQ(must(s.sweep_expired(kT0 + 10'000, 3, nullptr)), 3u);
    EXPECT_EQ(must(s.sweep_expired(kT0 + 10'000, 3, nullptr)), 1u);  // fewer: none left
    EXPECT_EQ(must(s.sweep_expired(kT0 + 10'000, 3, nullptr)), 0u);
    EXPECT_FALSE(must(s.next_expiry()).has_value());
    for (int u = 0; u < 3; ++u) EXPECT_EQ(must(s.queued("ua" + std::to_string(u), 10)), 0u);
}

// A sweep remembers how far it got (RocksStore starts later sweeps there, past the tombstones
// of what it removed), yet a message enqueued afterwards with an earlier expiry (a clock
// moved back, a push that stalled between its clock read and its write) is still found.
TYPED_TEST(StoreContract, AnEarlierExpiryEnqueuedAfterASweepIsStillSwept) {
    Store& s = this->store();
    for (int i = 0; i < 5; ++i)
        this->add(make_message("a" + std::to_string(i), "ua1", "s1", 10, "", kT0 + i * 1000));
    EXPECT_EQ(must(s.sweep_expired(kT0 + 20'000, 100, nullptr)), 5u);
    this->add(make_message("late", "ua1", "s1", 1, "", kT0 - 50'000));  // expired long ago
    this->add(make_message("next", "ua1", "s1", 60, "", kT0 + 20'000));
    EXPECT_EQ(must(s.next_expiry()), kT0 - 49'000);
    EXPECT_EQ(must(s.sweep_expired(kT0 + 20'000, 100, nullptr)), 1u);
    EXPECT_EQ(must(s.next_expiry()), kT0 + 80'000);
}

// push.ua_idle_days and receipt-subscription expiry: candidates by kind, least recently
// seen first, and a put with a newer last_seen moves a user agent out of the idle set.
TYPED_TEST(StoreContract, IdleUserAgentsByKindAndLastSeen) {
    Store& s = this->store();
    must(s.put_user_agent({.uaid = "old", .created_ms = 1, .last_seen_ms = kT0 - 300}));
    must(s.put_user_agent({.uaid = "older", .created_ms = 1, .last_seen_ms = kT0 - 900}));
    must(s.put_user_agent({.uaid = "fresh", .created_ms = 1, .last_seen_ms = kT0}));
    must(s.put_user_agent(
        {.uaid = "R1", .created_ms = 1, .last_seen_ms = kT0 - 900, .kind = AgentKind::receipts}));
    using V = std::vector<std::string>;
    EXPECT_EQ(must(s.idle_user_agents(AgentKind::user_agent, kT0, 10)), (V{"older", "old"}));
    EXPECT_EQ(must(s.idle_user_agents(AgentKind::user_agent, kT0, 1)), (V{"older"}));
    EXPECT_EQ(must(s.idle_user_agents(AgentKind::user_agent, kT0 - 300, 10)), (V{"older"}));
    EXPECT_EQ(must(s.idle_user_agents(AgentKind::receipts, kT0, 10)), (V{"R1"}));
    EXPECT_EQ(must(s.get_user_agent("R1"))->kind, AgentKind::receipts);
    // Seen again: no longer idle, and listed once only.
    must(s.put_user_agent({.uaid = "older", .created_ms = 1, .last_seen_ms = kT0 + 5}));
    EXPECT_EQ(must(s.idle_user_agents(AgentKind::user_agent, kT0, 10)), (V{"old"}));
    EXPECT_EQ(must(s.idle_user_agents(AgentKind::user_agent, kT0 + 10, 10)),
              (V{"old", "fresh", "older"}));
    must(s.delete_user_agent("old"));
    EXPECT_EQ(must(s.idle_user_agents(AgentKind::user_agent, kT0, 10)), V{});
    // A touch moves a user agent in the index, and never brings back a deleted one.
    EXPECT_TRUE(must(s.touch_user_agent("R1", kT0 + 50)));
    EXPECT_EQ(must(s.get_user_agent("R1"))->last_seen_ms, kT0 + 50);
    EXPECT_EQ(must(s.get_user_agent("R1"))->kind, AgentKind::receipts);
    EXPECT_EQ(must(s.idle_user_agents(AgentKind::receipts, kT0 + 50, 10)), V{});
    EXPECT_EQ(must(s.idle_user_agents(AgentKind::receipts, kT0 + 51, 10)), V{"R1"});
    EXPECT_FALSE(must(s.touch_user_agent("old", kT0 + 60)));
    EXPECT_FALSE(must(s.get_user_agent("old")).has_value());
    EXPECT_EQ(must(s.idle_user_agents(AgentKind::user_agent, kT0 + 100, 10)),
              (V{"fresh", "older"}));
}

TYPED_TEST(StoreContract, StatsCountWhatIsStored) {
    Store& s = this->store();
    auto empty = must(s.stats());
    EXPECT_EQ(empty.queued_messages, 0u);
    EXPECT_FALSE(empty.oldest_received_ms.has_value());
    must(s.put_user_agent({.uaid = "ua1"}));
    must(s.put_user_agent({.uaid = "ua2"}));
    must(s.put_user_agent({.uaid = "R1", .kind = AgentKind::receipts}));
    this->add(make_message("m1", "ua1", "s1", 60, "", kT0 + 10));
    this->add(make_message("m2", "ua2", "s2", 60, "", kT0 - 50));
    this->add(make_message("m3", "ua2", "s2", 60, "", kT0));
    auto st = must(s.stats());
    EXPECT_EQ(st.queued_messages, 3u);
    EXPECT_EQ(st.user_agents, 2u);
    EXPECT_EQ(st.receipt_subscriptions, 1u);
    EXPECT_EQ(st.oldest_received_ms, kT0 - 50);
    must(s.delete_message(this->id("m2")));
    st = must(s.stats());
    EXPECT_EQ(st.queued_messages, 2u);
    EXPECT_EQ(st.oldest_received_ms, kT0);
}

TYPED_TEST(StoreContract, QueuedCountsOneUserAgentsMessagesUpToTheLimit) {
    Store& s = this->store();
    EXPECT_EQ(must(s.queued("ua1", 10)), 0u);
    for (int i = 0; i < 5; ++i) this->add(make_message("m" + std::to_string(i), "ua1", "s1"));
    this->add(make_message("other", "ua2", "s2"));
    EXPECT_EQ(must(s.queued("ua1", 10)), 5u);
    EXPECT_EQ(must(s.queued("ua1", 3)), 3u);  // stops counting at the limit
    EXPECT_EQ(must(s.queued("ua2", 10)), 1u);
    EXPECT_TRUE(must(s.delete_message(this->id("m0"))));
    EXPECT_EQ(must(s.queued("ua1", 10)), 4u);
}

// Per-UA queue cap (push.max_queued_per_ua; the API answers 429 + Retry-After, R8030-8.4-b):
// at the cap nothing is written, a Topic
// replacement included, and room made by an ack is usable again.
TYPED_TEST(StoreContract, EnqueueRefusesAFullQueueAndWritesNothing) {
    Store& s = this->store();
    for (int i = 0; i < 3; ++i) {
        MessageRecord m = make_message("m" + std::to_string(i), "ua1", "s1", 600, i ? "" : "t");
        must(this->enqueue(m, 3));
    }
    MessageRecord plain = make_message("over", "ua1", "s1");
    auto refused = this->enqueue(plain, 3);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error(), errc::too_many_requests);
    MessageRecord topic = make_message("replacing", "ua1", "s1", 600, "t");
    ASSERT_FALSE(this->enqueue(topic, 3));
    EXPECT_EQ(this->pending_ids("ua1"), (std::vector<std::string>{"m0", "m1", "m2"}));
    MessageRecord other = make_message("other", "ua2", "s2");
    must(this->enqueue(other, 3));  // another user agent's queue is its own

    EXPECT_TRUE(must(s.delete_message(this->id("m1"))));
    must(this->enqueue(plain, 3));
    EXPECT_EQ(this->pending_ids("ua1"), (std::vector<std::string>{"m0", "m2", "over"}));
    must(this->enqueue(plain = make_message("uncapped", "ua1", "s1")));  // no cap given
    EXPECT_EQ(must(s.queued("ua1", 10)), 4u);
}

}  // namespace
}  // namespace pushsvc::store
