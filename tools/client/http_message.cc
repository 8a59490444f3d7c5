#include "tools/client/http_message.h"

#include <algorithm>

#include "tools/client/header_params.h"

namespace webpush_client {

void Headers::set(std::string name, std::string value) {
    remove(name);
    add(std::move(name), std::move(value));
}

void Headers::remove(std::string_view name) {
    fields_.erase(std::remove_if(fields_.begin(), fields_.end(),
                                 [&](const Field& f) { return iequals(f.first, name); }),
                  fields_.end());
}

std::optional<std::string> Headers::get(std::string_view name) const {
    for (const auto& f : fields_) {
        if (iequals(f.first, name)) return f.second;
    }
    return std::nullopt;
}

std::vector<std::string> Headers::get_all(std::string_view name) const {
    std::vector<std::string> out;
    for (const auto& f : fields_) {
        if (iequals(f.first, name)) out.push_back(f.second);
    }
    return out;
}

}  // namespace webpush_client
