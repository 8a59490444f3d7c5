// Listener: server.reuse_port. With it, two listeners (in pushsvc, two processes) bind one
// address and the kernel spreads new connections over both; without it the second one is
// refused, which is what stops an accidental second process on a port.
#include "pushsvc/net/listener.h"

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace pushsvc::net {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

const tcp::endpoint kAnyLoopbackPort{asio::ip::make_address("127.0.0.1"), 0};

TEST(Listener, WithoutReusePortASecondListenerOnTheAddressIsRefused) {
    asio::io_context ioc;
    auto first = Listener::open(ioc, kAnyLoopbackPort, [](tcp::socket) {});
    ASSERT_TRUE(first.has_value());
    const auto ep = (*first)->local_endpoint();
    auto second = Listener::open(ioc, ep, [](tcp::socket) {});
    ASSERT_FALSE(second.has_value());
    EXPECT_EQ(second.error(), asio::error::address_in_use);
    // Both must ask for sharing: one that does not still cannot join one that does.
    auto sharing = Listener::open(
        ioc, kAnyLoopbackPort, [](tcp::socket) {}, true);
    ASSERT_TRUE(sharing.has_value());
    auto not_sharing = Listener::open(ioc, (*sharing)->local_endpoint(), [](tcp::socket) {});
    EXPECT_FALSE(not_sharing.has_value());
}

TEST(Listener, WithReusePortTwoListenersShareTheAddressAndBothAccept) {
    asio::io_context ioc;
    auto guard = asio::make_work_guard(ioc);
    std::mutex mu;
    std::condition_variable cv;
    std::vector<tcp::socket> accepted[2];  // by listener; they stay open until the end
    auto on_accept = [&](int i) {
        return [&, i](tcp::socket s) {
            std::lock_guard lock(mu);
            accepted[i].push_back(std::move(s));
            cv.notify_all();
        };
    };
    auto a = Listener::open(ioc, kAnyLoopbackPort, on_accept(0), true);
    ASSERT_TRUE(a.has_value());
    auto b = Listener::open(ioc, (*a)->local_endpoint(), on_accept(1), true);
    ASSERT_TRUE(b.has_value()) << b.error().message();
    EXPECT_EQ((*b)->local_endpoint(), (*a)->local_endpoint());
    (*a)->start();
    (*b)->start();
    std::thread runner([&] { ioc.run(); });

    // The kernel picks a listener by a hash of each connection's addresses and ports: with
    // 64 connections from distinct source ports, one listener getting none has odds of 2^-63.
    constexpr std::size_t kConnections = 64;
    asio::io_context client_ioc;
    std::vector<tcp::socket> clients;
    for (std::size_t i = 0; i < kConnections; ++i) {
        clients.emplace_back(client_ioc);
        clients.back().connect((*a)->local_endpoint());
    }
    {
        std::unique_lock lock(mu);
        EXPECT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] {
            return accepted[0].size() + accepted[1].size() == kConnections;
        }));
        EXPECT_GT(accepted[0].size(), 0u);
        EXPECT_GT(accepted[1].size(), 0u);
    }

    (*a)->stop();
    (*b)->stop();
    guard.reset();
    ioc.stop();
    runner.join();
}

}  // namespace
}  // namespace pushsvc::net
