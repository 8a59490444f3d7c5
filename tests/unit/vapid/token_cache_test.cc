#include "pushsvc/vapid/token_cache.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "tests/unit/vapid/jwt_maker.h"

namespace pushsvc::vapid {
namespace {

using test::claims;
using test::kNowMs;
using test::kNowS;

class TokenCacheTest : public ::testing::Test {
  protected:
    crypto::P256PrivateKey signer_ = crypto::P256PrivateKey::generate();

    const std::vector<std::string> audiences_{std::string(test::kOrigin)};
    VerifyOptions opts(std::int64_t now_ms = kNowMs) const {
        VerifyOptions o;
        o.audiences = audiences_;
        o.now_ms = now_ms;
        return o;
    }
    Credentials creds(std::string_view payload) const {
        return Credentials{Scheme::vapid, test::make_token(signer_, payload), signer_.public_raw()};
    }
};

TEST_F(TokenCacheTest, AnswersTheSecondVerificationFromTheCache) {  // R8292-5-a
    TokenCache cache(16);
    const Credentials c = creds(claims());
    auto first = cache.verify(c, opts());
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(cache.size(), 1u);
    EXPECT_EQ(cache.hits(), 0u);
    auto second = cache.verify(c, opts());
    ASSERT_TRUE(second.has_value());
    EXPECT_EQ(cache.hits(), 1u);
    EXPECT_EQ(second->aud, first->aud);
    EXPECT_EQ(second->exp, first->exp);
    EXPECT_EQ(second->sub, first->sub);
}

TEST_F(TokenCacheTest, AcceptGivesVerifysVerdictWithoutTheClaims) {  // R8292-5-a, R8292-4.2-f
    TokenCache cache(16);
    const Credentials c = creds(claims());
    const std::string id = TokenCache::id_of(c);
    EXPECT_TRUE(cache.accept(c, id, opts()).has_value()) << "a miss verifies and inserts";
    EXPECT_EQ(cache.size(), 1u);
    EXPECT_TRUE(cache.accept(c, id, opts()).has_value());
    EXPECT_EQ(cache.hits(), 1u);
    const std::string elsewhere[] = {"https://other.example"};
    VerifyOptions other = opts();
    other.audiences = elsewhere;
    auto refused = cache.accept(c, id, other);
    ASSERT_FALSE(refused.has_value());
    EXPECT_EQ(refused.error(), make_error_code(errc::vapid_invalid));
    EXPECT_FALSE(cache.accept(c, id, opts((kNowS + 86400 * 2) * 1000)).has_value()) << "expired";
    EXPECT_EQ(cache.size(), 0u) << "an expired entry is dropped";
    Credentials forged = c;
    char& octet = forged.token[forged.token.size() - 10];  // inside the signature
    octet = octet == 'A' ? 'B' : 'A';
    EXPECT_FALSE(cache.accept(forged, TokenCache::id_of(forged), opts()).has_value());
    TokenCache off(0);
    EXPECT_TRUE(off.accept(c, id, opts()).has_value()) << "capacity 0 verifies every call";
    EXPECT_EQ(off.size(), 0u);
}

TEST_F(TokenCacheTest, RechecksExpOnEveryHit) {  // R8292-5-a, R8292-4.2-e
    TokenCache cache(16);
    const Credentials c = creds(claims(test::kOrigin, kNowS + 60));
    ASSERT_TRUE(cache.verify(c, opts()).has_value());
    EXPECT_TRUE(cache.verify(c, opts((kNowS + 60) * 1000)).has_value());
    auto late = cache.verify(c, opts((kNowS + 61) * 1000));
    ASSERT_FALSE(late.has_value());
    EXPECT_EQ(late.error(), make_error_code(errc::vapid_invalid));
    EXPECT_EQ(cache.size(), 0u) << "an expired entry is dropped";
    EXPECT_FALSE(cache.verify(c, opts((kNowS + 61) * 1000)).has_value());
}

TEST_F(TokenCacheTest, RechecksTheDayBoundOnEveryHit) {  // R8292-4.2-e
    TokenCache cache(16);
    const Credentials c = creds(claims(test::kOrigin, kNowS + 3600));
    ASSERT_TRUE(cache.verify(c, opts()).has_value());
    // Same token seen by a node whose clock is 2 days behind: exp is too far ahead for it.
    EXPECT_FALSE(cache.verify(c, opts(kNowMs - 2 * 86400 * 1000)).has_value());
    EXPECT_EQ(cache.size(), 1u) << "not expired, so kept";
}

TEST_F(TokenCacheTest, RechecksAudOnEveryHit) {  // R8292-4.2-f
    TokenCache cache(16);
    const Credentials c = creds(claims());
    ASSERT_TRUE(cache.verify(c, opts()).has_value());
    const std::string elsewhere[] = {"https://other.example"};
    VerifyOptions other = opts();
    other.audiences = elsewhere;
    EXPECT_FALSE(cache.verify(c, other).has_value());
    EXPECT_EQ(cache.hits(), 1u);
}

TEST_F(TokenCacheTest, DoesNotServeATokenPresentedWithAnotherKey) {  // R8292-4.2-d
    TokenCache cache(16);
    Credentials c = creds(claims());
    ASSERT_TRUE(cache.verify(c, opts()).has_value());
    c.key = crypto::P256PrivateKey::generate().public_raw();
    EXPECT_FALSE(cache.verify(c, opts()).has_value());
    EXPECT_EQ(cache.hits(), 0u);
}

TEST_F(TokenCacheTest, DoesNotCacheFailures) {
    TokenCache cache(16);
    Credentials bad = creds(claims());
    bad.token.back() = bad.token.back() == 'A' ? 'Q' : 'A';
    EXPECT_FALSE(cache.verify(bad, opts()).has_value());
    EXPECT_FALSE(cache.verify(bad, opts()).has_value());
    const Credentials wrong_aud = creds(claims("https://other.example"));
    EXPECT_FALSE(cache.verify(wrong_aud, opts()).has_value());
    EXPECT_EQ(cache.size(), 0u);
    EXPECT_EQ(cache.hits(), 0u);
}

TEST_F(TokenCacheTest, EvictsLeastRecentlyUsed) {
    TokenCache cache(2);
    const Credentials a = creds(claims(test::kOrigin, kNowS + 100));
    const Credentials b = creds(claims(test::kOrigin, kNowS + 200));
    const Credentials c = creds(claims(test::kOrigin, kNowS + 300));
    ASSERT_TRUE(cache.verify(a, opts()).has_value());
    ASSERT_TRUE(cache.verify(b, opts()).has_value());
    ASSERT_TRUE(cache.verify(a, opts()).has_value());  // a is now the most recent
    EXPECT_EQ(cache.hits(), 1u);
    ASSERT_TRUE(cache.verify(c, opts()).has_value());  // evicts b
    EXPECT_EQ(cache.size(), 2u);
    ASSERT_TRUE(cache.verify(a, opts()).has_value());
    EXPECT_EQ(cache.hits(), 2u);
    ASSERT_TRUE(cache.verify(b, opts()).has_value());  // miss, verified again
    EXPECT_EQ(cache.hits(), 2u);
    EXPECT_EQ(cache.size(), 2u);
}

TEST_F(TokenCacheTest, StaysWithinCapacity) {
    TokenCache cache(8);
    for (int i = 0; i < 50; ++i)
        ASSERT_TRUE(
            cache.verify(creds(claims(test::kOrigin, kNowS + 100 + i)), opts()).has_value());
    EXPECT_EQ(cache.size(), 8u);
}

TEST_F(TokenCacheTest, CapacityZeroVerifiesEveryTime) {
    TokenCache cache(0);
    const Credentials c = creds(claims());
    EXPECT_TRUE(cache.verify(c, opts()).has_value());
    EXPECT_TRUE(cache.verify(c, opts()).has_value());
    EXPECT_EQ(cache.size(), 0u);
    EXPECT_EQ(cache.hits(), 0u);
}

TEST_F(TokenCacheTest, GivesTheSameAnswersAsVerifyJwt) {
    TokenCache cache(4);
    const std::vector<std::string> payloads = {
        claims(), claims("https://other.example"), claims(test::kOrigin, kNowS - 1),
        claims(test::kOrigin, kNowS + 2 * 86400), R"({"aud":"https://push.example:8443"})"};
    for (int round = 0; round < 2; ++round) {
        for (const auto& p : payloads) {
            const Credentials c = creds(p);
            EXPECT_EQ(cache.verify(c, opts()).has_value(), verify_jwt(c, opts()).has_value()) << p;
        }
    }
}

TEST_F(TokenCacheTest, IsSafeUnderConcurrentUse) {
    TokenCache cache(4);
    std::vector<Credentials> tokens;
    for (int i = 0; i < 6; ++i) tokens.push_back(creds(claims(test::kOrigin, kNowS + 100 + i)));
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 150; ++i) {
                const auto& c = tokens[static_cast<std::size_t>((i + t) % 6)];
                if (!cache.verify(c, opts())) failures.fetch_add(1);
                (void)cache.size();
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(failures.load(), 0);
    // Six distinct tokens went through a cache of four: it is full, never over capacity.
    EXPECT_EQ(cache.size(), 4u);
}

}  // namespace
}  // namespace pushsvc::vapid
