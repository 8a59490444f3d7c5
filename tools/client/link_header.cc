#include "tools/client/link_header.h"

#include "tools/client/header_params.h"

namespace webpush_client {

std::vector<Link> parse_link_headers(const std::vector<std::string>& values) {
    std::vector<Link> out;
    for (const std::string& value : values) {
        std::size_t pos = 0;
        while (pos < value.size()) {
            std::size_t lt = value.find('<', pos);
            if (lt == std::string::npos) break;
            std::size_t gt = value.find('>', lt);
            if (gt == std::string::npos) break;
            Link link;
            link.uri = value.substr(lt + 1, gt - lt - 1);
            // Parameters run to the next ',' outside quotes.
            std::size_t end = gt + 1;
            bool quoted = false;
            while (end < value.size() && (quoted || value[end] != ',')) {
                if (value[end] == '"') quoted = !quoted;
                ++end;
            }
            std::string_view params(value.data() + gt + 1, end - gt - 1);
            for (const auto& [name, v] : parse_params_flat(params)) {
                if (name != "rel") continue;
                std::string_view rels = v;
                while (!rels.empty()) {
                    std::size_t sp = rels.find(' ');
                    std::string_view r = trim(rels.substr(0, sp));
                    if (!r.empty()) link.rels.emplace_back(r);
                    if (sp == std::string_view::npos) break;
                    rels.remove_prefix(sp + 1);
                }
            }
            out.push_back(std::move(link));
            pos = end + 1;
        }
    }
    return out;
}

std::vector<std::string> find_links(const std::vector<std::string>& values, std::string_view rel) {
    std::vector<std::string> out;
    for (const Link& link : parse_link_headers(values)) {
        for (const auto& r : link.rels) {
            if (iequals(r, rel)) {
                out.push_back(link.uri);
                break;
            }
        }
    }
    return out;
}

}  // namespace webpush_client
