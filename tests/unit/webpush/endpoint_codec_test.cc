#include "pushsvc/webpush/endpoint_codec.h"

#include <gtest/gtest.h>

#include <set>

#include "pushsvc/base/base64url.h"

namespace pushsvc::webpush {
namespace {

const std::string kKeyA(32, 'A');
const std::string kKeyB(32, 'B');

TEST(EndpointCodec, RoundTripsUnrestrictedAndRestrictedTokens) {
    EndpointCodec codec({kKeyA});
    EndpointToken plain{std::string(16, '\x01'), ""};
    EndpointToken restricted{std::string(16, '\x02'), std::string(32, '\x03')};
    for (const auto& t : {plain, restricted}) {
        auto back = codec.decode(codec.encode(t));
        ASSERT_TRUE(back);
        EXPECT_EQ(back->subscription_id, t.subscription_id);
        EXPECT_EQ(back->key_hash, t.key_hash);
    }
}

TEST(EndpointCodec, OneSubscriptionHasOneEndpoint_R8030_6_c) {
    EndpointCodec codec({kKeyA});
    EXPECT_EQ(codec.encode({std::string(16, '\x01'), ""}),
              codec.encode({std::string(16, '\x01'), ""}));
}

TEST(EndpointCodec, TokensOfDifferentSubscriptionsShareNothing_R8030_8_2_a) {
    EndpointCodec codec({kKeyA});
    std::string a = codec.encode({std::string(16, '\x01'), ""});
    std::string b = codec.encode({std::string(15, '\x01') + "\x02", ""});
    ASSERT_EQ(a.size(), b.size());
    std::size_t same = 0;
    for (std::size_t i = 0; i < a.size(); ++i) same += a[i] == b[i];
    EXPECT_LT(same, a.size() / 4);  // ~1/64 per character by chance
}

TEST(EndpointCodec, RejectsEveryTamperedByte) {
    EndpointCodec codec({kKeyA});
    auto raw = *base::base64url_decode(codec.encode({std::string(16, '\x07'), ""}));
    for (std::size_t i = 0; i < raw.size(); ++i) {
        std::string bad = raw;
        bad[i] ^= 0x01;
        EXPECT_EQ(to_errc(codec.decode(base::base64url_encode(bad)).error()), errc::token_invalid)
            << i;
    }
}

TEST(EndpointCodec, RejectsGarbageTruncationAndForeignKeys) {
    EndpointCodec codec({kKeyA});
    EndpointCodec other({kKeyB});
    std::string token = codec.encode({std::string(16, '\x07'), ""});
    for (std::string bad : {std::string(), std::string("!!"), token.substr(0, token.size() - 4),
                            token + "AA", std::string(400, 'A'), other.encode({"x", ""})})
        EXPECT_FALSE(codec.decode(bad)) << bad;
}

TEST(EndpointCodec, DecodesTokensOfEveryConfiguredKeySoKeysCanRotate) {
    EndpointCodec old_codec({kKeyA});
    EndpointCodec rotated({kKeyB, kKeyA});
    auto from_old = rotated.decode(old_codec.encode({std::string(16, '\x09'), ""}));
    ASSERT_TRUE(from_old);
    EXPECT_EQ(from_old->subscription_id, std::string(16, '\x09'));
    // New tokens use the first key: the old-only codec cannot read them.
    EXPECT_FALSE(old_codec.decode(rotated.encode({std::string(16, '\x09'), ""})));
}

TEST(EndpointCodec, RefusesEmptyOrWrongSizeKeysAtStartup) {
    EXPECT_THROW(EndpointCodec({}), std::invalid_argument);
    EXPECT_THROW(EndpointCodec({std::string(16, 'k')}), std::invalid_argument);
}

}  // namespace
}  // namespace pushsvc::webpush
