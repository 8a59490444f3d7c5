// app::run_io_threads, the last failure boundary of the network threads: an exception that
// escapes a handler on any thread stops every thread, all are joined, and the caller learns
// what happened (app::run then closes the store and exits non-zero).
#include "pushsvc/app/io_threads.h"

#include <gtest/gtest.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include <latch>
#include <stdexcept>

namespace pushsvc::app {
namespace {

namespace asio = boost::asio;

TEST(RunIoThreads, AnExceptionOnAnotherThreadStopsAndJoinsEveryThread) {
    constexpr int kThreads = 4;
    asio::io_context ioc(kThreads);
    // Keeps run() from returning on its own: only the failure can end it.
    auto work = asio::make_work_guard(ioc);
    std::latch all_busy(kThreads);
    const auto caller = std::this_thread::get_id();
    // One handler per thread, held until every thread runs one (so each thread has one); all
    // but the calling thread's then throw.
    for (int i = 0; i < kThreads; ++i) {
        asio::post(ioc, [&] {
            all_busy.arrive_and_wait();
            if (std::this_thread::get_id() != caller) throw std::runtime_error("injected");
        });
    }
    auto failure = run_io_threads(ioc, kThreads);
    ASSERT_TRUE(failure);
    EXPECT_EQ(*failure, "injected");
    EXPECT_TRUE(ioc.stopped());
}

TEST(RunIoThreads, AnExceptionOnTheCallingThreadIsReturned) {
    asio::io_context ioc(1);
    auto work = asio::make_work_guard(ioc);
    asio::post(ioc, [] { throw 42; });  // not a std::exception either
    auto failure = run_io_threads(ioc, 1);
    ASSERT_TRUE(failure);
    EXPECT_EQ(*failure, "unknown exception");
}

TEST(RunIoThreads, ANormalStopIsNoFailure) {
    asio::io_context ioc(2);
    auto work = asio::make_work_guard(ioc);
    int ran = 0;
    asio::post(ioc, [&] {
        ++ran;
        ioc.stop();
    });
    EXPECT_EQ(run_io_threads(ioc, 2), std::nullopt);
    EXPECT_EQ(ran, 1);
}

}  // namespace
}  // namespace pushsvc::app
