#include "pushsvc/webpush/push_headers.h"

#include <gtest/gtest.h>

#include "pushsvc/base/base64url.h"
#include "pushsvc/webpush/urgency.h"

namespace pushsvc::webpush {
namespace {

using config::Profile;
using Opt = std::optional<std::string>;

errc error_of(const auto& r) { return to_errc(r.error()); }

TEST(TtlHeader, IsRequired_R8030_5_2_b) {
    EXPECT_EQ(error_of(parse_ttl(std::nullopt, 100)), errc::ttl_missing);
}

TEST(TtlHeader, RejectsAnythingButDigits_R8030_5_2_c) {
    for (std::string bad : {"-1", "abc", "1.5", "0x10", "", " ", "+5", "1 2", "60, 60", "1e3"})
        EXPECT_EQ(error_of(parse_ttl(bad, 100)), errc::ttl_invalid) << "'" << bad << "'";
}

TEST(TtlHeader, AcceptsZeroAndSurroundingWhitespace) {
    EXPECT_EQ(parse_ttl(Opt("0"), 100)->kept, 0u);
    EXPECT_EQ(parse_ttl(Opt(" 42 "), 100)->kept, 42u);
}

TEST(TtlHeader, HoldsThirtyOneBits_R8030_5_2_d) {
    auto ttl = parse_ttl(Opt("2147483647"), 4'000'000'000u);
    ASSERT_TRUE(ttl);
    EXPECT_EQ(ttl->kept, 2147483647u);
}

TEST(TtlHeader, ClampsHugeValuesToTwoToThe31_R8030_5_2_e) {
    auto ttl = parse_ttl(Opt("99999999999999999999999999"), 4'000'000'000u);
    ASSERT_TRUE(ttl);
    EXPECT_EQ(ttl->requested, 2147483648u);
    EXPECT_EQ(ttl->kept, 2147483648u);
}

TEST(TtlHeader, KeepsAtMostTheServerMaximumAndNeverMoreThanAsked_R8030_5_2_f_g) {
    auto capped = parse_ttl(Opt("5000"), 3600);
    EXPECT_EQ(capped->kept, 3600u);
    for (std::string v : {"0", "1", "60", "3600"}) {
        auto ttl = parse_ttl(v, 3600);
        ASSERT_TRUE(ttl) << v;
        EXPECT_EQ(ttl->requested, std::stoul(v));
        EXPECT_EQ(ttl->kept, ttl->requested) << v;  // within the maximum: kept as asked
    }
}

TEST(UrgencyHeader, DefaultsToNormal_R8030_5_3_c) {
    EXPECT_EQ(*parse_urgency(std::nullopt), Urgency::normal);
}

TEST(UrgencyHeader, AcceptsTheFourValuesCaseInsensitively_R8030_5_3_g) {
    EXPECT_EQ(*parse_urgency(Opt("very-low")), Urgency::very_low);
    EXPECT_EQ(*parse_urgency(Opt("LOW")), Urgency::low);
    EXPECT_EQ(*parse_urgency(Opt("Normal")), Urgency::normal);
    EXPECT_EQ(*parse_urgency(Opt("HIGH")), Urgency::high);
}

TEST(UrgencyHeader, RejectsUnknownEmptyAndMultipleValues_R8030_5_3_h) {
    for (std::string bad : {"urgent", "", "low, high", "high,high", "very low"})
        EXPECT_EQ(error_of(parse_urgency(bad)), errc::urgency_invalid) << bad;
}

TEST(TopicHeader, AcceptsUpTo32Base64UrlCharacters_R8030_5_4_b) {
    std::string t32(32, 'a');
    EXPECT_EQ(*parse_topic(t32, Profile::strict), t32);
    EXPECT_EQ(*parse_topic(std::nullopt, Profile::strict), "");
    EXPECT_EQ(error_of(parse_topic(std::string(33, 'a'), Profile::compat)), errc::topic_invalid);
    for (std::string bad : {"a.b", "a b", "a+b", "a/b", "a%20b", "", "=", "a,b"})
        EXPECT_EQ(error_of(parse_topic(bad, Profile::compat)), errc::topic_invalid) << bad;
}

TEST(TopicHeader, TrailingPaddingOnlyInCompat_A3) {
    EXPECT_EQ(error_of(parse_topic(Opt("abc="), Profile::strict)), errc::topic_invalid);
    EXPECT_EQ(*parse_topic(Opt("abc="), Profile::compat), "abc=");
    EXPECT_EQ(error_of(parse_topic(Opt("a=b"), Profile::compat)), errc::topic_invalid);
}

// An aes128gcm body header: salt(16) rs(4) idlen(1) keyid.
std::string aes128gcm_body(std::uint32_t rs = 4096, std::string keyid = std::string(65, '\x04'),
                           std::size_t records = 40) {
    std::string b(16, 's');
    for (int shift : {24, 16, 8, 0}) b.push_back(static_cast<char>((rs >> shift) & 0xff));
    b.push_back(static_cast<char>(keyid.size()));
    b += keyid;
    b += std::string(records, 'r');
    return b;
}

TEST(ContentEncoding, EmptyBodyNeedsNoCoding_R8291_X_b) {
    auto enc = parse_encoding({std::nullopt, std::nullopt, std::nullopt, ""}, Profile::strict);
    ASSERT_TRUE(enc);
    EXPECT_EQ(enc->coding, Coding::none);
}

TEST(ContentEncoding, NonEmptyBodyNeedsExactlyOneKnownCoding_R8291_4_e) {
    std::string body = aes128gcm_body();
    for (Opt bad :
         {Opt(), Opt("gzip"), Opt("aes128gcm, gzip"), Opt("aes128gcm, aes128gcm"), Opt("")})
        EXPECT_EQ(
            error_of(parse_encoding({bad, std::nullopt, std::nullopt, body}, Profile::compat)),
            errc::encoding_invalid);
}

TEST(ContentEncoding, Aes128gcmNameIsCaseInsensitive_R8188_2_a) {
    auto enc = parse_encoding({Opt("AES128GCM"), std::nullopt, std::nullopt, aes128gcm_body()},
                              Profile::strict);
    ASSERT_TRUE(enc);
    EXPECT_EQ(enc->coding, Coding::aes128gcm);
    EXPECT_EQ(enc->sender_key.size(), 65u);
}

TEST(ContentEncoding, Aes128gcmHeaderMustBeComplete_R8188_2_1_a_b) {
    Opt ce("aes128gcm");
    EXPECT_EQ(error_of(parse_encoding({ce, {}, {}, std::string(20, 'x')}, Profile::compat)),
              errc::body_malformed);
    EXPECT_EQ(error_of(parse_encoding({ce, {}, {}, aes128gcm_body(17)}, Profile::compat)),
              errc::body_malformed);
    EXPECT_EQ(error_of(parse_encoding(
                  {ce, {}, {}, aes128gcm_body(4096, std::string(65, '\x04'), 0).substr(0, 50)},
                  Profile::compat)),
              errc::body_malformed);
}

TEST(ContentEncoding, StrictRequiresA65ByteUncompressedKeyid_R8291_4_c) {
    Opt ce("aes128gcm");
    std::string short_key = aes128gcm_body(4096, std::string(33, '\x02'));
    EXPECT_TRUE(parse_encoding({ce, {}, {}, short_key}, Profile::compat));
    EXPECT_EQ(error_of(parse_encoding({ce, {}, {}, short_key}, Profile::strict)),
              errc::body_malformed);
}

TEST(ContentEncoding, Aes128gcmToleratesCryptoKeyP256ecdsa_R8291_X_c) {
    auto enc = parse_encoding({Opt("aes128gcm"), {}, Opt("p256ecdsa=AAAA"), aes128gcm_body()},
                              Profile::strict);
    EXPECT_TRUE(enc);
    EXPECT_TRUE(enc->crypto_key.empty());  // nothing of it is forwarded
    EXPECT_EQ(error_of(parse_encoding(
                  {Opt("aes128gcm"), Opt("salt=AAAAAAAAAAAAAAAAAAAAAA"), {}, aes128gcm_body()},
                  Profile::strict)),
              errc::encryption_headers);
}

const std::string kSalt = base::base64url_encode(std::string(16, 'S'));
const std::string kDh = base::base64url_encode(std::string(1, '\x04') + std::string(64, 'D'));

TEST(ContentEncoding, AesgcmNeedsSaltAndDh_RENC04_3_1_a) {
    Opt ce("aesgcm");
    EXPECT_EQ(error_of(parse_encoding({ce, {}, Opt("dh=" + kDh), "x"}, Profile::compat)),
              errc::encryption_headers);
    EXPECT_EQ(error_of(parse_encoding({ce, Opt("salt=" + kSalt), {}, "x"}, Profile::compat)),
              errc::encryption_headers);
    EXPECT_EQ(
        error_of(parse_encoding({ce, Opt("rs=4096"), Opt("dh=" + kDh), "x"}, Profile::compat)),
        errc::encryption_headers);
    EXPECT_EQ(
        error_of(parse_encoding({ce, Opt("salt=AAAA"), Opt("dh=" + kDh), "x"}, Profile::compat)),
        errc::encryption_headers);  // salt must be 16 bytes
}

TEST(ContentEncoding, AesgcmForwardsOnlyDhAndSaltNormalised_RVAPID01_5_2_c) {
    // Quotes, padding, ',' or ';', extra params and p256ecdsa in either order (RVAPID01-4-b).
    for (std::string ck : {"dh=" + kDh + ";p256ecdsa=BBBB", "p256ecdsa=BBBB, dh=\"" + kDh + "\"",
                           "keyid=p256dh;dh=" + kDh + "="}) {
        auto enc =
            parse_encoding({Opt("aesgcm"), Opt("salt=\"" + kSalt + "==\";rs=4096"), Opt(ck), "x"},
                           Profile::compat);
        ASSERT_TRUE(enc) << ck;
        EXPECT_EQ(enc->crypto_key, "dh=" + kDh) << ck;
        EXPECT_EQ(enc->encryption, "salt=" + kSalt + ";rs=4096");
        EXPECT_EQ(enc->sender_key.size(), 65u);
    }
}

}  // namespace
}  // namespace pushsvc::webpush
