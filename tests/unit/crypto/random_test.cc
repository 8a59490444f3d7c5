#include "pushsvc/crypto/random.h"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace pushsvc::crypto {
namespace {

TEST(RandomBytes, ReturnsRequestedLength) {
    EXPECT_EQ(random_bytes(0).size(), 0u);
    EXPECT_EQ(random_bytes(1).size(), 1u);
    EXPECT_EQ(random_bytes(16).size(), 16u);
    EXPECT_EQ(random_bytes(4096).size(), 4096u);
}

TEST(RandomBytes, AppendAddsThatManyOctetsAfterWhatIsThere) {
    std::string id = "prefix";
    random_append(id, 16);
    ASSERT_EQ(id.size(), 22u);
    EXPECT_EQ(id.substr(0, 6), "prefix");
    std::string other = "prefix";
    random_append(other, 16);
    EXPECT_NE(id, other);
    random_append(id, 4096);  // longer than the per-thread block serves
    EXPECT_EQ(id.size(), 22u + 4096u);
}

// R8030-8.3-b: ids drawn from it must not repeat.
TEST(RandomBytes, NeverRepeatsSixteenByteValues) {
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) EXPECT_TRUE(seen.insert(random_bytes(16)).second);
}

// R8030-8.3-b: ids stay unguessable and unique with per-thread blocks. Small requests come
// from per-thread blocks: threads must not share or repeat them, across
// block refills too (1000 x 16 octets span many 1 KiB blocks).
TEST(RandomBytes, ThreadsNeverRepeatEachOthersValues) {
    std::mutex mu;
    std::set<std::string> seen;
    std::size_t drawn = 0;
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            std::vector<std::string> mine;
            for (int i = 0; i < 1000; ++i) mine.push_back(random_bytes(i % 3 ? 16 : 8));
            std::lock_guard lk(mu);
            for (auto& v : mine) seen.insert(std::move(v));
            drawn += mine.size();
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(seen.size(), drawn);
}

// R8030-8.3-b: a forked child must not hand out the bytes its parent hands out next (the
// parent's block was copied into the child).
TEST(RandomBytes, ForkedChildDrawsOtherValuesThanItsParent) {
    // On a new thread: its first draw fills a fresh block, so the fork surely happens with
    // most of a block left to be (wrongly) shared.
    std::thread([] {
        random_bytes(16);
        int fds[2];
        ASSERT_EQ(pipe(fds), 0);
        const pid_t child = fork();
        ASSERT_GE(child, 0);
        if (child == 0) {
            const std::string v = random_bytes(16);
            _exit(write(fds[1], v.data(), v.size()) == 16 ? 0 : 1);
        }
        close(fds[1]);
        const std::string parent = random_bytes(16);
        std::string from_child(16, '\0');
        ASSERT_EQ(read(fds[0], from_child.data(), 16), 16);
        close(fds[0]);
        int status = 0;
        ASSERT_EQ(waitpid(child, &status, 0), child);
        ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        EXPECT_NE(parent, from_child);
    }).join();
}

}  // namespace
}  // namespace pushsvc::crypto
