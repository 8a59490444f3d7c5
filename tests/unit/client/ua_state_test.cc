#include "tools/client/ua_state.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tools/client/crypto.h"

namespace webpush_client {
namespace {

TEST(UaState, RoundTripsThroughAFileWithMode0600) {
    UaState s;
    s.uaid = "abc";
    s.server = "ws://127.0.0.1:1/";
    s.channels.push_back(
        UaChannel{"c1", "http://x/push/c1", "", "BKEY", UserAgentKeys::generate()});
    s.channels.push_back(
        UaChannel{"", "https://x/p/2", "https://x/s/2", "", UserAgentKeys::generate()});
    std::string path = ::testing::TempDir() + "/ua_state_" + std::to_string(::getpid()) + ".json";
    ASSERT_TRUE(s.save(path));
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    auto back = UaState::load(path).value();
    ::unlink(path.c_str());
    EXPECT_EQ(back.uaid, "abc");
    ASSERT_EQ(back.channels.size(), 2u);
    EXPECT_EQ(back.find("c1")->app_server_key, "BKEY");
    EXPECT_EQ(back.channels[1].subscription_url, "https://x/s/2");
    EXPECT_EQ(back.channels[0].keys.key().private_bytes(),
              s.channels[0].keys.key().private_bytes());
    EXPECT_EQ(back.channels[0].keys.auth(), s.channels[0].keys.auth());
    EXPECT_EQ(back.channels[0].subscription().to_json(), s.channels[0].subscription().to_json());
}

TEST(UaState, RejectsMalformedFiles) {
    EXPECT_FALSE(UaState::from_json("[]"));
    EXPECT_FALSE(UaState::from_json(R"({"channels":[{"endpoint":"x"}]})"));
    EXPECT_FALSE(UaState::load("/nonexistent/state.json"));
}

}  // namespace
}  // namespace webpush_client
