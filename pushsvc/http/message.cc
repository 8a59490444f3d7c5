#include "pushsvc/http/message.h"

namespace pushsvc::http {

void Fields::add(std::string name, std::string value) {
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

std::size_t Fields::count(std::string_view name) const noexcept {
    std::size_t n = 0;
    for (const auto& f : fields_)
        if (f.name == name) ++n;
    return n;
}

}  // namespace pushsvc::http
