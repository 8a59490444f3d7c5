#include "pushsvc/crypto/aes_gcm.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <thread>
#include <vector>

#include "pushsvc/crypto/random.h"
#include "tests/unit/crypto/hex.h"

namespace pushsvc::crypto {
namespace {

using test::hex;
using test::unhex;

// Test cases from McGrew & Viega, "The Galois/Counter Mode of Operation (GCM)", Appendix B
// (the vectors NIST's GCM validation suite reuses).
struct GcmVector {
    const char* name;
    const char* key;
    const char* iv;
    const char* plaintext;
    const char* aad;
    const char* ciphertext_and_tag;
};

const GcmVector kVectors[] = {
    {"TC1", "00000000000000000000000000000000", "000000000000000000000000", "", "",
     "58e2fccefa7e3061367f1d57a4e7455a"},
    {"TC2", "00000000000000000000000000000000", "000000000000000000000000",
     "00000000000000000000000000000000", "",
     "0388dace60b6a392f328c2b971b2fe78ab6e47d42cec13bdf53a67b21257bddf"},
    {"TC3", "feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6"
     "b525b16aedf5aa0de657ba637b391aafd255",
     "",
     "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84"
     "aa051ba30b396a0aac973d58e091473f59854d5c2af327cd64a62cf35abd2ba6fab4"},
    {"TC4", "feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6"
     "b525b16aedf5aa0de657ba637b39",
     "feedfacedeadbeeffeedfacedeadbeefabaddad2",
     "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84"
     "aa051ba30b396a0aac973d58e0915bc94fbc3221a5db94fae95ae7121a47"},
    {"TC16", "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
     "cafebabefacedbaddecaf888",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6"
     "b525b16aedf5aa0de657ba637b39",
     "feedfacedeadbeeffeedfacedeadbeefabaddad2",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b105682"
     "8838c5f61e6393ba7a0abcc9f66276fc6ece0f4e1768cddf8853bb2d551b"},
};

TEST(AesGcm, SealMatchesGcmSpecKnownAnswers) {
    for (const auto& v : kVectors) {
        SCOPED_TRACE(v.name);
        EXPECT_EQ(hex(aes_gcm_seal(unhex(v.key), unhex(v.iv), unhex(v.plaintext), unhex(v.aad))),
                  v.ciphertext_and_tag);
    }
}

TEST(AesGcm, OpenMatchesGcmSpecKnownAnswers) {
    for (const auto& v : kVectors) {
        SCOPED_TRACE(v.name);
        auto pt =
            aes_gcm_open(unhex(v.key), unhex(v.iv), unhex(v.ciphertext_and_tag), unhex(v.aad));
        ASSERT_TRUE(pt.has_value());
        EXPECT_EQ(hex(*pt), v.plaintext);
    }
}

TEST(AesGcm, OpenRejectsEveryFlippedBit) {
    const auto& v = kVectors[3];  // TC4: ciphertext, tag and AAD all non-empty
    const std::string sealed = unhex(v.ciphertext_and_tag);
    for (std::size_t i = 0; i < sealed.size(); ++i) {
        std::string bad = sealed;
        bad[i] = static_cast<char>(bad[i] ^ 0x01);
        EXPECT_FALSE(aes_gcm_open(unhex(v.key), unhex(v.iv), bad, unhex(v.aad))) << "byte " << i;
    }
}

TEST(AesGcm, OpenRejectsWrongKeyIvOrAad) {
    const auto& v = kVectors[3];
    const std::string sealed = unhex(v.ciphertext_and_tag);
    std::string key = unhex(v.key);
    key[0] ^= 1;
    EXPECT_FALSE(aes_gcm_open(key, unhex(v.iv), sealed, unhex(v.aad)));
    std::string iv = unhex(v.iv);
    iv[11] ^= 1;
    EXPECT_FALSE(aes_gcm_open(unhex(v.key), iv, sealed, unhex(v.aad)));
    EXPECT_FALSE(aes_gcm_open(unhex(v.key), unhex(v.iv), sealed, ""));
    EXPECT_FALSE(aes_gcm_open(unhex(v.key), unhex(v.iv), sealed, "other aad"));
}

TEST(AesGcm, OpenRejectsTruncatedOrExtendedInput) {
    const auto& v = kVectors[2];
    const std::string sealed = unhex(v.ciphertext_and_tag);
    EXPECT_FALSE(aes_gcm_open(unhex(v.key), unhex(v.iv), sealed.substr(0, sealed.size() - 1)));
    EXPECT_FALSE(aes_gcm_open(unhex(v.key), unhex(v.iv), sealed + "x"));
    EXPECT_FALSE(aes_gcm_open(unhex(v.key), unhex(v.iv), sealed.substr(1)));
    for (std::size_t n = 0; n < 16; ++n)
        EXPECT_FALSE(aes_gcm_open(unhex(v.key), unhex(v.iv), sealed.substr(0, n))) << n;
}

TEST(AesGcm, OpenRejectsKeyOrIvOfWrongSizeWithoutCrashing) {
    const std::string sealed = unhex(kVectors[0].ciphertext_and_tag);
    EXPECT_FALSE(aes_gcm_open("", std::string(12, '\0'), sealed));
    EXPECT_FALSE(aes_gcm_open(std::string(24, '\0'), std::string(12, '\0'), sealed));
    EXPECT_FALSE(aes_gcm_open(std::string(16, '\0'), std::string(16, '\0'), sealed));
    EXPECT_FALSE(aes_gcm_open(std::string(16, '\0'), "", sealed));
}

TEST(AesGcm, RoundTripsRandomPayloadsWithBothKeySizes) {
    for (std::size_t key_size : {16u, 32u}) {
        for (std::size_t len : {0u, 1u, 15u, 16u, 17u, 4096u}) {
            const std::string key = random_bytes(key_size);
            const std::string iv = random_bytes(kGcmIvSize);
            const std::string pt = random_bytes(len);
            const std::string sealed = aes_gcm_seal(key, iv, pt, "aad");
            ASSERT_EQ(sealed.size(), len + kGcmTagSize);
            auto opened = aes_gcm_open(key, iv, sealed, "aad");
            ASSERT_TRUE(opened.has_value());
            EXPECT_EQ(*opened, pt);
        }
    }
}

// AesGcmKey::open into a buffer, as a string (nullopt when it fails).
std::optional<std::string> open_with(const AesGcmKey& k, std::string_view iv,
                                     std::string_view sealed, std::string_view aad) {
    std::string out(sealed.size() < kGcmTagSize ? 0 : sealed.size() - kGcmTagSize, '?');
    auto n = k.open(iv, sealed, aad, out);
    if (!n) return std::nullopt;
    out.resize(*n);
    return out;
}

TEST(AesGcmKey, OpensTheGcmSpecKnownAnswers) {
    for (const auto& v : kVectors) {
        SCOPED_TRACE(v.name);
        const AesGcmKey k(unhex(v.key));
        // Twice: the second open reuses the context the first one left (only the IV is set).
        for (int round = 0; round < 2; ++round) {
            auto pt = open_with(k, unhex(v.iv), unhex(v.ciphertext_and_tag), unhex(v.aad));
            ASSERT_TRUE(pt.has_value());
            EXPECT_EQ(hex(*pt), v.plaintext);
        }
    }
}

// A context is reused after every kind of failure: each flipped bit fails, and the intact
// input opened right after each failure (on the same pooled context) succeeds.
TEST(AesGcmKey, FailuresLeaveTheReusedContextUsable) {
    const auto& v = kVectors[3];
    const AesGcmKey k(unhex(v.key));
    const std::string sealed = unhex(v.ciphertext_and_tag);
    for (std::size_t i = 0; i < sealed.size(); ++i) {
        std::string bad = sealed;
        bad[i] = static_cast<char>(bad[i] ^ 0x01);
        EXPECT_FALSE(open_with(k, unhex(v.iv), bad, unhex(v.aad))) << "byte " << i;
        EXPECT_EQ(hex(open_with(k, unhex(v.iv), sealed, unhex(v.aad)).value_or("")), v.plaintext);
    }
    std::string iv = unhex(v.iv);
    iv[11] ^= 1;
    EXPECT_FALSE(open_with(k, iv, sealed, unhex(v.aad)));
    EXPECT_FALSE(open_with(k, unhex(v.iv), sealed, ""));
    EXPECT_FALSE(open_with(k, unhex(v.iv), sealed.substr(0, 10), unhex(v.aad)));
    EXPECT_FALSE(open_with(k, "short", sealed, unhex(v.aad)));
    std::string small(3, '\0');
    EXPECT_FALSE(k.open(unhex(v.iv), sealed, unhex(v.aad), small));  // no room for the text
    EXPECT_EQ(hex(open_with(k, unhex(v.iv), sealed, unhex(v.aad)).value_or("")), v.plaintext);
    EXPECT_THROW(AesGcmKey(std::string(24, '\0')), std::invalid_argument);
}

// Threads opening with one key at once each get a context of their own.
TEST(AesGcmKey, OpensFromManyThreadsAtOnce) {
    const std::string key = random_bytes(32);
    const AesGcmKey k(key);
    std::vector<std::thread> threads;
    std::vector<int> failures(4, 0);
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 200; ++i) {
                const std::string iv = random_bytes(kGcmIvSize);
                const std::string pt = random_bytes(static_cast<std::size_t>(i));
                const std::string sealed = aes_gcm_seal(key, iv, pt, "aad");
                if (open_with(k, iv, sealed, "aad") != pt) ++failures[t];
                if (open_with(k, iv, sealed, "bad")) ++failures[t];
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(failures, std::vector<int>(4, 0));
}

TEST(AesGcmDeathTest, SealAbortsOnKeyOfWrongSize) {
    EXPECT_DEATH(aes_gcm_seal(std::string(24, '\0'), std::string(12, '\0'), "x"), "");
}

}  // namespace
}  // namespace pushsvc::crypto
