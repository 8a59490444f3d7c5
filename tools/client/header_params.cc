#include "tools/client/header_params.h"

#include <cctype>

namespace webpush_client {
namespace {

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    bool quoted = false;
    std::size_t start = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '"') quoted = !quoted;
        if (s[i] == sep && !quoted) {
            out.push_back(s.substr(start, i - start));
            start = i + 1;
        }
    }
    out.push_back(s.substr(start));
    return out;
}

ParamList parse_entry(std::string_view entry) {
    ParamList out;
    for (std::string_view part : split(entry, ';')) {
        part = trim(part);
        if (part.empty()) continue;
        std::size_t eq = part.find('=');
        std::string name(trim(part.substr(0, eq)));
        for (char& c : name) c = char(std::tolower(static_cast<unsigned char>(c)));
        std::string_view value = eq == std::string_view::npos ? "" : trim(part.substr(eq + 1));
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
            value = value.substr(1, value.size() - 2);
        }
        out.emplace_back(std::move(name), std::string(value));
    }
    return out;
}

}  // namespace

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(a[i])) !=
            std::tolower(static_cast<unsigned char>(b[i]))) {
            return false;
        }
    }
    return true;
}

std::vector<ParamList> parse_param_entries(std::string_view value) {
    std::vector<ParamList> out;
    for (std::string_view entry : split(value, ',')) {
        ParamList params = parse_entry(entry);
        if (!params.empty()) out.push_back(std::move(params));
    }
    return out;
}

ParamList parse_params_flat(std::string_view value) {
    ParamList out;
    for (auto& entry : parse_param_entries(value)) {
        for (auto& p : entry) out.push_back(std::move(p));
    }
    return out;
}

const std::string* find_param(const ParamList& params, std::string_view name) {
    for (const auto& [k, v] : params) {
        if (iequals(k, name)) return &v;
    }
    return nullptr;
}

}  // namespace webpush_client
