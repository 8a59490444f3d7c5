// BodyLog on its own: references, segments, collection, pins, copies (body_log.h).
// RocksStore's use of it is tested in rocks_store_test.cc.

#include "pushsvc/store/body_log.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "tests/unit/store/store_test_support.h"

namespace pushsvc::store {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> append(BodyLog& log, std::vector<std::string_view> bodies) {
    std::vector<std::string> refs;
    BodyLog::Pin pin;
    EXPECT_TRUE(log.append(bodies, refs, pin));
    return refs;
}

std::vector<std::string> segment_files(const std::string& dir) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
}

class BodyLogTest : public ::testing::Test {
  protected:
    testing::TempDir dir_;
    std::string path_ = dir_.path() + "/bodies";
};

TEST_F(BodyLogTest, EveryBodyReadsBackByItsReferenceAcrossReopen) {
    const std::string big(3000, 'x'), other(777, '\xff'), empty;
    std::vector<std::string> refs;
    {
        auto log = BodyLog::open(path_);
        ASSERT_NE(log, nullptr);
        refs = append(*log, {big, empty, other});
        ASSERT_EQ(refs.size(), 3u);
        for (const auto& r : refs) EXPECT_EQ(r.size(), BodyLog::kRefSize);
        EXPECT_EQ(log->read(refs[0]), big);
        EXPECT_EQ(log->read(refs[1]), empty);
        EXPECT_EQ(log->read(refs[2]), other);
        EXPECT_EQ(BodyLog::length_of(refs[2]), 777u);
    }
    auto log = BodyLog::open(path_);
    ASSERT_NE(log, nullptr);
    EXPECT_EQ(log->read(refs[0]), big);
    EXPECT_EQ(log->read(refs[2]), other);
    // A process that opens the log never appends to an earlier segment.
    const auto later = append(*log, {big});
    EXPECT_GT(*BodyLog::segment_of(later[0]), *BodyLog::segment_of(refs[0]));
    EXPECT_EQ(log->read(later[0]), big);
}

TEST_F(BodyLogTest, AChangedOctetOrAMalformedReferenceReadsNothing) {
    auto log = BodyLog::open(path_);
    ASSERT_NE(log, nullptr);
    const std::string body(1000, 'a');
    const auto refs = append(*log, {body});
    ASSERT_EQ(log->read(refs[0]), body);
    {
        const std::string file = path_ + "/" + segment_files(path_).front();
        std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(500);
        f.put('b');
    }
    EXPECT_FALSE(log->read(refs[0]).has_value());
    EXPECT_FALSE(log->read(refs[0].substr(1)).has_value());
    std::string elsewhere = refs[0];
    elsewhere[7] = static_cast<char>(elsewhere[7] + 9);  // another segment
    EXPECT_FALSE(log->read(elsewhere).has_value());
    EXPECT_FALSE(BodyLog::segment_of("short").has_value());
}

