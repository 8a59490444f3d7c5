#pragma once
// Helpers shared by the harnesses. FUZZ_CHECK states an invariant of the code under test: when
// it fails the harness aborts, so libFuzzer saves the input as a crash (a silent wrong answer
// is a finding too, not only a sanitizer report).

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#define FUZZ_CHECK(cond)                                                                      \
    do {                                                                                      \
        if (!(cond)) {                                                                        \
            std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
            std::abort();                                                                     \
        }                                                                                     \
    } while (0)

namespace pushsvc::fuzz {

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

// Splits `in` at '\n' into at most `max` parts (the last part keeps any further newlines), so
// one input can carry several header values or messages and seeds stay readable text.
inline std::vector<std::string_view> split_lines(std::string_view in, std::size_t max) {
    std::vector<std::string_view> parts;
    while (parts.size() + 1 < max) {
        const auto nl = in.find('\n');
        if (nl == std::string_view::npos) break;
        parts.push_back(in.substr(0, nl));
        in.remove_prefix(nl + 1);
    }
    parts.push_back(in);
    return parts;
}

// A header value from a line: "-" alone means "field absent", so seeds can express both.
inline std::optional<std::string> field(std::string_view line) {
    if (line == "-") return std::nullopt;
    return std::string(line);
}

}  // namespace pushsvc::fuzz
