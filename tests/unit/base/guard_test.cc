// base::guard, the wrapper every posted handler goes through: exceptions become on_error
// calls, results pass through, and the handler's associated executor survives the wrapping
// (a handler bound to a strand must still run on that strand).
#include "pushsvc/base/guard.h"

#include <gtest/gtest.h>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include <stdexcept>
#include <string>
#include <vector>

namespace pushsvc::base {
namespace {

namespace asio = boost::asio;

TEST(Guard, AnExceptionBecomesOnErrorWithItsText) {
    std::vector<std::string> errors;
    auto on_error = [&](const std::string& what) { errors.push_back(what); };
    guard([] { throw std::runtime_error("boom"); }, on_error)();
    guard([] { throw 7; }, on_error)();
    EXPECT_EQ(errors, (std::vector<std::string>{"boom", "unknown exception"}));
}

TEST(Guard, ArgumentsReachTheHandlerAndNoErrorIsReportedWhenItReturns) {
    int got = 0;
    bool failed = false;
    auto g = guard([&](int a, int b) { got = a + b; }, [&](const std::string&) { failed = true; });
    g(2, 3);
    EXPECT_EQ(got, 5);
    EXPECT_FALSE(failed);
}

TEST(Guard, KeepsTheAssociatedExecutorOfTheHandler) {
    asio::io_context ioc;
    auto strand = asio::make_strand(ioc);
    bool on_strand = false;
    auto bound = asio::bind_executor(strand, [&] { on_strand = strand.running_in_this_thread(); });
    auto g = guard(std::move(bound), [](const std::string&) {});
    EXPECT_TRUE(asio::get_associated_executor(g, ioc.get_executor()) == strand);
    asio::post(ioc, std::move(g));
    ioc.run();
    EXPECT_TRUE(on_strand);
}

}  // namespace
}  // namespace pushsvc::base
