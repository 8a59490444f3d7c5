// RocksStore-only behaviour: persistence across reopen, format migrations, sync mode,
// crashes, open failures. The body log: rocks_store_bodies_test.cc; the shared contract:
// store_contract_test.cc.

#include "pushsvc/store/rocks_store.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include <rocksdb/db.h>

#include "pushsvc/base/clock.h"
#include "pushsvc/crypto/aes_block.h"
#include "pushsvc/store/record_codec.h"
#include "pushsvc/store/rocks_keys.h"
#include "tests/unit/store/rocks_store_fixture.h"
#include "tests/unit/store/store_test_support.h"

namespace pushsvc::store {
namespace {

using testing::be64;
using testing::kT0;
using testing::make_message;
using testing::make_subscription;
using testing::must;
using testing::name_of;
using testing::RocksStoreTest;

TEST_F(RocksStoreTest, ReopenKeepsEverythingAndSeqKeepsIncreasing) {
    std::uint64_t last_seq = 0;
    std::map<std::string, std::string> ids;  // name -> stored id
    {
        auto s = open();
        ASSERT_NE(s, nullptr);
        must(s->put_user_agent({.uaid = "ua1", .created_ms = kT0}));
        must(s->put_subscription(make_subscription("s1", "ua1")));
        for (const char* id : {"m1", "m2", "m3"}) {
            MessageRecord m =
                make_message(id, "ua1", "s1", 600, id == std::string("m3") ? "t" : "");
            must(s->enqueue(m));
            last_seq = m.seq;
            ids[id] = m.id;
        }
        EXPECT_TRUE(must(s->delete_message(ids["m2"])));
        must(s->mark_delivered(ids["m1"]));
    }
    for (int round = 0; round < 3; ++round) {
        auto s = open();
        ASSERT_NE(s, nullptr);
        EXPECT_TRUE(must(s->get_user_agent("ua1")).has_value());
        EXPECT_EQ(must(s->subscriptions_of("ua1")).size(), 1u);
        MessageRecord m = make_message("n" + std::to_string(round), "ua1", "s1");
        must(s->enqueue(m));
        EXPECT_GT(m.seq, last_seq) << "round " << round;
        last_seq = m.seq;
    }
    auto s = open();
    ASSERT_NE(s, nullptr);
    std::vector<std::string> names;
    for (const auto& m : must(s->pending("ua1", kT0, 0, 100))) names.push_back(name_of(m.id));
    EXPECT_EQ(names, (std::vector<std::string>{"m1", "m3", "n0", "n1", "n2"}));
    EXPECT_FALSE(must(s->get_message(ids["m2"])).has_value());
    EXPECT_TRUE(must(s->get_message(ids["m1"]))->delivered);
    EXPECT_FALSE(must(s->get_message(ids["m3"]))->delivered);
    // The topic index survived: m3 is still replaceable (R8030-5.4-a).
    MessageRecord r = make_message("m3b", "ua1", "s1", 600, "t");
    EXPECT_EQ(must(s->enqueue(r)), std::optional<std::string>(ids["m3"]));
}

TEST_F(RocksStoreTest, SweptMessagesStayGoneAfterReopen) {
    {
        auto s = open();
        ASSERT_NE(s, nullptr);
        MessageRecord m = make_message("m1", "ua1", "s1", 1);
        must(s->enqueue(m));
        EXPECT_EQ(must(s->sweep_expired(kT0 + 1000, 100, nullptr)), 1u);
    }
    auto s = open();
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(must(s->sweep_expired(kT0 + 1000, 100, nullptr)), 0u);
    EXPECT_TRUE(must(s->pending("ua1", kT0, 0, 10)).empty());
}

// A store written by format 1 (before the last-seen index) is migrated on open, not refused:
// its user agents become collectable by kind (receipt subscriptions were 'R' + 16 bytes), its
// subscriptions (which stored a set_id) still read, and its messages (expiry values without
// received_ms) still expire and count.
TEST_F(RocksStoreTest, FormatOneStoreIsMigratedOnOpen) {
    const std::string receipts = "R" + std::string(16, 'r');
    const std::string qkey = keys::queue_key("ua1", 7);
    {
        rocksdb::Options o;
        o.create_if_missing = true;
        std::filesystem::create_directories(path_);
        rocksdb::DB* raw = nullptr;
        ASSERT_TRUE(rocksdb::DB::Open(o, path_, &raw).ok());
        std::unique_ptr<rocksdb::DB> db(raw);
        auto be64 = [](std::uint64_t v) {
            std::string out;
            codec::append_be64(out, v);
            return out;
        };
        auto ua_v1 = [&](const std::string& uaid, base::UnixMs seen) {
            std::string v(1, '\x01');
            codec::append_lp(v, uaid);
            return v + be64(kT0) + be64(std::uint64_t(seen));
        };
        std::string sub_v1(1, '\x01');
        for (const char* f : {"s1", "ua1", "chan", "", "set-1"}) codec::append_lp(sub_v1, f);
        sub_v1 += be64(kT0);
        MessageRecord m = make_message("m1", "ua1", "s1", 60, "", kT0 - 500);
        m.seq = 7;
        rocksdb::WriteOptions wo;
        ASSERT_TRUE(db->Put(wo, "#format", be64(1)).ok());
        ASSERT_TRUE(db->Put(wo, "#seq", be64(1u << 16)).ok());
        ASSERT_TRUE(db->Put(wo, keys::tagged('u', "ua1"), ua_v1("ua1", kT0 - 100)).ok());
        ASSERT_TRUE(db->Put(wo, keys::tagged('u', receipts), ua_v1(receipts, kT0 - 200)).ok());
        ASSERT_TRUE(db->Put(wo, keys::tagged('s', "s1"), sub_v1).ok());
        ASSERT_TRUE(db->Put(wo, keys::lp_key('i', "ua1") + "s1", "").ok());
        ASSERT_TRUE(db->Put(wo, qkey, codec::encode(m)).ok());
        ASSERT_TRUE(db->Put(wo, keys::tagged('m', "m1"), qkey).ok());
        ASSERT_TRUE(db->Put(wo, keys::expiry_key(m.expires_ms, 7), qkey).ok());
    }
    auto s = open();
    ASSERT_NE(s, nullptr);
    using V = std::vector<std::string>;
    // Idleness counts from the upgrade: format 1 never recorded sets or receipt
    // subscriptions as seen, so their old times say nothing.
    EXPECT_EQ(must(s->idle_user_agents(AgentKind::user_agent, kT0, 10)), V{});
    EXPECT_EQ(must(s->idle_user_agents(AgentKind::user_agent, kT0 + 1, 10)), V{"ua1"});
    EXPECT_EQ(must(s->idle_user_agents(AgentKind::receipts, kT0 + 1, 10)), V{receipts});
    EXPECT_EQ(must(s->get_user_agent("ua1"))->last_seen_ms, kT0);
    auto sub = must(s->get_subscription("s1"));
    ASSERT_TRUE(sub.has_value());
    EXPECT_EQ(sub->channel_id, "chan");
    EXPECT_EQ(sub->created_ms, kT0);
    auto st = must(s->stats());
    EXPECT_EQ(st.queued_messages, 1u);
    EXPECT_EQ(st.oldest_received_ms, kT0 - 500);
    EXPECT_EQ(st.receipt_subscriptions, 1u);
    EXPECT_GT(st.disk_bytes, 0u);
    EXPECT_EQ(must(s->next_expiry()), kT0 + 59'500);
    EXPECT_EQ(must(s->get_message("m1"))->seq, 7u);  // its id, handed out then, still works
    EXPECT_EQ(must(s->sweep_expired(kT0 + 60'000, 10, nullptr)), 1u);
    EXPECT_FALSE(must(s->get_message("m1")).has_value());
    s.reset();
    // Reopening a migrated store changes nothing.
    s = open();
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(must(s->idle_user_agents(AgentKind::receipts, kT0 + 1, 10)), V{receipts});
}

// Keys per table in the database at `path` (the store must be closed).
std::map<char, int> count_tables(const std::string& path) {
    std::map<char, int> n;
    rocksdb::DB* raw = nullptr;
    if (!rocksdb::DB::OpenForReadOnly(rocksdb::Options(), path, &raw).ok()) {
        ADD_FAILURE() << "cannot open " << path;
        return n;
    }
    std::unique_ptr<rocksdb::DB> db(raw);
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
    for (it->SeekToFirst(); it->Valid(); it->Next()) ++n[it->key()[0]];
    return n;
}

// The database at `path` (the store must be closed), read-only.
std::unique_ptr<rocksdb::DB> open_raw(const std::string& path) {
    rocksdb::DB* raw = nullptr;
    if (!rocksdb::DB::OpenForReadOnly(rocksdb::Options(), path, &raw).ok()) {
        ADD_FAILURE() << "cannot open " << path;
        return nullptr;
    }
    return std::unique_ptr<rocksdb::DB>(raw);
}

// Format 3: a message is its queue entry and its expiry entry (and its topic entry): no index
// of ids. The id ends with the locator (be64(expires^2^63) be64(seq), its expiry key's tail)
// encrypted under the store's id key.
TEST_F(RocksStoreTest, AMessageWritesNoIdIndex) {
    MessageRecord a = make_message("a", "ua1", "s1");
    MessageRecord b = make_message("b", "ua1", "s1", 60, "t");
    {
        auto s = open();
        ASSERT_NE(s, nullptr);
        must(s->enqueue(a));
        must(s->enqueue(b));
        EXPECT_TRUE(must(s->get_message(b.id)).has_value());
        EXPECT_FALSE(must(s->get_message("b")).has_value());  // the caller's part alone
    }
    auto n = count_tables(path_);
    EXPECT_EQ(n['q'], 2);
    EXPECT_EQ(n['x'], 2);
    EXPECT_EQ(n['t'], 1);
    EXPECT_EQ(n['m'], 0);
    auto db = open_raw(path_);
    ASSERT_NE(db, nullptr);
    std::string key;
    ASSERT_TRUE(db->Get(rocksdb::ReadOptions(), "#idkey", &key).ok());
    ASSERT_EQ(key.size(), 16u);
    const crypto::AesBlockKey cipher(key);
    for (const MessageRecord* m : {&a, &b}) {
        ASSERT_EQ(m->id.size(), 1 + keys::kLocatorSize);
        std::string plain(keys::kLocatorSize, '\0');
        cipher.decrypt(std::span<const char, 16>(m->id.data() + 1, 16),
                       std::span<char, 16>(plain.data(), 16));
        EXPECT_EQ(plain, keys::id_locator(m->expires_ms, m->seq));
    }
}

// RFC 8030 §8.2: message URIs of different subscriptions cannot be linked. Messages stored
// together (one expiry, consecutive seqs) get id suffixes that share no run of 6 octets.
TEST_F(RocksStoreTest, IdsOfMessagesStoredTogetherShareNothing) {
    auto s = open();
    ASSERT_NE(s, nullptr);
    std::vector<std::string> tails;
    for (int i = 0; i < 40; ++i) {
        MessageRecord m = make_message(std::string(16, 'r'), "ua" + std::to_string(i), "s");
        must(s->enqueue(m));
        tails.push_back(m.id.substr(16));
    }
    for (std::size_t i = 0; i < tails.size(); ++i)
        for (std::size_t j = i + 1; j < tails.size(); ++j)
            for (std::size_t k = 0; k + 6 <= tails[i].size(); ++k)
                EXPECT_EQ(tails[j].find(tails[i].substr(k, 6)), std::string::npos) << i << j;
}

// A store written by format 2 (every message indexed by its random id, 'm' id -> queue key)
// is migrated on open, not refused: its messages keep the ids they were handed out with
// (application servers hold their URLs, browsers ack their versions), and every operation
// finds them; removing one removes its index entry too; new messages get none.
TEST_F(RocksStoreTest, FormatTwoStoreIsMigratedOnOpen) {
    const std::string l1 = "legacy-message-1", l2 = "legacy-message-2", l3 = "legacy-message-3";
    {
        rocksdb::Options o;
        o.create_if_missing = true;
        std::filesystem::create_directories(path_);
        rocksdb::DB* raw = nullptr;
        ASSERT_TRUE(rocksdb::DB::Open(o, path_, &raw).ok());
        std::unique_ptr<rocksdb::DB> db(raw);
        rocksdb::WriteOptions wo;
        ASSERT_TRUE(db->Put(wo, "#format", be64(2)).ok());
        ASSERT_TRUE(db->Put(wo, "#seq", be64(1u << 16)).ok());
        const UserAgentRecord ua{.uaid = "ua1", .created_ms = kT0, .last_seen_ms = kT0};
        ASSERT_TRUE(db->Put(wo, keys::tagged('u', "ua1"), codec::encode(ua)).ok());
        ASSERT_TRUE(db->Put(wo, keys::seen_key(0, kT0, "ua1"), "").ok());
        ASSERT_TRUE(
            db->Put(wo, keys::tagged('s', "s1"), codec::encode(make_subscription("s1", "ua1")))
                .ok());
        ASSERT_TRUE(db->Put(wo, keys::lp_key('i', "ua1") + "s1", "").ok());
        // What format 2's enqueue wrote for each message.
        auto put_v2 = [&](MessageRecord m, std::uint64_t seq) {
            m.seq = seq;
            const std::string qkey = keys::queue_key(m.uaid, seq);
            ASSERT_TRUE(db->Put(wo, qkey, codec::encode(m)).ok());
            ASSERT_TRUE(db->Put(wo, keys::tagged('m', m.id), qkey).ok());
            ASSERT_TRUE(db->Put(wo, keys::expiry_key(m.expires_ms, seq),
                                keys::expiry_value(qkey, m.received_ms, m.id, m.subscription_id,
                                                   m.topic, m.receipt_id))
                            .ok());
            if (!m.topic.empty()) {
                ASSERT_TRUE(db->Put(wo, keys::topic_key(m.subscription_id, m.topic), m.id).ok());
            }
        };
        put_v2(make_message(l1, "ua1", "s1"), 1);
        put_v2(make_message(l2, "ua1", "s1", 600, "t"), 2);
        MessageRecord l3m = make_message(l3, "ua1", "s1", 1);
        l3m.receipt_id = "rcpt";
        put_v2(l3m, 3);
    }
    MessageRecord n1 = make_message("new-1", "ua1", "s1");
    MessageRecord n2 = make_message("new-2", "ua1", "s1", 600, "t");
    {
        auto s = open();
        ASSERT_NE(s, nullptr);
        std::vector<std::string> ids;
        for (const auto& m : must(s->pending("ua1", kT0, 0, 10))) ids.push_back(m.id);
        EXPECT_EQ(ids, (std::vector<std::string>{l1, l2, l3}));
        EXPECT_EQ(must(s->queued("ua1", 10)), 3u);
        must(s->mark_delivered(l1));
        EXPECT_TRUE(must(s->get_message(l1))->delivered);
        must(s->enqueue(n1));
        // Topic replacement finds the old message through its old id (R8030-5.4-a).
        EXPECT_EQ(must(s->enqueue(n2)), std::optional<std::string>(l2));
        EXPECT_FALSE(must(s->get_message(l2)).has_value());
        auto acked = must(s->delete_message(l1));  // exactly one, once
        ASSERT_TRUE(acked.has_value());
        EXPECT_EQ(acked->id, l1);
        EXPECT_FALSE(must(s->delete_message(l1)).has_value());
        std::vector<MessageRecord> receipts;
        EXPECT_EQ(must(s->sweep_expired(kT0 + 1000, 10, &receipts)), 1u);
        ASSERT_EQ(receipts.size(), 1u);
        EXPECT_EQ(receipts[0].id, l3);
        EXPECT_EQ(receipts[0].receipt_id, "rcpt");
        EXPECT_FALSE(must(s->get_message(l3)).has_value());
        ids.clear();
        for (const auto& m : must(s->pending("ua1", kT0, 0, 10))) ids.push_back(m.id);
        EXPECT_EQ(ids, (std::vector<std::string>{n1.id, n2.id}));
        EXPECT_EQ(must(s->queued("ua1", 10)), 2u);
    }
    // Every legacy index entry went with its message; the format says 4.
    auto n = count_tables(path_);
    EXPECT_EQ(n['m'], 0);
    EXPECT_EQ(n['q'], 2);
    EXPECT_EQ(n['x'], 2);
    EXPECT_EQ(n['t'], 1);
    {
        auto db = open_raw(path_);
        ASSERT_NE(db, nullptr);
        std::string format, key;
        ASSERT_TRUE(db->Get(rocksdb::ReadOptions(), "#format", &format).ok());
        EXPECT_EQ(format, be64(4));
        ASSERT_TRUE(db->Get(rocksdb::ReadOptions(), "#idkey", &key).ok());
        EXPECT_EQ(key.size(), 16u);
    }
    // Reopening the migrated store changes nothing.
    auto s = open();
    ASSERT_NE(s, nullptr);
    EXPECT_TRUE(must(s->get_message(n1.id)).has_value());
    EXPECT_TRUE(must(s->delete_message(n2.id)).has_value());
    EXPECT_EQ(must(s->queued("ua1", 10)), 1u);
}

// A store of a newer format than this build knows is refused, not guessed at.
TEST_F(RocksStoreTest, UnknownFormatIsRefused) {
    {
        rocksdb::Options o;
        o.create_if_missing = true;
        std::filesystem::create_directories(path_);
        rocksdb::DB* raw = nullptr;
        ASSERT_TRUE(rocksdb::DB::Open(o, path_, &raw).ok());
        std::unique_ptr<rocksdb::DB> db(raw);
        ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), "#format", be64(5)).ok());
    }
    auto r = RocksStore::open(path_, RocksOptions{.clock = &clock_});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), make_error_code(errc::store_failure));
}

TEST_F(RocksStoreTest, SyncModeWritesReadBackFromConcurrentWriters) {
    {
        auto s = open(/*sync=*/true);
        ASSERT_NE(s, nullptr);
        must(s->put_user_agent({.uaid = "ua1"}));
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t) {
            threads.emplace_back([&s, t] {
                for (int i = 0; i < 20; ++i) {
                    MessageRecord m =
                        make_message("m" + std::to_string(t) + "-" + std::to_string(i),
                                     "ua" + std::to_string(t), "s" + std::to_string(t), 600, "t");
                    m.body = std::string(1000 + i, static_cast<char>('a' + t));  // in the log
                    must(s->enqueue(m));
                }
            });
        }
        for (auto& th : threads) th.join();
        auto ua0 = must(s->pending("ua0", kT0, 0, 100));
        ASSERT_EQ(ua0.size(), 1u);
        EXPECT_TRUE(must(s->delete_message(ua0[0].id)));
    }
    auto s = open(/*sync=*/true);
    ASSERT_NE(s, nullptr);
    EXPECT_TRUE(must(s->get_user_agent("ua1")).has_value());
    for (int t = 1; t < 4; ++t) {
        auto left = must(s->pending("ua" + std::to_string(t), kT0, 0, 100));
        ASSERT_EQ(left.size(), 1u);
        EXPECT_EQ(name_of(left[0].id), "m" + std::to_string(t) + "-19");
        EXPECT_EQ(left[0].body, std::string(1019, static_cast<char>('a' + t)));
    }
    EXPECT_TRUE(must(s->pending("ua0", kT0, 0, 100)).empty());
}

