// Graceful drain: stop accepting, finish in-flight requests, close idle connections, call
// done; and the hard close after the grace period.
#include "pushsvc/net/server.h"

#include <gtest/gtest.h>

#include <future>

#include "tests/unit/net/test_support.h"

namespace pushsvc::test {
namespace {

TEST(ServerDrain, FinishesInFlightRequestRefusesNewConnectionsAndCallsDone) {
    TestServer ts;
    RawClient idle(ts.port());
    idle.send_slices("GET /first HTTP/1.1\r\nHost: h\r\n\r\n");
    ASSERT_EQ(parse_responses(idle.read_responses(1)).size(), 1u);

    RawClient busy(ts.port());
    busy.send_slices("POST /defer HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhi");
    auto parked = ts.handler().take_deferred();
    ASSERT_TRUE(parked);

    std::promise<void> done;
    ts.server().drain([&] { done.set_value(); });
    auto done_future = done.get_future();

    EXPECT_FALSE(can_connect(ts.port()));  // listener closed before drain() returned
    std::string idle_wire;
    EXPECT_TRUE(idle.read_until_closed(idle_wire));                    // idle keep-alive closed
    EXPECT_EQ(done_future.wait_for(0s), std::future_status::timeout);  // busy still open

    http::Response res;
    res.body = "finished";
    parked->second(std::move(res));
    std::string wire;
    EXPECT_TRUE(busy.read_until_closed(wire));
    auto rs = parse_responses(wire);
    ASSERT_EQ(rs.size(), 1u);
    EXPECT_EQ(rs[0].body, "finished");
    EXPECT_EQ(rs[0].headers["connection"], "close");
    EXPECT_EQ(done_future.wait_for(5s), std::future_status::ready);
}

TEST(ServerDrain, SendsGoawayToHttp2ClientsAndLetsTheirStreamFinish) {
    TestServer ts;
    auto cmd = std::async(std::launch::async, [&] {
        return run_command("nghttp -v http://127.0.0.1:" + std::to_string(ts.port()) + "/defer/h2");
    });
    auto parked = ts.handler().take_deferred();
    ASSERT_TRUE(parked);
    std::promise<void> done;
    ts.server().drain([&] { done.set_value(); });
    http::Response res;
    res.body = "h2-finished";
    parked->second(std::move(res));
    auto r = cmd.get();
    EXPECT_NE(r.output.find("GOAWAY"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("h2-finished"), std::string::npos);
    EXPECT_EQ(done.get_future().wait_for(5s), std::future_status::ready);
}

TEST(ServerDrain, ClosesStragglersHardAfterTheGracePeriod) {
    auto cfg = TestServer::default_config();
    cfg.limits.shutdown_grace_ms = 100;
    TestServer ts(cfg);
    RawClient busy(ts.port());
    busy.send_slices("GET /defer HTTP/1.1\r\nHost: h\r\n\r\n");
    auto parked = ts.handler().take_deferred();  // never answered
    ASSERT_TRUE(parked);
    std::promise<void> done;
    ts.server().drain([&] { done.set_value(); });
    EXPECT_EQ(done.get_future().wait_for(5s), std::future_status::ready);
    std::string wire;
    EXPECT_TRUE(busy.read_until_closed(wire));
    EXPECT_TRUE(wire.empty());
}

TEST(ServerDrain, CallsDoneAtOnceWithoutConnections) {
    TestServer ts;
    std::promise<void> done;
    ts.server().drain([&] { done.set_value(); });
    EXPECT_EQ(done.get_future().wait_for(5s), std::future_status::ready);
}

}  // namespace
}  // namespace pushsvc::test
