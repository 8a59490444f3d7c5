// VAPID JWT verification (vapid::verify_signature, check_claims). Byte 0 picks the mode:
//  even: the rest is a compact JWS, checked against a fixed key (structure, base64url, header
//        and signature handling on hostile tokens);
//  odd:  the rest is "<header JSON>\n<payload JSON>", which the harness signs with that key, so
//        the JSON and claim rules are reached past the signature check.
// Invariants: errors are vapid_invalid only; check_claims succeeds
// only with now <= exp <= now + 24 h + skew and an aud from the accepted list (R8292-4.2-e,f).
#include <string>

#include "fuzz/harness/fuzz_check.h"
#include "pushsvc/base/base64url.h"
#include "pushsvc/crypto/p256.h"
#include "pushsvc/vapid/jwt.h"

namespace {

using namespace pushsvc;

constexpr std::int64_t kNowS = 1'700'000'000;
const std::string kOrigin = "https://push.example:8443";

const crypto::P256PrivateKey& signer() {
    static const auto key =
        crypto::P256PrivateKey::from_private_raw(std::string(31, '\0') + "\x2a").value();
    return key;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::string_view rest = fuzz::as_text(data + 1, size - 1);
    vapid::Credentials creds;
    creds.key = signer().public_raw();
    if (data[0] & 1) {
        const auto lines = fuzz::split_lines(rest, 2);
        if (lines.size() < 2) return 0;
        std::string input =
            base::base64url_encode(lines[0]) + "." + base::base64url_encode(lines[1]);
        const std::string sig = signer().sign_es256(input);
        creds.token = input + "." + base::base64url_encode(sig);
    } else {
        creds.token = std::string(rest);
    }
    auto signed_claims = vapid::verify_signature(creds);
    if (!signed_claims) {
        FUZZ_CHECK(signed_claims.error() == errc::vapid_invalid);
        return 0;
    }
    // `"aud": []` passes step 1 (an array of strings) and can never match in step 2.
    static const std::string audiences[] = {kOrigin, "https://push.example"};
    vapid::VerifyOptions opts;
    opts.audiences = audiences;
    opts.now_ms = kNowS * 1000;
    opts.skew_s = 60;
    auto claims = vapid::check_claims(*signed_claims, opts);
    // The push path's verdict-only check agrees with it.
    FUZZ_CHECK(vapid::accept_claims(*signed_claims, opts).has_value() == claims.has_value());
    if (claims) {
        FUZZ_CHECK(claims->exp >= kNowS && claims->exp <= kNowS + 86400 + 60);
        FUZZ_CHECK(claims->aud == opts.audiences[0] || claims->aud == opts.audiences[1]);
        FUZZ_CHECK(claims->exp == signed_claims->exp && claims->sub == signed_claims->sub);
    } else {
        FUZZ_CHECK(claims.error() == errc::vapid_invalid);
    }
    return 0;
}
