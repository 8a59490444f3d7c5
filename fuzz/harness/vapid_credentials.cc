// VAPID credential parsing (vapid::parse_credentials) on arbitrary Authorization and
// Crypto-Key values. Input: line 1 Authorization, line 2 Crypto-Key ("-" = field absent);
// byte 0 picks the compat or strict options. Invariants on success: the token is three
// non-empty base64url parts within kMaxTokenSize, the key is 65 octets starting with 0x04,
// and a strict success is a compat success with the same result.
#include <string>

#include "fuzz/harness/fuzz_check.h"
#include "pushsvc/base/base64url.h"
#include "pushsvc/vapid/credentials.h"

namespace {

using namespace pushsvc;

void check(const vapid::Credentials& c) {
    FUZZ_CHECK(c.token.size() <= vapid::kMaxTokenSize);
    const auto d1 = c.token.find('.');
    FUZZ_CHECK(d1 != std::string::npos);
    const auto d2 = c.token.find('.', d1 + 1);
    FUZZ_CHECK(d2 != std::string::npos && c.token.find('.', d2 + 1) == std::string::npos);
    FUZZ_CHECK(d1 > 0 && d2 > d1 + 1 && d2 + 1 < c.token.size());
    const std::string_view t = c.token;
    for (auto part : {t.substr(0, d1), t.substr(d1 + 1, d2 - d1 - 1), t.substr(d2 + 1)})
        FUZZ_CHECK(base::is_base64url_alphabet(part));
    FUZZ_CHECK(c.key.size() == 65 && c.key[0] == '\x04');
    FUZZ_CHECK(vapid::same_key(c.key, c.key));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const bool strict = data[0] & 1;
    const auto lines = fuzz::split_lines(fuzz::as_text(data + 1, size - 1), 2);
    const auto auth = fuzz::field(lines[0]);
    const auto ck = lines.size() > 1 ? fuzz::field(lines[1]) : std::nullopt;
    const vapid::ParseOptions strict_opts{false, false};
    auto r = strict ? vapid::parse_credentials(auth, ck, strict_opts)
                    : vapid::parse_credentials(auth, ck);
    if (r) {
        check(*r);
        (void)vapid::scheme_name(r->scheme);
        if (strict) {
            auto compat = vapid::parse_credentials(auth, ck);
            FUZZ_CHECK(compat && compat->token == r->token && compat->key == r->key);
        }
    } else {
        FUZZ_CHECK(r.error() == errc::vapid_missing || r.error() == errc::vapid_invalid);
    }
    return 0;
}
