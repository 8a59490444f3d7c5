// The Store contract of enqueue_batch (store.h): the messages of one batch are enqueued as
// enqueue() called for each in order would, a later one seeing the earlier ones (the per-UA
// queue cap counts them, R8030-8.4-b; a Topic replaces an earlier message of the batch, RFC
// 8030 §5.4), each with its own result. Run against every backend like store_contract_test.cc:
// RocksStore writes the batch as one WriteBatch, MemoryStore and PgStore loop over enqueue().

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "tests/unit/store/store_contract.h"

namespace pushsvc::store {
namespace {

using contract::BackendName;
using contract::Backends;
using testing::make_message;
using testing::must;

template <class Backend>
class BatchContract : public contract::StoreContract<Backend> {
  protected:
    // What enqueue_batch answered for one message: "ok", "ok replaced <name>", or the error.
    std::vector<std::string> batch(std::vector<MessageRecord>& msgs,
                                   std::size_t cap = Store::kNoQueueCap) {
        std::vector<std::string> names;
        std::vector<MessageRecord*> ptrs;
        for (auto& m : msgs) {
            names.push_back(m.id);
            ptrs.push_back(&m);
        }
        auto results = this->store().enqueue_batch(ptrs, cap, {});
        EXPECT_EQ(results.size(), msgs.size());
        for (std::size_t i = 0; i < msgs.size(); ++i) {
            if (!results[i]) continue;
            std::lock_guard lk(this->names_mu_);
            this->ids_[names[i]] = msgs[i].id;
            this->names_[msgs[i].id] = names[i];
        }
        std::vector<std::string> out;
        for (auto& r : results) {
            if (!r) {
                out.push_back(r.error() == errc::too_many_requests ? "429" : r.error().message());
            } else if (*r) {
                out.push_back("ok replaced " + this->name_of(**r));
            } else {
                out.push_back("ok");
            }
        }
        return out;
    }
};
TYPED_TEST_SUITE(BatchContract, Backends, BackendName);

using Answers = std::vector<std::string>;

TYPED_TEST(BatchContract, EnqueuesEveryMessageInOrderWithItsOwnResult) {
    std::vector<MessageRecord> msgs{make_message("a", "ua1", "s1"), make_message("b", "ua2", "s2"),
                                    make_message("c", "ua1", "s1")};
    EXPECT_EQ(this->batch(msgs), (Answers{"ok", "ok", "ok"}));
    EXPECT_LT(msgs[0].seq, msgs[1].seq);
    EXPECT_LT(msgs[1].seq, msgs[2].seq);
    EXPECT_EQ(this->pending_ids("ua1"), (Answers{"a", "c"}));
    EXPECT_EQ(this->pending_ids("ua2"), (Answers{"b"}));
    // Each is named by the id the batch left it with, like after enqueue().
    auto got = must(this->store().get_message(this->id("b")));
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->body, "body-b");
    EXPECT_TRUE(must(this->store().delete_message(this->id("c"))));
    EXPECT_EQ(must(this->store().queued("ua1", 10)), 1u);
    // An empty batch writes nothing and answers nothing.
    std::vector<MessageRecord> none;
    EXPECT_TRUE(this->batch(none).empty());
}

// R8030-8.4-b: the cap counts what is queued plus the batch's earlier messages to the queue;
// a refused message writes nothing and the rest of the batch goes on.
TYPED_TEST(BatchContract, QueueCapCountsTheEarlierMessagesOfTheBatch) {
    this->add(make_message("old", "ua1", "s1"));
    std::vector<MessageRecord> msgs{make_message("m1", "ua1", "s1"),
                                    make_message("m2", "ua1", "s1"),
                                    make_message("m3", "ua1", "s1"), make_message("x", "ua2", "s2"),
                                    make_message("m4", "ua1", "s1", 600, "t")};
    EXPECT_EQ(this->batch(msgs, 3), (Answers{"ok", "ok", "429", "ok", "429"}));
    EXPECT_EQ(this->pending_ids("ua1"), (Answers{"old", "m1", "m2"}));
    EXPECT_EQ(this->pending_ids("ua2"), (Answers{"x"}));
    EXPECT_EQ(must(this->store().queued("ua1", 10)), 3u);
    // The count the batch left behind is exact: an ack makes room for exactly one.
    EXPECT_TRUE(must(this->store().delete_message(this->id("m1"))));
    std::vector<MessageRecord> more{make_message("m5", "ua1", "s1"),
                                    make_message("m6", "ua1", "s1")};
    EXPECT_EQ(this->batch(more, 3), (Answers{"ok", "429"}));
    EXPECT_EQ(this->pending_ids("ua1"), (Answers{"old", "m2", "m5"}));
}

// RFC 8030 §5.4 inside one batch: a Topic message replaces the stored one and then an earlier
// message of the same batch, and reports which (R8030-5.4-a, -c).
TYPED_TEST(BatchContract, TopicReplacesAnEarlierMessageOfTheSameBatch) {
    this->add(make_message("A", "ua1", "s1", 600, "t"));
    std::vector<MessageRecord> msgs{
        make_message("B", "ua1", "s1", 600, "t"), make_message("C", "ua1", "s1", 600, "t"),
        make_message("D", "ua1", "s1", 600, "u"), make_message("E", "ua1", "s2", 600, "t"),
        make_message("F", "ua1", "s1")};
    EXPECT_EQ(this->batch(msgs), (Answers{"ok replaced A", "ok replaced B", "ok", "ok", "ok"}));
    EXPECT_EQ(this->pending_ids("ua1"), (Answers{"C", "D", "E", "F"}));
    for (const char* gone : {"A", "B"}) {
        EXPECT_FALSE(must(this->store().get_message(this->id(gone))).has_value()) << gone;
        EXPECT_FALSE(must(this->store().delete_message(this->id(gone)))) << gone;
    }
    EXPECT_EQ(must(this->store().queued("ua1", 10)), 4u);
    // The topic now names the batch's last message with it.
    MessageRecord g = make_message("G", "ua1", "s1", 600, "t");
    EXPECT_EQ(must(this->enqueue(g)), std::optional<std::string>("C"));
    EXPECT_EQ(this->pending_ids("ua1"), (Answers{"D", "E", "F", "G"}));
}

// A Topic replacement counts against the cap too (store.h), also when the message it would
// replace came earlier in the same batch.
TYPED_TEST(BatchContract, ReplacementInsideABatchIsRefusedAtTheCap) {
    std::vector<MessageRecord> msgs{
        make_message("A", "ua1", "s1", 600, "t"), make_message("B", "ua1", "s1", 600, "t"),
        make_message("C", "ua1", "s1"), make_message("D", "ua1", "s1", 600, "t")};
    EXPECT_EQ(this->batch(msgs, 2), (Answers{"ok", "ok replaced A", "ok", "429"}));
    EXPECT_EQ(this->pending_ids("ua1"), (Answers{"B", "C"}));
    EXPECT_EQ(must(this->store().queued("ua1", 10)), 2u);
}

}  // namespace
}  // namespace pushsvc::store
