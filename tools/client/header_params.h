#pragma once
// Parser for the parameter lists of Encryption and Crypto-Key (draft-ietf-httpbis-encryption-
// encoding-03 §3, §4) and of RFC 7235 auth-params: entries separated by ',', parameters within
// an entry by ';', each `name=value` with optional whitespace and optional double quotes.
// Names are lower-cased. Pure.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace webpush_client {

using ParamList = std::vector<std::pair<std::string, std::string>>;

// One entry per ','-separated element.
std::vector<ParamList> parse_param_entries(std::string_view value);
// All parameters of all entries, flattened (for headers where ',' and ';' both separate).
ParamList parse_params_flat(std::string_view value);
const std::string* find_param(const ParamList& params, std::string_view name);

std::string_view trim(std::string_view s);
bool iequals(std::string_view a, std::string_view b);

}  // namespace webpush_client
