#pragma once
// RFC 8030 §5.3 Urgency: very-low < low < normal < high. Absent means normal (R8030-5.3-c).

#include <cstdint>
#include <optional>
#include <string_view>

#include "pushsvc/base/result.h"

namespace pushsvc::webpush {

enum class Urgency : std::uint8_t { very_low = 0, low = 1, normal = 2, high = 3 };

std::string_view to_string(Urgency u) noexcept;

// The value of an Urgency header (sender's POST or UA's monitoring GET). Case-insensitive
// (ABNF literals, R8030-5.3-g); absent -> normal; an unknown value, an empty value or more
// than one value (a list, or a repeated field joined with ", ") -> errc::urgency_invalid
// (R8030-5.3-h, choice A-2).
result<Urgency> parse_urgency(const std::optional<std::string>& header);

}  // namespace pushsvc::webpush
