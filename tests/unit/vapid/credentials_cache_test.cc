// vapid::CredentialsCache: every answer equals parse_credentials() on the same input (with the
// digests), whether it came from the table or not.

#include "pushsvc/vapid/credentials_cache.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "pushsvc/crypto/hash.h"
#include "pushsvc/vapid/token_cache.h"
#include "tests/unit/vapid/jwt_maker.h"

namespace pushsvc::vapid {
namespace {

using test::b64;

const ParseOptions kStrict{false, false};

class CredentialsCacheTest : public ::testing::Test {
  protected:
    crypto::P256PrivateKey signer_ = crypto::P256PrivateKey::generate();
    crypto::P256PrivateKey other_ = crypto::P256PrivateKey::generate();
    std::string token_ = test::make_token(signer_, test::claims());
    std::string vapid_ = "vapid t=" + token_ + ", k=" + b64(signer_.public_raw());

    // The cache's answer matches the parser's, digests included.
    static void expect_same(CredentialsCache& cache, std::optional<std::string_view> auth,
                            std::optional<std::string_view> ck, const ParseOptions& opts = {}) {
        auto want = parse_credentials(auth, ck, opts);
        auto got = cache.parse(auth, ck, opts);
        ASSERT_EQ(got.has_value(), want.has_value()) << (auth ? *auth : "(none)");
        if (!want) {
            EXPECT_EQ(got.error(), want.error());
            return;
        }
        const ParsedCredentials& p = **got;
        EXPECT_EQ(p.creds.scheme, want->scheme);
        EXPECT_EQ(p.creds.token, want->token);
        EXPECT_EQ(p.creds.key, want->key);
        EXPECT_EQ(p.key_hash, crypto::sha256(want->key));
        EXPECT_EQ(p.token_id, TokenCache::id_of(*want));
    }
};

TEST_F(CredentialsCacheTest, AnswersARepeatedHeaderFromTheTable) {
    CredentialsCache cache(64);
    expect_same(cache, vapid_, std::nullopt);
    EXPECT_EQ(cache.hits(), 0u);
    expect_same(cache, vapid_, std::nullopt);
    EXPECT_EQ(cache.hits(), 1u);
}

// RFC 8292 `vapid`: Crypto-Key is not read (an aesgcm push varies it per message), so a new
// one still hits; draft WebPush reads the key from it, so a new one is parsed again.
TEST_F(CredentialsCacheTest, CryptoKeyMattersOnlyForTheWebPushScheme) {
    CredentialsCache cache(64);
    expect_same(cache, vapid_, "dh=BAAA;p256ecdsa=" + b64(other_.public_raw()));
    expect_same(cache, vapid_, "dh=BBBB");
    expect_same(cache, vapid_, std::nullopt);
    EXPECT_EQ(cache.hits(), 2u);

    const std::string webpush = "WebPush " + token_;
    const std::string ck1 = "p256ecdsa=" + b64(signer_.public_raw());
    const std::string ck2 = "p256ecdsa=" + b64(other_.public_raw());
    expect_same(cache, webpush, ck1);
    expect_same(cache, webpush, ck2);           // another key: parsed again, not the cached one
    expect_same(cache, webpush, std::nullopt);  // no key at all: invalid
    expect_same(cache, webpush, ck2);
    EXPECT_EQ(cache.hits(), 3u);
}

// What the profile allows (Bearer, padded keys) is part of the lookup.
TEST_F(CredentialsCacheTest, OptionsArePartOfTheLookup) {
    CredentialsCache cache(64);
    const std::string bearer = "Bearer " + token_;
    const std::string ck = "p256ecdsa=" + b64(signer_.public_raw());
    expect_same(cache, bearer, ck);           // compat: accepted and remembered
    expect_same(cache, bearer, ck, kStrict);  // strict: Bearer is unknown
    const std::string padded = "vapid t=" + token_ + ", k=" + b64(signer_.public_raw()) + "=";
    expect_same(cache, padded, std::nullopt);
    expect_same(cache, padded, std::nullopt, kStrict);
    EXPECT_EQ(cache.hits(), 0u);
}

TEST_F(CredentialsCacheTest, FailuresAreParsedEveryTime) {
    CredentialsCache cache(64);
    for (std::string_view bad : {"vapid t=a.b, k=x", "key=AAAA", "vapid k=zz"}) {
        expect_same(cache, bad, std::nullopt);
        expect_same(cache, bad, std::nullopt);
    }
    expect_same(cache, std::nullopt, std::nullopt);
    EXPECT_EQ(cache.hits(), 0u);
}

// One slot: every header evicts the other, and each answer is still its own.
TEST_F(CredentialsCacheTest, CollidingHeadersReplaceEachOther) {
    CredentialsCache cache(1);
    const std::string other =
        "vapid t=" + test::make_token(other_, test::claims()) + ", k=" + b64(other_.public_raw());
    for (int i = 0; i < 3; ++i) {
        expect_same(cache, vapid_, std::nullopt);
        expect_same(cache, other, std::nullopt);
    }
    expect_same(cache, other, std::nullopt);
    EXPECT_EQ(cache.hits(), 1u);
}

TEST_F(CredentialsCacheTest, NoSlotsOrOversizedHeadersAreNeverRemembered) {
    CredentialsCache none(0);
    expect_same(none, vapid_, std::nullopt);
    expect_same(none, vapid_, std::nullopt);
    EXPECT_EQ(none.hits(), 0u);

    CredentialsCache cache(64);
    const std::string big = vapid_ + ", x=" + std::string(CredentialsCache::kMaxCachedHeader, 'a');
    expect_same(cache, big, std::nullopt);
    expect_same(cache, big, std::nullopt);
    EXPECT_EQ(cache.hits(), 0u);
}

TEST_F(CredentialsCacheTest, ThreadsShareTheTable) {
    CredentialsCache cache(8);
    const std::string other =
        "vapid t=" + test::make_token(other_, test::claims()) + ", k=" + b64(other_.public_raw());
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 200; ++i) expect_same(cache, (i + t) % 2 ? vapid_ : other, {});
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_GT(cache.hits(), 0u);
}

}  // namespace
}  // namespace pushsvc::vapid
