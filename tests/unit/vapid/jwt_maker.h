#pragma once
// Test helpers: build VAPID tokens and headers the way real senders do, with a fixed
// clock. Header-only, used by the vapid unit tests only.

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "pushsvc/base/base64url.h"
#include "pushsvc/crypto/p256.h"

namespace pushsvc::test {

inline constexpr std::int64_t kNowMs = 1'700'000'000'000;  // fixed "now" of every test
inline constexpr std::int64_t kNowS = kNowMs / 1000;
inline constexpr std::string_view kOrigin = "https://push.example:8443";
inline constexpr std::string_view kOriginNoPort = "https://push.example";
inline constexpr std::string_view kEs256Header = R"({"typ":"JWT","alg":"ES256"})";

inline std::string b64(std::string_view bytes) { return base::base64url_encode(bytes); }

// `header.payload.signature` with an ES256 signature by `key` over the exact JSON given.
inline std::string make_token(const crypto::P256PrivateKey& key, std::string_view payload_json,
                              std::string_view header_json = kEs256Header) {
    std::string input = b64(header_json) + "." + b64(payload_json);
    const std::string sig = key.sign_es256(input);
    return input + "." + b64(sig);
}

// The usual claims: aud, exp = now + 12 h (what most senders send), sub.
inline std::string claims(std::string_view aud = kOrigin, std::int64_t exp = kNowS + 12 * 3600,
                          std::string_view sub = "mailto:admin@example.com") {
    std::string out = R"({"aud":")" + std::string(aud) + R"(","exp":)" + std::to_string(exp);
    if (!sub.empty()) out += R"(,"sub":")" + std::string(sub) + "\"";
    return out + "}";
}

inline std::string read_file(const std::string& relative) {
    std::ifstream in(std::string(PUSHSVC_SOURCE_DIR) + "/" + relative, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// The RFC 8292 example vector from tests/data/vapid/rfc8292_example.json.
struct RfcExample {
    std::string token, key, aud, sub;
    std::int64_t exp = 0;
};

inline RfcExample rfc_example() {
    const auto v = boost::json::parse(read_file("tests/data/vapid/rfc8292_example.json"));
    const auto& o = v.as_object();
    auto str = [&](const char* k) { return std::string(o.at(k).as_string().c_str()); };
    return {str("token"), str("key"), str("aud"), str("sub"), o.at("exp").as_int64()};
}

// DER (ASN.1 SEQUENCE of two INTEGERs) form of a JOSE R || S signature.
inline std::string to_der(std::string_view raw64) {
    auto integer = [](std::string_view v) {
        while (v.size() > 1 && v[0] == '\0' && !(static_cast<unsigned char>(v[1]) & 0x80))
            v.remove_prefix(1);
        std::string out = "\x02";
        const bool pad = static_cast<unsigned char>(v[0]) & 0x80;
        out.push_back(static_cast<char>(v.size() + (pad ? 1 : 0)));
        if (pad) out.push_back('\0');
        out.append(v);
        return out;
    };
    const std::string body = integer(raw64.substr(0, 32)) + integer(raw64.substr(32));
    return std::string("\x30") + static_cast<char>(body.size()) + body;
}

}  // namespace pushsvc::test
