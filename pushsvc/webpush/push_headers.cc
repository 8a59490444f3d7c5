#include "pushsvc/webpush/push_headers.h"

#include "pushsvc/base/base64url.h"
#include "pushsvc/base/text.h"

namespace pushsvc::webpush {
namespace {

constexpr std::uint64_t kTtlOverflow = 2147483648ull;  // 2^31, R8030-5.2-e

// A base64url value as senders write it (maybe quoted by the param parser already, maybe
// padded); returns the decoded bytes.
std::optional<std::string> decode_key(std::string_view v) { return base::base64_decode_lenient(v); }

}  // namespace

result<Ttl> parse_ttl(const std::optional<std::string>& header, std::uint32_t max_ttl) {
    if (!header) return errc::ttl_missing;
    std::string_view v = base::trim(*header);
    if (v.empty()) return errc::ttl_invalid;
    std::uint64_t value = 0;
    for (char c : v) {
        if (c < '0' || c > '9') return errc::ttl_invalid;
        value = value * 10 + std::uint64_t(c - '0');
        if (value >= kTtlOverflow) value = kTtlOverflow;  // saturate, never wrap
    }
    Ttl ttl;
    ttl.requested = value;
    ttl.kept = static_cast<std::uint32_t>(std::min<std::uint64_t>(value, max_ttl));
    return ttl;
}

result<std::string> parse_topic(const std::optional<std::string>& header, config::Profile profile) {
    if (!header) return std::string();
    std::string_view v = base::trim(*header);
    std::string_view core = v;
    if (profile == config::Profile::compat)
        while (!core.empty() && core.back() == '=') core.remove_suffix(1);
    if (core.empty() || v.size() > 32 || !base::is_base64url_alphabet(core))
        return errc::topic_invalid;
    return std::string(v);
}

Preferences parse_prefer(const std::optional<std::string>& header) {
    Preferences out;
    if (!header) return out;
    for (auto item : base::split(*header, ',')) {
        auto token = base::trim(item.substr(0, item.find(';')));  // drop parameters
        auto eq = token.find('=');
        auto name = base::trim(token.substr(0, eq));
        if (base::iequals(name, "respond-async")) out.respond_async = true;
        if (base::iequals(name, "wait") && eq != std::string_view::npos) {
            auto v = base::trim(token.substr(eq + 1));
            if (!v.empty() && v.find_first_not_of("0123456789") == std::string_view::npos)
                out.wait = std::stoull(std::string(v.substr(0, 9)));
        }
    }
    return out;
}

std::optional<std::string> find_link(const std::optional<std::string>& header,
                                     std::string_view rel) {
    if (!header) return std::nullopt;
    std::string_view rest = *header;
    while (true) {
        auto open = rest.find('<');
        if (open == std::string_view::npos) return std::nullopt;
        auto close = rest.find('>', open);
        if (close == std::string_view::npos) return std::nullopt;
        std::string_view uri = rest.substr(open + 1, close - open - 1);
        rest.remove_prefix(close + 1);
        // Parameters run to the next link (a ',' outside quotes followed by '<').
        auto next = rest.find('<');
        std::string_view params = rest.substr(0, next);
        if (auto parsed = base::parse_params(params))
            if (const auto* r = base::find_param(*parsed, "rel"))
                for (auto value : base::split(r->value, ' '))  // rel may list several
                    if (base::iequals(value, rel)) return std::string(uri);
        if (next == std::string_view::npos) return std::nullopt;
    }
}

result<Encoding> parse_encoding(const EncodingInput& in, config::Profile profile) {
    Encoding out;
    if (in.body.empty()) return out;
    if (!in.content_encoding) return errc::encoding_invalid;
    std::string_view name = base::trim(*in.content_encoding);
    bool strict = profile == config::Profile::strict;
    auto params_of = [](const std::optional<std::string>& h) {
        return h ? base::parse_params(*h) : std::make_optional(std::vector<base::Param>{});
    };

    if (base::iequals(name, "aes128gcm")) {
        out.coding = Coding::aes128gcm;
        // RFC 8188 §2.1: salt(16) || rs(uint32) || idlen(1) || keyid(idlen), then records.
        if (in.body.size() < 21) return errc::body_malformed;
        auto byte = [&](std::size_t i) { return std::uint8_t(in.body[i]); };
        std::uint32_t rs = (std::uint32_t(byte(16)) << 24) | (std::uint32_t(byte(17)) << 16) |
                           (std::uint32_t(byte(18)) << 8) | byte(19);
        std::size_t idlen = byte(20);
        if (rs < 18 || in.body.size() < 21 + idlen) return errc::body_malformed;
        out.sender_key = std::string(in.body.substr(21, idlen));
        if (strict) {
            if (idlen != 65 || byte(21) != 0x04) return errc::body_malformed;
            auto enc = params_of(in.encryption);
            auto ck = params_of(in.crypto_key);
            if (!enc || !ck || base::find_param(*enc, "salt") || base::find_param(*ck, "dh"))
                return errc::encryption_headers;
        }
        return out;
    }
    if (base::iequals(name, "aesgcm")) {
        out.coding = Coding::aesgcm;
        if (!in.encryption || !in.crypto_key) return errc::encryption_headers;
        auto enc = base::parse_params(*in.encryption);
        auto ck = base::parse_params(*in.crypto_key);
        if (!enc || !ck) return errc::encryption_headers;
        const auto* salt = base::find_param(*enc, "salt");
        const auto* dh = base::find_param(*ck, "dh");
        if (!salt || !dh) return errc::encryption_headers;
        auto salt_bytes = decode_key(salt->value);
        auto dh_bytes = decode_key(dh->value);
        if (!salt_bytes || salt_bytes->size() != 16 || !dh_bytes || dh_bytes->empty())
            return errc::encryption_headers;
        if (strict && (dh_bytes->size() != 65 || (*dh_bytes)[0] != 0x04))
            return errc::encryption_headers;
        out.encryption = "salt=" + base::base64url_encode(*salt_bytes);
        if (const auto* rs = base::find_param(*enc, "rs")) {
            if (rs->value.empty() || rs->value.find_first_not_of("0123456789") != std::string::npos)
                return errc::encryption_headers;
            out.encryption += ";rs=" + rs->value;
        }
        out.crypto_key = "dh=" + base::base64url_encode(*dh_bytes);
        out.sender_key = *dh_bytes;
        return out;
    }
    return errc::encoding_invalid;
}

}  // namespace pushsvc::webpush
