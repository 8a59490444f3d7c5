#pragma once
// Small text helpers for HTTP field values (RFC 9110 §5.6: OWS, tokens, quoted-string,
// case-insensitive names).

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pushsvc::base {

std::string_view trim(std::string_view s) noexcept;
bool iequals(std::string_view a, std::string_view b) noexcept;
std::string to_lower(std::string_view s);
// Whether to_lower(s) == s (no ASCII upper-case letter).
bool is_lower(std::string_view s) noexcept;

// Splits on a delimiter; empty pieces are kept (after trimming) so callers can reject them.
std::vector<std::string_view> split(std::string_view s, char delim);

// One `name=value` parameter; name lower-cased, value unquoted.
struct Param {
    std::string name;
    std::string value;
};

// Parses a parameter list where both ';' and ',' separate items, as real senders emit in
// Crypto-Key / Encryption (`dh=A;p256ecdsa=B`, `dh=A, p256ecdsa=B`, quoted values; see
// RVAPID01-4-b in docs/checklist.md). Empty items are skipped. Returns nullopt when an item
// has no '=' or an empty name.
std::optional<std::vector<Param>> parse_params(std::string_view value);

// The first parameter named `name` (lower-case), if any.
const Param* find_param(const std::vector<Param>& params, std::string_view name) noexcept;

}  // namespace pushsvc::base
