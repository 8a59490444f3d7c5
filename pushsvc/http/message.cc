#include "pushsvc/http/message.h"

namespace pushsvc::http {

void Fields::add(std::string name, std::string value) {
    // Room for a push's fields at the first one, instead of growing 1, 2, 4, 8 (each step
    // moving every field so far).
    if (fields_.empty()) fields_.reserve(8);
    fields_.push_back({std::move(name), std::move(value)});
}

std::optional<std::string> Fields::get(std::string_view name) const {
    std::optional<std::string> out;
    for (const auto& f : fields_) {
        if (f.name != name) continue;
        if (out) {
            out->append(", ");
            out->append(f.value);
        } else {
            out = f.value;
        }
    }
    return out;
}

std::optional<std::string> Fields::take(std::string_view name) {
    Field* only = nullptr;
    for (auto& f : fields_) {
        if (f.name != name) continue;
        if (only) return get(name);  // repeated: joined
        only = &f;
    }
    if (!only) return std::nullopt;
    return std::exchange(only->value, {});
}

bool transport_owned(std::string_view name) noexcept {
    static constexpr std::string_view kOwned[] = {
        "connection", "keep-alive", "proxy-connection", "transfer-encoding",
        "upgrade",    "te",         "trailer",          "content-length",
        "date",       "server"};
    for (auto owned : kOwned)
        if (owned == name) return true;
    return false;
}

std::size_t Fields::count(std::string_view name) const noexcept {
    std::size_t n = 0;
    for (const auto& f : fields_)
        if (f.name == name) ++n;
    return n;
}

}  // namespace pushsvc::http
