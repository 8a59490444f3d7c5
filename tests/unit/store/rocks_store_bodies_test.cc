// RocksStore with its body log (body_log.h, rocks_bodies.cc): where bodies go, collection,
// missing bodies, backups, older records, the collector thread. BodyLog alone is tested in
// body_log_test.cc.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <rocksdb/db.h>

#include "pushsvc/store/body_log.h"
#include "pushsvc/store/record_codec.h"
#include "pushsvc/store/rocks_keys.h"
#include "tests/unit/store/rocks_store_fixture.h"

namespace pushsvc::store {
namespace {

using testing::be64;
using testing::kT0;
using testing::make_message;
using testing::make_subscription;
using testing::must;
using testing::name_of;
using testing::RocksStoreTest;

// Message "m<i>" of ua1 with a 3,000-octet body of `fill`, stored and removed at once: it
// leaves a dead body in the log.
void store_and_remove(Store& s, int i, char fill) {
    MessageRecord m = make_message("m" + std::to_string(i), "ua1", "s1");
    m.body = std::string(3000, fill);
    must(s.enqueue(m));
    must(s.delete_message(m.id));
}

// Bodies of kBodyLogMin (256) octets and more are written to the body log once; RocksDB keeps
// the record with a reference. Shorter ones stay in their record.
TEST_F(RocksStoreTest, LargeBodiesGoToTheBodyLogAndSmallOnesStayInTheirRecord) {
    const std::string big(3000, 'B'), small(255, 's');
    std::string big_id, small_id;
    {
        auto s = open();
        ASSERT_NE(s, nullptr);
        MessageRecord a = make_message("big", "ua1", "s1");
        a.body = big;
        MessageRecord b = make_message("small", "ua1", "s1");
        b.body = small;
        must(s->enqueue(a));
        must(s->enqueue(b));
        big_id = a.id;
        small_id = b.id;
        EXPECT_EQ(body_bytes(path_), 3000u);
        auto got = must(s->pending("ua1", kT0, 0, 10));
        ASSERT_EQ(got.size(), 2u);
        EXPECT_EQ(got[0].body, big);
        EXPECT_EQ(got[1].body, small);
        EXPECT_EQ(must(s->get_message(big_id))->body, big);
        // Marking it delivered keeps the reference.
        must(s->mark_delivered(big_id));
        EXPECT_EQ(must(s->get_message(big_id))->body, big);
    }
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::OpenForReadOnly(rocksdb::Options(), path_, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
    int records = 0;
    for (it->Seek(std::string(1, keys::kQueueTag)); it->Valid() && it->key()[0] == keys::kQueueTag;
         it->Next(), ++records) {
        MessageRecord m;
        std::string ref;
        ASSERT_TRUE(codec::decode(it->value().ToString(), m, &ref));
        if (m.id == big_id) {
            EXPECT_EQ(it->value()[0], codec::kMessageBodyRefVersion);
            EXPECT_EQ(ref.size(), BodyLog::kRefSize);
            EXPECT_TRUE(m.delivered);
            EXPECT_LT(it->value().size(), 300u);
        } else {
            EXPECT_EQ(m.id, small_id);
            EXPECT_EQ(ref, "");
            EXPECT_EQ(m.body, small);
        }
    }
    EXPECT_EQ(records, 2);
}

// A collection removes the segments whose bodies all died (ack, expiry, Topic replacement,
// unsubscribe), and moves the few live bodies out of a mostly dead segment so that the next
// one removes it too; every live message still reads back whole.
TEST_F(RocksStoreTest, CollectionGivesBackDeadSegmentsAndMovesTheFewLiveBodies) {
    segment_bytes_ = 15'000;  // five 3,000-octet bodies per segment
    auto s = open();
    ASSERT_NE(s, nullptr);
    must(s->put_subscription(make_subscription("s1", "ua1")));
    must(s->put_subscription(make_subscription("s2", "ua2")));
    std::vector<MessageRecord> msgs;
    for (int i = 0; i < 20; ++i) {
        // ua2's messages 5..9 expire first; 10 and 11 share a topic.
        MessageRecord m = make_message("m" + std::to_string(i), i >= 5 && i < 10 ? "ua2" : "ua1",
                                       i >= 5 && i < 10 ? "s2" : "s1", i >= 5 && i < 10 ? 60 : 600,
                                       i == 10 || i == 11 ? "t" : "");
        m.body = std::string(3000, static_cast<char>('a' + i));
        must(s->enqueue(m));
        msgs.push_back(m);
    }
    // Segments: 0-4, 5-9, 10-14, 15-19 (the active one).
    ASSERT_EQ(body_files(path_).size(), 4u);
    // Segment of 0-4: all but message 2 acked. Segment of 5-9: all expired and swept.
    for (int i : {0, 1, 3, 4}) ASSERT_TRUE(must(s->delete_message(msgs[i].id)).has_value());
    clock_.advance_ms(61'000);
    EXPECT_EQ(must(s->sweep_expired(clock_.now_ms(), 100, nullptr)), 5u);
    // Segment of 10-14: message 11 replaced 10 (same topic), four of five live. The collection
    // seals 15-19 and moves message 2 to the new active segment.
    auto first = must(s->collect_bodies());
    EXPECT_EQ(first.segments_removed, 1u);    // 5-9
    EXPECT_EQ(first.bodies_moved, 1u);        // message 2, alone in 0-4
    EXPECT_EQ(first.live_bytes, 3000u * 10);  // 2, 11-14 and 15-19
    auto second = must(s->collect_bodies());
    EXPECT_EQ(second.segments_removed, 1u);  // 0-4, now named by nothing
    EXPECT_EQ(second.bodies_moved, 0u);
    // What is left: 11-14, 15-19 and the moved 2, each read back whole.
    auto ua1 = must(s->pending("ua1", clock_.now_ms(), 0, 100));
    std::vector<std::string> names;
    for (const auto& m : ua1) {
        names.push_back(name_of(m.id));
        const int i = std::stoi(names.back().substr(1));
        EXPECT_EQ(m.body, std::string(3000, static_cast<char>('a' + i))) << names.back();
    }
    EXPECT_EQ(names, (std::vector<std::string>{"m2", "m11", "m12", "m13", "m14", "m15", "m16",
                                               "m17", "m18", "m19"}));
    EXPECT_EQ(must(s->get_message(msgs[2].id))->body, std::string(3000, 'c'));
    // Every body dead with its user agent: one collection removes every segment but the
    // active one, empty.
    must(s->delete_user_agent("ua1"));
    EXPECT_EQ(must(s->collect_bodies()).segments_removed, 3u);
    EXPECT_EQ(body_bytes(path_), 0u);
    EXPECT_EQ(body_files(path_).size(), 1u);
}

// A record naming a body the log does not hold (a power loss can leave one, for a push never
// answered: see load_body) is skipped; the rest of its queue is still delivered.
TEST_F(RocksStoreTest, AMessageWhoseBodyIsMissingIsSkippedAndTheQueueStillReads) {
    segment_bytes_ = 3000;  // a segment per body
    std::vector<MessageRecord> msgs;
    {
        auto s = open();
        ASSERT_NE(s, nullptr);
        for (int i = 0; i < 3; ++i) {
            MessageRecord m = make_message("m" + std::to_string(i), "ua1", "s1");
            m.body = std::string(3000, static_cast<char>('a' + i));
            must(s->enqueue(m));
            msgs.push_back(m);
        }
    }
    const auto files = body_files(path_);
    ASSERT_EQ(files.size(), 3u);
    std::filesystem::remove(path_ + "/bodies/" + std::next(files.begin())->first);
    auto s = open();
    ASSERT_NE(s, nullptr);
    auto got = must(s->pending("ua1", kT0, 0, 10));
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(name_of(got[0].id), "m0");
    EXPECT_EQ(name_of(got[1].id), "m2");
    EXPECT_EQ(got[1].body, std::string(3000, 'c'));
    EXPECT_FALSE(must(s->get_message(msgs[1].id)).has_value());
    // A page as long as asked for, though one message of its stretch was skipped: a shorter
    // one would tell the delivery window that the queue ends there.
    got = must(s->pending("ua1", kT0, 0, 2));
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(name_of(got[1].id), "m2");
}

// A backup holds the body log, and its verification reads every body a record names.
TEST_F(RocksStoreTest, ABackupCarriesTheBodyLogAndItsVerificationReadsEveryBody) {
    auto s = open();
    ASSERT_NE(s, nullptr);
    for (int i = 0; i < 4; ++i) {
        MessageRecord m = make_message("m" + std::to_string(i), "ua1", "s1");
        m.body = std::string(i % 2 == 0 ? 3000 : 20, 'x');
        must(s->enqueue(m));
    }
    const std::string copy = dir_.path() + "/copy";
    ASSERT_EQ(s->checkpoint(copy), "");
    const auto ok = RocksStore::verify_copy(copy);
    EXPECT_EQ(ok.error, "");
    EXPECT_GT(ok.records, 4u);
    EXPECT_EQ(body_bytes(copy), 6000u);
    std::filesystem::remove_all(copy + "/bodies");
    const auto bad = RocksStore::verify_copy(copy);
    EXPECT_NE(bad.error.find("body log"), std::string::npos) << bad.error;
}

// A store written before the body log (format 3, records with their bodies in them) becomes
// format 4 on open, reads as it did, and collections leave those records alone.
TEST_F(RocksStoreTest, RecordsHoldingTheirOwnBodiesStillReadAndCollectionLeavesThem) {
    const std::string body(3000, 'v');
    MessageRecord old = make_message("old", "ua1", "s1");
    old.body = body;
    {
        auto s = open();
        ASSERT_NE(s, nullptr);
        MessageRecord m = make_message("new", "ua1", "s1");
        m.body = body;
        must(s->enqueue(m));
    }
    {
        // What the version before the body log wrote for a message: the record with the body.
        rocksdb::DB* raw = nullptr;
        ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), path_, &raw).ok());
        std::unique_ptr<rocksdb::DB> db(raw);
        old.seq = 1u << 20;
        ASSERT_EQ(codec::encode(old)[0], 2);  // version 2: the body inline
        ASSERT_TRUE(db->Put({}, keys::queue_key("ua1", old.seq), codec::encode(old)).ok());
        ASSERT_TRUE(db->Put({}, "#format", be64(3)).ok());  // as the version before wrote it
    }
    auto s = open();
    ASSERT_NE(s, nullptr);
    {
        // Opened, it is a format 4 store (an older build now refuses it).
        s.reset();
        rocksdb::DB* raw = nullptr;
        ASSERT_TRUE(rocksdb::DB::OpenForReadOnly(rocksdb::Options(), path_, &raw).ok());
        std::unique_ptr<rocksdb::DB> db(raw);
        std::string format;
        ASSERT_TRUE(db->Get({}, "#format", &format).ok());
        EXPECT_EQ(format, be64(4));
    }
    s = open();
    ASSERT_NE(s, nullptr);
    must(s->collect_bodies());
    must(s->collect_bodies());
    auto got = must(s->pending("ua1", kT0, 0, 10));
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(name_of(got[0].id), "new");
    EXPECT_EQ(got[0].body, body);
    EXPECT_EQ(got[1].id, "old");
    EXPECT_EQ(got[1].body, body);
}

// The store collects its body log on its own thread once something was stored or removed.
TEST_F(RocksStoreTest, TheBodyLogIsCollectedOnItsOwnAfterMessagesDie) {
    segment_bytes_ = 3000;
    auto store = open(false, std::chrono::milliseconds(20));
    ASSERT_NE(store, nullptr);
    auto& s = *store;
    std::vector<MessageRecord> msgs;
    for (int i = 0; i < 3; ++i) {
        MessageRecord m = make_message("m" + std::to_string(i), "ua1", "s1");
        m.body = std::string(3000, 'k');
        must(s.enqueue(m));
        msgs.push_back(m);
    }
    ASSERT_EQ(body_bytes(path_), 9000u);
    // The first collection finds every body live and seals the full active segment (a fourth,
    // empty one starts); then nothing more happens until something is stored or removed.
    eventually([&] { return body_files(path_).size() >= 4; });
    ASSERT_EQ(body_files(path_).size(), 4u);
    EXPECT_EQ(body_bytes(path_), 9000u);
    // Expired and swept: the sweep's removals, like an ack's, make the next interval collect.
    clock_.advance_ms(601'000);
    EXPECT_EQ(must(s.sweep_expired(clock_.now_ms(), 100, nullptr)), 3u);
    eventually([&] { return body_bytes(path_) == 0; });
    EXPECT_EQ(body_bytes(path_), 0u);
}

// What a run left behind (bodies whose messages it deleted, its collector never having run)
// is collected by the next run's first collection, without a push or a removal.
TEST_F(RocksStoreTest, TheFirstCollectionOfARunTakesWhatTheLastRunLeft) {
    segment_bytes_ = 3000;
    {
        auto s = open();  // no collector
        ASSERT_NE(s, nullptr);
        for (int i = 0; i < 3; ++i) {
            store_and_remove(*s, i, 'k');
        }
    }
    ASSERT_EQ(body_bytes(path_), 9000u);
    auto s = open(false, std::chrono::milliseconds(20));
    ASSERT_NE(s, nullptr);
    eventually([&] { return body_bytes(path_) == 0; });
    EXPECT_EQ(body_bytes(path_), 0u);
}

// Pushes in batches (some replacing others of the same batch by Topic) beside collections:
// every message stored and not replaced reads back with its own body.
TEST_F(RocksStoreTest, BatchesBesideCollectionsKeepEveryBodyAndTopicReplacementExact) {
    segment_bytes_ = 64 * 1024;
    auto s = open();
    ASSERT_NE(s, nullptr);
    constexpr int kThreads = 3, kBatches = 60, kPerBatch = 8;
    std::atomic<bool> done{false};
    std::thread collector([&] {
        for (int i = 0; i < 10000 && !done; ++i) {
            auto r = s->collect_bodies();
            if (!r) ADD_FAILURE() << "collection failed";
        }
    });
    std::vector<std::thread> writers;
    for (int t = 0; t < kThreads; ++t) {
        writers.emplace_back([&, t] {
            const std::string ua = "ua" + std::to_string(t);
            for (int b = 0; b < kBatches; ++b) {
                std::vector<MessageRecord> batch;
                for (int i = 0; i < kPerBatch; ++i) {
                    // Messages 0 and 1 of a batch share a topic: 1 replaces 0 in the batch.
                    const std::string name = ua + "-" + std::to_string(b) + "-" + std::to_string(i);
                    MessageRecord m = make_message(name, ua, "s" + std::to_string(t), 600,
                                                   i < 2 ? "t" + std::to_string(b) : "");
                    m.body = std::string(300 + 37 * i, static_cast<char>('a' + (b + i) % 26));
                    batch.push_back(std::move(m));
                }
                std::vector<MessageRecord*> ptrs;
                for (auto& m : batch) ptrs.push_back(&m);
                for (const auto& r : s->enqueue_batch(ptrs, 1'000'000, {}))
                    if (!r) ADD_FAILURE() << r.error().message();
                // Every other batch is acked at once, so that segments die and bodies move.
                if (b % 2 == 1)
                    for (int i = 1; i < kPerBatch; ++i) must(s->delete_message(batch[i].id));
            }
        });
    }
    for (auto& w : writers) w.join();
    done = true;
    collector.join();
    must(s->collect_bodies());
    must(s->collect_bodies());
    for (int t = 0; t < kThreads; ++t) {
        const std::string ua = "ua" + std::to_string(t);
        auto got = must(s->pending(ua, kT0, 0, 10'000));
        ASSERT_EQ(got.size(), std::size_t{kBatches / 2 * (kPerBatch - 1)});
        for (const auto& m : got) {
            const std::string name = name_of(m.id);
            const int b = std::stoi(name.substr(name.find('-') + 1));
            const int i = std::stoi(name.substr(name.rfind('-') + 1));
            EXPECT_EQ(b % 2, 0) << name;
            EXPECT_NE(i, 0) << name << " was replaced in its batch";
            EXPECT_EQ(m.body, std::string(300 + 37 * i, static_cast<char>('a' + (b + i) % 26)))
                << name;
        }
    }
}

// Removed segments leave the disk: no file of the log stays open once collected (an open
// file keeps its blocks after its name goes), with and without `sync`.
TEST_F(RocksStoreTest, CollectedSegmentsAreClosedAndLeaveTheDisk) {
    segment_bytes_ = 3000;  // a segment per body
    for (const bool sync : {false, true}) {
        auto s = open(sync);
        ASSERT_NE(s, nullptr);
        for (int i = 0; i < 40; ++i) {
            store_and_remove(*s, i, 'd');
            must(s->collect_bodies());
        }
        int deleted_open = 0;
        for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
            std::error_code ec;
            const auto target = std::filesystem::read_symlink(e.path(), ec).string();
            if (!ec && target.find("/bodies/") != std::string::npos &&
                target.find("(deleted)") != std::string::npos)
                ++deleted_open;
        }
        EXPECT_EQ(deleted_open, 0) << "sync " << sync;
        EXPECT_LE(body_files(path_).size(), 2u) << "sync " << sync;
    }
}

}  // namespace
}  // namespace pushsvc::store
