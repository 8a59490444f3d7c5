#include "tools/client/url.h"

#include <boost/url.hpp>

namespace webpush_client {
namespace urls = boost::urls;

std::string Url::authority() const {
    std::string out = host_is_ipv6 ? "[" + host + "]" : host;
    if (!default_port()) out += ":" + std::to_string(port);
    return out;
}

std::string Url::origin(bool keep_port) const {
    std::string out = scheme + "://" + (host_is_ipv6 ? "[" + host + "]" : host);
    if (keep_port && !default_port()) out += ":" + std::to_string(port);
    return out;
}

Result<Url> parse_url(std::string_view text) {
    auto parsed = urls::parse_absolute_uri(text);
    if (!parsed) {
        return make_error(Errc::invalid_argument, "not an absolute URL: " + std::string(text));
    }
    Url u;
    u.scheme = std::string(parsed->scheme());
    for (char& c : u.scheme) c = char(std::tolower(static_cast<unsigned char>(c)));
    if (u.scheme != "http" && u.scheme != "https" && u.scheme != "ws" && u.scheme != "wss") {
        return make_error(Errc::invalid_argument, "unsupported URL scheme: " + u.scheme);
    }
    if (!parsed->has_authority() || parsed->encoded_host().empty()) {
        return make_error(Errc::invalid_argument, "URL has no host: " + std::string(text));
    }
    u.host_is_ipv6 = parsed->host_type() == urls::host_type::ipv6;
    u.host = u.host_is_ipv6 ? std::string(parsed->encoded_host_address())
                            : std::string(parsed->encoded_host());
    if (parsed->has_port()) {
        if (parsed->port_number() == 0) {
            return make_error(Errc::invalid_argument, "bad port in URL: " + std::string(text));
        }
        u.port = parsed->port_number();
    } else {
        u.port = u.tls() ? 443 : 80;
    }
    u.target = std::string(parsed->encoded_path());
    if (u.target.empty()) u.target = "/";
    if (parsed->has_query()) u.target += "?" + std::string(parsed->encoded_query());
    return u;
}

Result<std::string> resolve_url(std::string_view base, std::string_view reference) {
    auto b = urls::parse_absolute_uri(base);
    auto r = urls::parse_uri_reference(reference);
    if (!b || !r) {
        return make_error(Errc::invalid_argument, "cannot resolve URL " + std::string(reference));
    }
    urls::url out;
    auto rv = urls::resolve(*b, *r, out);
    if (!rv) {
        return make_error(Errc::invalid_argument, "cannot resolve URL " + std::string(reference));
    }
    return std::string(out.buffer());
}

}  // namespace webpush_client
