#include "tools/client/base64url.h"

#include <array>

namespace webpush_client {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr std::array<std::int8_t, 256> make_reverse() {
    std::array<std::int8_t, 256> table{};
    for (auto& v : table) v = -1;
    for (int i = 0; i < 64; ++i) table[static_cast<unsigned char>(kAlphabet[i])] = std::int8_t(i);
    return table;
}
constexpr auto kReverse = make_reverse();

}  // namespace

std::string base64url_encode(const std::uint8_t* data, std::size_t size) {
    std::string out;
    out.reserve((size + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= size; i += 3) {
        std::uint32_t v =
            (std::uint32_t(data[i]) << 16) | (std::uint32_t(data[i + 1]) << 8) | data[i + 2];
        out.push_back(kAlphabet[(v >> 18) & 63]);
        out.push_back(kAlphabet[(v >> 12) & 63]);
        out.push_back(kAlphabet[(v >> 6) & 63]);
        out.push_back(kAlphabet[v & 63]);
    }
    if (size - i == 1) {
        std::uint32_t v = std::uint32_t(data[i]) << 16;
        out.push_back(kAlphabet[(v >> 18) & 63]);
        out.push_back(kAlphabet[(v >> 12) & 63]);
    } else if (size - i == 2) {
        std::uint32_t v = (std::uint32_t(data[i]) << 16) | (std::uint32_t(data[i + 1]) << 8);
        out.push_back(kAlphabet[(v >> 18) & 63]);
        out.push_back(kAlphabet[(v >> 12) & 63]);
        out.push_back(kAlphabet[(v >> 6) & 63]);
    }
    return out;
}

std::string base64url_encode(std::string_view data) {
    return base64url_encode(reinterpret_cast<const std::uint8_t*>(data.data()), data.size());
}

Result<Bytes> base64url_decode(std::string_view text) {
    std::size_t pad = 0;
    while (!text.empty() && text.back() == '=') {
        text.remove_suffix(1);
        ++pad;
    }
    if (text.size() % 4 == 1) {
        return make_error(Errc::invalid_base64, "base64url: impossible length");
    }
    if (pad != 0 && (text.size() + pad) % 4 != 0) {
        return make_error(Errc::invalid_base64, "base64url: wrong padding");
    }
    Bytes out;
    out.reserve(text.size() * 3 / 4);
    std::uint32_t acc = 0;
    int bits = 0;
    for (char c : text) {
        std::int8_t v = kReverse[static_cast<unsigned char>(c)];
        if (v < 0) {
            return make_error(Errc::invalid_base64, "base64url: invalid character");
        }
        acc = (acc << 6) | std::uint32_t(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(std::uint8_t((acc >> bits) & 0xff));
        }
    }
    return out;
}

Bytes to_bytes(std::string_view text) { return Bytes(text.begin(), text.end()); }

std::string to_string(const Bytes& bytes) { return std::string(bytes.begin(), bytes.end()); }

}  // namespace webpush_client
