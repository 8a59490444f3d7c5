#include "pushsvc/base/base64url.h"

#include <array>
#include <cstdint>

namespace pushsvc::base {
namespace {

constexpr char kUrlAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// Per octet: its base64url value 0-63; kStdOnly + value for '+' and '/' (standard alphabet
// only); -1 for anything else. A table, because VAPID tokens and endpoint tokens are checked
// and decoded on every push.
constexpr int kStdOnly = 64;
constexpr auto kSextets = [] {
    std::array<std::int8_t, 256> t{};
    t.fill(-1);
    for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(kUrlAlphabet[i])] = std::int8_t(i);
    t['+'] = kStdOnly + 62;
    t['/'] = kStdOnly + 63;
    return t;
}();

// Value of a character in the base64url alphabet (or also the standard one), or -1.
int sextet(char c, bool allow_std) {
    const int v = kSextets[static_cast<unsigned char>(c)];
    if (v < kStdOnly) return v;
    return allow_std ? v - kStdOnly : -1;
}

// Decodes into out[0 .. text.size() * 3 / 4); false on a bad character or non-zero leftover
// bits. Four characters (three octets) per step into a buffer sized once: decoding a
// character at a time through string::push_back cost ~40 instructions per character, and an
// endpoint token and a VAPID key are decoded on every push.
bool decode_to(std::string_view text, bool allow_std, char* out) {
    std::size_t i = 0;
    for (; i + 4 <= text.size(); i += 4) {
        const int a = sextet(text[i], allow_std), b = sextet(text[i + 1], allow_std),
                  c = sextet(text[i + 2], allow_std), d = sextet(text[i + 3], allow_std);
        if ((a | b | c | d) < 0) return false;
        const auto n = (std::uint32_t(a) << 18) | (std::uint32_t(b) << 12) |
                       (std::uint32_t(c) << 6) | std::uint32_t(d);
        *out++ = static_cast<char>(n >> 16);
        *out++ = static_cast<char>(n >> 8);
        *out++ = static_cast<char>(n);
    }
    std::uint32_t acc = 0;
    int bits = 0;
    for (; i < text.size(); ++i) {
        const int v = sextet(text[i], allow_std);
        if (v < 0) return false;
        acc = (acc << 6) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            *out++ = static_cast<char>((acc >> bits) & 0xff);
        }
    }
    // Leftover bits must be zero (canonical encoding), so one text maps to one value.
    return (acc & ((1u << bits) - 1)) == 0;
}

std::optional<std::string> decode(std::string_view text, bool allow_std) {
    if (text.size() % 4 == 1) return std::nullopt;
    std::string out(text.size() * 3 / 4, '\0');
    if (!decode_to(text, allow_std, out.data())) return std::nullopt;
    return out;
}

}  // namespace

std::string base64url_encode(std::string_view bytes) {
    std::string out;
    base64url_append(out, bytes);
    return out;
}

void base64url_append(std::string& out, std::string_view bytes) {
    // Sized once and written by index (string::push_back per character cost ~15 instructions
    // each; a message URL is encoded on every push).
    const std::size_t at = out.size();
    out.resize(at + bytes.size() / 3 * 4 + (bytes.size() % 3 == 0 ? 0 : bytes.size() % 3 + 1));
    char* o = out.data() + at;
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        std::uint32_t n = (std::uint8_t(bytes[i]) << 16) | (std::uint8_t(bytes[i + 1]) << 8) |
                          std::uint8_t(bytes[i + 2]);
        *o++ = kUrlAlphabet[(n >> 18) & 63];
        *o++ = kUrlAlphabet[(n >> 12) & 63];
        *o++ = kUrlAlphabet[(n >> 6) & 63];
        *o++ = kUrlAlphabet[n & 63];
    }
    std::size_t rest = bytes.size() - i;
    if (rest == 1) {
        std::uint32_t n = std::uint8_t(bytes[i]) << 16;
        *o++ = kUrlAlphabet[(n >> 18) & 63];
        *o++ = kUrlAlphabet[(n >> 12) & 63];
    } else if (rest == 2) {
        std::uint32_t n = (std::uint8_t(bytes[i]) << 16) | (std::uint8_t(bytes[i + 1]) << 8);
        *o++ = kUrlAlphabet[(n >> 18) & 63];
        *o++ = kUrlAlphabet[(n >> 12) & 63];
        *o++ = kUrlAlphabet[(n >> 6) & 63];
    }
}

std::optional<std::string> base64url_decode(std::string_view text) { return decode(text, false); }

std::optional<std::size_t> base64url_decode_to(std::string_view text, std::span<char> out) {
    const std::size_t size = text.size() * 3 / 4;
    if (text.size() % 4 == 1 || size > out.size() || !decode_to(text, false, out.data()))
        return std::nullopt;
    return size;
}

std::optional<std::string> base64_decode_lenient(std::string_view text) {
    while (!text.empty() && text.back() == '=') text.remove_suffix(1);
    return decode(text, true);
}

bool is_base64url_alphabet(std::string_view text) {
    for (char c : text)
        if (sextet(c, false) < 0) return false;
    return true;
}

}  // namespace pushsvc::base