constexpr int kChildMessages = 50;
std::string child_body(int i) {
    return std::string(i % 2 == 0 ? 3000 : 10, static_cast<char>('a' + i % 26));
}
constexpr const char* kChildDbEnv = "PUSHSVC_STORE_TEST_CHILD_DB";

// Runs only inside the child process started by ReturnedWritesSurviveKillMinus9WithoutSync:
// writes, then dies by SIGKILL without closing the database.
TEST(RocksStoreChild, WritesThenIsKilled) {
    const char* path = std::getenv(kChildDbEnv);
    if (path == nullptr) GTEST_SKIP() << "helper for the kill -9 test";
    auto r = RocksStore::open(path, RocksOptions{});
    if (!r) ::_exit(2);
    for (int i = 0; i < kChildMessages; ++i) {
        MessageRecord m = make_message("m" + std::to_string(i), "ua1", "s1");
        m.body = child_body(i);  // every other one in the body log
        if (!(*r)->enqueue(m)) ::_exit(3);
    }
    ::raise(SIGKILL);
    ::_exit(4);
}

// docs/architecture.md, Durability: a returned enqueue is in the WAL and survives kill -9 without
// sync. The child is a fresh exec of this binary (no RocksDB threads inherited by fork).
TEST_F(RocksStoreTest, ReturnedWritesSurviveKillMinus9WithoutSync) {
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        ::setenv(kChildDbEnv, path_.c_str(), 1);
        ::execl("/proc/self/exe", "unit_store", "--gtest_filter=RocksStoreChild.*",
                static_cast<char*>(nullptr));
        ::_exit(5);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exit status " << WEXITSTATUS(status);
    EXPECT_EQ(WTERMSIG(status), SIGKILL);

    auto s = open();
    ASSERT_NE(s, nullptr);
    auto left = must(s->pending("ua1", kT0, 0, 1000));
    ASSERT_EQ(left.size(), std::size_t{kChildMessages});
    for (int i = 0; i < kChildMessages; ++i) {
        EXPECT_EQ(name_of(left[i].id), "m" + std::to_string(i));
        EXPECT_EQ(left[i].body, child_body(i)) << i;
    }
    MessageRecord next = make_message("after", "ua1", "s1");
    must(s->enqueue(next));
    EXPECT_GT(next.seq, left.back().seq);
}

TEST_F(RocksStoreTest, OpenFailsWithStoreFailureWhenPathIsAFile) {
    const std::string file = dir_.path() + "/not-a-dir";
    std::ofstream(file) << "x";
    auto r = RocksStore::open(file, RocksOptions{});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), make_error_code(errc::store_failure));
}

TEST_F(RocksStoreTest, SecondOpenOfSameDatabaseFailsWhileFirstIsOpen) {
    auto first = open();
    ASSERT_NE(first, nullptr);
    auto second = RocksStore::open(path_, RocksOptions{});
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error(), make_error_code(errc::store_failure));
}

}  // namespace
}  // namespace pushsvc::store
