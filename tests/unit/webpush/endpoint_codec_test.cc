#include "pushsvc/webpush/endpoint_codec.h"

#include <gtest/gtest.h>

#include <set>

#include "pushsvc/base/base64url.h"
#include "pushsvc/crypto/aes_gcm.h"
#include "pushsvc/crypto/hash.h"

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

// A token minted by the v1 codec (before issue 14): version 1, the key hash present only when
// restricted. Written out here rather than through the codec so the test keeps checking the
// format that is out in the world.
std::string mint_v1(const std::string& key, const std::string& id, const std::string& hash) {
    std::string plain;
    plain.push_back(1);
    plain.push_back(static_cast<char>(id.size()));
    plain += id;
    plain += hash;
    std::string iv = crypto::hmac_sha256(key, plain).substr(0, 12);
    return base::base64url_encode(iv + crypto::aes_gcm_seal(key, iv, plain, "pushsvc endpoint v1"));
}

TEST(EndpointCodec, RestrictedAndUnrestrictedTokensHaveTheSameLength) {
    EndpointCodec codec({kKeyA});
    const std::string id(16, '\x04');
    EXPECT_EQ(codec.encode({id, ""}).size(), codec.encode({id, std::string(32, '\x05')}).size());
}

TEST(EndpointCodec, TokensMintedBeforeTheFormatChangeStillDecode) {
    EndpointCodec codec({kKeyA});
    const std::string id(16, '\x06');
    const std::string hash(32, '\x07');
    const std::string old_plain = mint_v1(kKeyA, id, "");
    const std::string old_restricted = mint_v1(kKeyA, id, hash);
    ASSERT_NE(old_plain.size(), old_restricted.size());  // the leak the new format closes
    auto a = codec.decode(old_plain);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->subscription_id, id);
    EXPECT_EQ(a->key_hash, "");
    auto b = codec.decode(old_restricted);
    ASSERT_TRUE(b);
    EXPECT_EQ(b->subscription_id, id);
    EXPECT_EQ(b->key_hash, hash);
    // A key hash of the wrong size was never valid in v1 either.
    EXPECT_FALSE(codec.decode(mint_v1(kKeyA, id, std::string(31, 'h'))));
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
    for (const std::string& hash : {std::string(), std::string(32, '\x08')}) {
        auto raw = *base::base64url_decode(codec.encode({std::string(16, '\x07'), hash}));
        for (std::size_t i = 0; i < raw.size(); ++i) {
            std::string bad = raw;
            bad[i] ^= 0x01;
            EXPECT_EQ(to_errc(codec.decode(base::base64url_encode(bad)).error()),
                      errc::token_invalid)
                << i;
        }
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
