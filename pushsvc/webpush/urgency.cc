#include "pushsvc/webpush/urgency.h"

#include "pushsvc/base/text.h"

namespace pushsvc::webpush {

std::string_view to_string(Urgency u) noexcept {
    switch (u) {
        case Urgency::very_low:
            return "very-low";
        case Urgency::low:
            return "low";
        case Urgency::normal:
            return "normal";
        case Urgency::high:
            return "high";
    }
    return "normal";
}

result<Urgency> parse_urgency(const std::optional<std::string>& header) {
    if (!header) return Urgency::normal;
    std::string_view v = base::trim(*header);
    for (auto u : {Urgency::very_low, Urgency::low, Urgency::normal, Urgency::high})
        if (base::iequals(v, to_string(u))) return u;
    return errc::urgency_invalid;
}

}  // namespace pushsvc::webpush