TEST_F(BodyLogTest, ASegmentEndsAtItsSizeAndCollectionRemovesOnlySealedUnnamedOnes) {
    auto log = BodyLog::open(path_, 10'000);
    ASSERT_NE(log, nullptr);
    const std::string body(4000, 'z');
    std::vector<std::string> refs;
    for (int i = 0; i < 6; ++i) refs.push_back(append(*log, {body})[0]);  // 2 per segment
    std::set<std::uint64_t> segments;
    for (const auto& r : refs) segments.insert(*BodyLog::segment_of(r));
    ASSERT_EQ(segments.size(), 3u);
    const std::uint64_t first = *segments.begin(), second = *std::next(segments.begin());
    const std::uint64_t active = log->active_segment();
    EXPECT_EQ(active, *segments.rbegin());
    EXPECT_EQ(log->sealed_segments(),
              (std::map<std::uint64_t, std::uint64_t>{{first, 8000}, {second, 8000}}));

    // Named segments stay, the active one stays even unnamed; the rest goes.
    EXPECT_EQ(log->collect({second}, active + 1), 1u);
    EXPECT_FALSE(log->read(refs[0]).has_value());
    EXPECT_EQ(log->read(refs[2]), body);
    EXPECT_EQ(log->read(refs[5]), body);
    EXPECT_EQ(segment_files(path_).size(), 2u);
    // Nothing at or above `below` goes.
    EXPECT_EQ(log->collect({}, second), 0u);
    EXPECT_EQ(log->read(refs[2]), body);
}

// Pages of `file` in the page cache, and how many it has.
std::pair<std::size_t, std::size_t> resident_pages(const std::string& file) {
    const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return {0, 0};
    struct stat st {};
    ::fstat(fd, &st);
    const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    const std::size_t pages = (static_cast<std::size_t>(st.st_size) + page - 1) / page;
    std::size_t resident = 0;
    if (void* m = ::mmap(nullptr, st.st_size, PROT_READ, MAP_SHARED, fd, 0); m != MAP_FAILED) {
        std::vector<unsigned char> in(pages);
        if (::mincore(m, st.st_size, in.data()) == 0)
            for (unsigned char v : in) resident += v & 1;
        ::munmap(m, st.st_size);
    }
    ::close(fd);
    return {resident, pages};
}

TEST_F(BodyLogTest, OlderSealedSegmentsLeaveThePageCacheAndStillRead) {
    struct statfs fs_info {};
    ASSERT_EQ(::statfs(dir_.path().c_str(), &fs_info), 0);
    if (fs_info.f_type == TMPFS_MAGIC) GTEST_SKIP() << "tmpfs pages cannot leave the page cache";
    auto log = BodyLog::open(path_, 64 * 1024, /*synced=*/true);
    ASSERT_NE(log, nullptr);
    const std::string body(16 * 1024, 'q');
    std::vector<std::string> refs;
    // Four bodies per segment; each synced, so that its pages are clean (droppable) when
    // their segment's turn comes.
    const std::size_t segments = BodyLog::kCachedSealed + 3;
    for (std::size_t i = 0; i < segments * 4; ++i) {
        refs.push_back(append(*log, {body})[0]);
        ASSERT_TRUE(log->sync());
    }
    const auto file_of = [&](const std::string& ref) {  // the segment's file: 16 hex digits
        char name[17];
        std::snprintf(name, sizeof name, "%016llx",
                      static_cast<unsigned long long>(*BodyLog::segment_of(ref)));
        for (const auto& file : segment_files(path_))
            if (file.rfind(name, 0) == 0) return path_ + "/" + file;
        return std::string();
    };
    log->settle_advice();  // given on the log's own thread
    const auto oldest = resident_pages(file_of(refs.front()));
    // The newest sealed segment (the one before the active one) is still cached, unless the
    // machine took its pages meanwhile (memory pressure), which says nothing here.
    const auto newest_sealed = resident_pages(file_of(refs[refs.size() - 5]));
    if (newest_sealed.first != newest_sealed.second)
        GTEST_SKIP() << "the page cache does not keep what was written here";
    EXPECT_EQ(oldest.second, 64 * 1024 / static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)))
        << "a full segment";
    EXPECT_EQ(oldest.first, 0u) << "more than kCachedSealed seals ago: dropped";
    EXPECT_EQ(log->read(refs.front()), body) << "read back from the disk";
}

TEST_F(BodyLogTest, SealAndDrainWaitsForAppendsStillPinned) {
    auto log = BodyLog::open(path_);
    ASSERT_NE(log, nullptr);
    const std::string body(300, 'p');
    std::vector<std::string> refs;
    auto pin = std::make_unique<BodyLog::Pin>();
    ASSERT_TRUE(log->append(std::vector<std::string_view>{body}, refs, *pin));
    const std::uint64_t pinned = *BodyLog::segment_of(refs[0]);
    auto sealed = std::async(std::launch::async, [&] { return log->seal_and_drain(); });
    EXPECT_EQ(sealed.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout);
    pin.reset();  // the records naming the body are written
    ASSERT_EQ(sealed.wait_for(std::chrono::seconds(10)), std::future_status::ready);
    EXPECT_GT(sealed.get(), pinned);
    // An empty active segment is not sealed again.
    EXPECT_EQ(log->seal_and_drain(), log->active_segment());
}

TEST_F(BodyLogTest, ACopyHoldsEveryBodyAndAReadOnlyOpenWritesNothing) {
    auto log = BodyLog::open(path_, 5000);
    ASSERT_NE(log, nullptr);
    const std::string a(3000, 'a'), b(3000, 'b');
    const auto ra = append(*log, {a});
    const auto rb = append(*log, {b});  // a second segment, the active one
    const std::string copy = dir_.path() + "/copy";
    ASSERT_EQ(log->copy_to(copy), "");
    const std::string small(100, 's');
    append(*log, {small});  // into the active segment, whose copy does not change with it
    auto ro = BodyLog::open_read_only(copy);
    ASSERT_NE(ro, nullptr);
    EXPECT_EQ(ro->read(ra[0]), a);
    EXPECT_EQ(ro->read(rb[0]), b);
    std::vector<std::string> refs;
    BodyLog::Pin pin;
    EXPECT_FALSE(ro->append(std::vector<std::string_view>{a}, refs, pin));
    EXPECT_EQ(segment_files(copy).size(), 2u);
    EXPECT_EQ(fs::file_size(copy + "/" + segment_files(copy).back()), 3000u);
    EXPECT_NE(BodyLog::open_read_only(dir_.path() + "/none"), nullptr);
    EXPECT_FALSE(fs::exists(dir_.path() + "/none"));
}

}  // namespace
}  // namespace pushsvc::store
