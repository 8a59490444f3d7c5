// RFC 8292 VAPID: the §2.4 example token verifies; our tokens and headers have its shape.
#include "tools/client/vapid.h"

#include <gtest/gtest.h>

#include "tests/unit/client/test_data.h"
#include "tools/client/header_params.h"

namespace webpush_client {
namespace {
using test::b64;
using test::str;

TEST(Rfc8292Example, JwtVerifiesUnderThePublishedKey) {
    auto v = test::load_vector("rfc8292_jwt.json");
    auto key = P256Key::from_public_base64url(str(v.at("public_key"))).value();
    auto claims = verify_jwt(str(v.at("jwt")), key);
    ASSERT_TRUE(claims) << claims.error().message;
    EXPECT_EQ(claims->aud, str(v.at("aud")));
    EXPECT_EQ(claims->exp, v.at("exp").to_number<std::int64_t>());
    EXPECT_EQ(claims->sub, str(v.at("sub")));
}

TEST(Rfc8292Example, TamperedTokenOrOtherKeyFails) {
    auto v = test::load_vector("rfc8292_jwt.json");
    auto key = P256Key::from_public_base64url(str(v.at("public_key"))).value();
    std::string jwt = str(v.at("jwt"));
    std::string tampered = jwt;
    tampered[jwt.find('.') + 5] ^= 1;
    EXPECT_EQ(verify_jwt(tampered, key).error().code, Errc::bad_signature);
    EXPECT_FALSE(verify_jwt(jwt, P256Key::generate()));
    EXPECT_FALSE(verify_jwt("a.b", key));
}

TEST(Rfc8292Example, OurSigningInputMatchesTheExample) {
    auto v = test::load_vector("rfc8292_jwt.json");
    VapidClaims c{str(v.at("aud")), v.at("exp").to_number<std::int64_t>(), str(v.at("sub"))};
    P256Key key = P256Key::generate();
    std::string ours = sign_jwt(key, c).value();
    std::string theirs = str(v.at("jwt"));
    EXPECT_EQ(ours.substr(0, ours.rfind('.')), theirs.substr(0, theirs.rfind('.')));
    EXPECT_EQ(verify_jwt(ours, key).value().aud, c.aud);
}

TEST(VapidHeaders, VapidSchemeCarriesTokenAndKey) {
    P256Key key = P256Key::generate();
    auto h =
        make_vapid_headers(key, {"https://push.example.net", 1, "mailto:a@b"}, VapidScheme::vapid)
            .value();
    EXPECT_EQ(h.authorization.rfind("vapid t=", 0), 0u);
    EXPECT_TRUE(h.crypto_key.empty());
    auto params = parse_params_flat(h.authorization.substr(6));
    ASSERT_NE(find_param(params, "k"), nullptr);
    EXPECT_EQ(*find_param(params, "k"), key.public_base64url());
    EXPECT_TRUE(verify_jwt(*find_param(params, "t"), key));
}

TEST(VapidHeaders, WebPushSchemeUsesCryptoKey) {
    P256Key key = P256Key::generate();
    auto h =
        make_vapid_headers(key, {"https://push.example.net", 1, ""}, VapidScheme::webpush).value();
    EXPECT_EQ(h.authorization.rfind("WebPush ", 0), 0u);
    EXPECT_EQ(h.crypto_key, "p256ecdsa=" + key.public_base64url());
    auto claims = verify_jwt(h.authorization.substr(8), key).value();
    EXPECT_TRUE(claims.sub.empty());
}

TEST(VapidAudience, IsTheOriginWithNonDefaultPort) {
    EXPECT_EQ(vapid_audience("https://push.example.net/p/abc?x=1").value(),
              "https://push.example.net");
    EXPECT_EQ(vapid_audience("https://push.example.net:443/p").value(), "https://push.example.net");
    EXPECT_EQ(vapid_audience("http://127.0.0.1:8480/push/x").value(), "http://127.0.0.1:8480");
    EXPECT_EQ(vapid_audience("http://127.0.0.1:8480/push/x", false).value(), "http://127.0.0.1");
    EXPECT_FALSE(vapid_audience("not a url"));
}

TEST(P256Key, PemRoundTripsAndRejectsOtherCurves) {
    P256Key key = P256Key::generate();
    std::string pem = key.private_pem();
    EXPECT_NE(pem.find("PRIVATE KEY"), std::string::npos);
    auto back = P256Key::from_pem(pem).value();
    EXPECT_EQ(back.public_bytes(), key.public_bytes());
    EXPECT_EQ(back.private_bytes(), key.private_bytes());
    EXPECT_FALSE(P256Key::from_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"));
}

TEST(P256Key, RejectsPointsOffTheCurve) {
    Bytes point = P256Key::generate().public_bytes();
    point[64] ^= 1;
    EXPECT_EQ(P256Key::from_public_bytes(point).error().code, Errc::invalid_key);
    EXPECT_FALSE(P256Key::from_public_bytes(Bytes(33, 2)));
    EXPECT_FALSE(P256Key::from_private_bytes(Bytes(32, 0)));
    EXPECT_FALSE(P256Key::from_private_bytes(Bytes(32, 0xff)));
}

}  // namespace
}  // namespace webpush_client
