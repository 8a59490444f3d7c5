// The push request header parsers (webpush/push_headers.h, urgency.h) on arbitrary values.
// Input lines: TTL, Urgency, Topic, Prefer, Link, Content-Encoding, Encryption, Crypto-Key, then
// the body (the rest, newlines included); "-" = field absent. Byte 0: bit 0 the profile
// (compat/strict), the rest picks max_ttl. Invariants: no success with an out-of-range value.
#include <string>

#include "fuzz/harness/fuzz_check.h"
#include "pushsvc/base/base64url.h"
#include "pushsvc/webpush/push_headers.h"
#include "pushsvc/webpush/urgency.h"

namespace {

using namespace pushsvc;
using pushsvc::fuzz::field;

bool all_digits(std::string_view s) {
    return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const auto profile = (data[0] & 1) ? config::Profile::strict : config::Profile::compat;
    const std::uint32_t max_ttl = (data[0] >> 1) * 100'000u;
    auto lines = fuzz::split_lines(fuzz::as_text(data + 1, size - 1), 9);
    lines.resize(9, "-");

    const auto ttl_in = field(lines[0]);
    if (auto ttl = webpush::parse_ttl(ttl_in, max_ttl)) {
        FUZZ_CHECK(ttl_in && all_digits(trim(*ttl_in)));
        FUZZ_CHECK(ttl->requested <= (std::uint64_t{1} << 31));
        FUZZ_CHECK(ttl->kept <= ttl->requested && ttl->kept <= max_ttl);
        FUZZ_CHECK(ttl->kept == std::min<std::uint64_t>(ttl->requested, max_ttl));
    } else {
        FUZZ_CHECK(ttl.error() == (ttl_in ? errc::ttl_invalid : errc::ttl_missing));
    }

    const auto urgency_in = field(lines[1]);
    if (auto u = webpush::parse_urgency(urgency_in)) {
        FUZZ_CHECK(static_cast<unsigned>(*u) <= 3);
        FUZZ_CHECK(urgency_in || *u == webpush::Urgency::normal);
        // The name we print parses back to the same level.
        auto again = webpush::parse_urgency(std::string(webpush::to_string(*u)));
        FUZZ_CHECK(again && *again == *u);
    }

    const auto topic_in = field(lines[2]);
    if (auto topic = webpush::parse_topic(topic_in, profile)) {
        FUZZ_CHECK(topic_in || topic->empty());
        FUZZ_CHECK(topic->size() <= 32);
        std::string_view core = *topic;
        while (profile == config::Profile::compat && !core.empty() && core.back() == '=')
            core.remove_suffix(1);
        FUZZ_CHECK(!topic_in || (!core.empty() && base::is_base64url_alphabet(core)));
    }

    const auto prefs = webpush::parse_prefer(field(lines[3]));
    FUZZ_CHECK(!prefs.wait || *prefs.wait < 1'000'000'000u);  // at most 9 digits are read
    if (auto link = webpush::find_link(field(lines[4]), "urn:ietf:params:push:receipt"))
        FUZZ_CHECK(link->size() <= lines[4].size());

    webpush::EncodingInput in;
    in.content_encoding = field(lines[5]);
    in.encryption = field(lines[6]);
    in.crypto_key = field(lines[7]);
    in.body = lines[8];
    if (auto enc = webpush::parse_encoding(in, profile)) {
        FUZZ_CHECK((enc->coding == webpush::Coding::none) == in.body.empty());
        if (enc->coding == webpush::Coding::aesgcm) {
            FUZZ_CHECK(enc->encryption.starts_with("salt="));
            // Only the dh value is forwarded, never p256ecdsa or another parameter: after
            // "dh=" nothing but base64url (no separator could start a second parameter).
            FUZZ_CHECK(enc->crypto_key.starts_with("dh="));
            FUZZ_CHECK(base::is_base64url_alphabet(std::string_view(enc->crypto_key).substr(3)));
        } else {
            FUZZ_CHECK(enc->encryption.empty() && enc->crypto_key.empty());
        }
        if (enc->coding == webpush::Coding::aes128gcm) FUZZ_CHECK(in.body.size() >= 21);
    }
    return 0;
}
