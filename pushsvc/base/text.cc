#include "pushsvc/base/text.h"

#include <algorithm>

namespace pushsvc::base {
namespace {
constexpr bool is_ows(char c) { return c == ' ' || c == '\t'; }
constexpr char lower(char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }

// Position of the next ';' or ',' at or after `from`, npos if none. (string_view's
// find_first_of calls memchr once per character: half the time of parsing a VAPID header.)
std::size_t find_separator(std::string_view v, std::size_t from) {
    for (; from < v.size(); ++from)
        if (v[from] == ';' || v[from] == ',') return from;
    return std::string_view::npos;
}
}  // namespace

std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
    return s;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                              [](char x, char y) { return lower(x) == lower(y); });
}

std::string to_lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = lower(c);
    return out;
}

bool is_lower(std::string_view s) noexcept {
    for (char c : s)
        if (lower(c) != c) return false;
    return true;
}

std::vector<std::string_view> split(std::string_view s, char delim) {
    std::vector<std::string_view> out;
    while (true) {
        auto pos = s.find(delim);
        out.push_back(trim(s.substr(0, pos)));
        if (pos == std::string_view::npos) break;
        s.remove_prefix(pos + 1);
    }
    return out;
}

std::optional<std::vector<Param>> parse_params(std::string_view value) {
    std::vector<Param> out;
    std::size_t i = 0;
    while (i < value.size()) {
        // Skip separators and whitespace between items.
        while (i < value.size() && (is_ows(value[i]) || value[i] == ';' || value[i] == ',')) ++i;
        if (i >= value.size()) break;
        std::size_t eq = value.find('=', i);
        std::size_t sep = find_separator(value, i);
        if (eq == std::string_view::npos || (sep != std::string_view::npos && sep < eq))
            return std::nullopt;
        std::string_view name = trim(value.substr(i, eq - i));
        if (name.empty()) return std::nullopt;
        i = eq + 1;
        while (i < value.size() && is_ows(value[i])) ++i;
        std::string val;
        if (i < value.size() && value[i] == '"') {
            ++i;
            bool closed = false;
            while (i < value.size()) {
                char c = value[i++];
                if (c == '\\' && i < value.size()) {
                    val.push_back(value[i++]);
                } else if (c == '"') {
                    closed = true;
                    break;
                } else {
                    val.push_back(c);
                }
            }
            if (!closed) return std::nullopt;
        } else {
            std::size_t end = find_separator(value, i);
            if (end == std::string_view::npos) end = value.size();
            val = std::string(trim(value.substr(i, end - i)));
            i = end;
        }
        out.push_back({to_lower(name), std::move(val)});
    }
    return out;
}

const Param* find_param(const std::vector<Param>& params, std::string_view name) noexcept {
    for (const auto& p : params)
        if (p.name == name) return &p;
    return nullptr;
}

}  // namespace pushsvc::base
