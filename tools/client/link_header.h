#pragma once
// Link header fields (RFC 8288 §3) as RFC 8030 uses them: the subscribe response names the
// push resource with rel="urn:ietf:params:push" (§4), an optional subscription set with
// rel="urn:ietf:params:push:set" (§4.1) and receipts with rel="urn:ietf:params:push:receipt"
// (§5.1). Accepts several fields and comma-joined values; rel may hold several
// space-separated relation types. Pure.

#include <optional>
#include <string>
#include <vector>

namespace webpush_client {

inline constexpr char kRelPush[] = "urn:ietf:params:push";
inline constexpr char kRelPushSet[] = "urn:ietf:params:push:set";
inline constexpr char kRelPushReceipt[] = "urn:ietf:params:push:receipt";

struct Link {
    std::string uri;  // as written (may be relative)
    std::vector<std::string> rels;
};

std::vector<Link> parse_link_headers(const std::vector<std::string>& values);
// URIs of every link with the given relation type.
std::vector<std::string> find_links(const std::vector<std::string>& values, std::string_view rel);

}  // namespace webpush_client
