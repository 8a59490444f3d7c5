#include "pushsvc/config/cluster_check.h"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace pushsvc::config {
namespace {

// "host:port" -> host, without IPv6 brackets; "" when there is no ':'.
std::string host_of(const std::string& address) {
    auto colon = address.rfind(':');
    if (colon == std::string::npos) return "";
    std::string host = address.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    return host;
}

bool is_port(std::string_view p) {
    if (p.empty() || p.size() > 5) return false;
    for (char ch : p)
        if (ch < '0' || ch > '9') return false;
    return std::stoi(std::string(p)) <= 65535;
}

}  // namespace

// [cluster]: every key but `listen` only means something with it, and the checks that make a
// node reachable and its requests authentic happen here, not when the first push is routed.
void validate_cluster(const Config& c) {
    const auto& k = c.cluster;
    if (k.listen.empty()) {
        for (const auto& [name, value] :
             {std::pair{"cluster.advertise", &k.advertise},
              std::pair{"cluster.node_id", &k.node_id}, std::pair{"cluster.secret", &k.secret}})
            if (!value->empty())
                throw std::runtime_error(std::string("config: ") + name +
                                         " is set but cluster.listen is not: set cluster.listen "
                                         "to turn cluster routing on");
        return;
    }
    const auto colon = k.listen.rfind(':');
    if (colon == std::string::npos || !is_port(std::string_view(k.listen).substr(colon + 1)))
        throw std::runtime_error("config: cluster.listen must be host:port, e.g. 10.0.0.5:8081");
    if (c.store.backend != "postgres")
        throw std::runtime_error(
            "config: cluster.listen needs store.backend = \"postgres\": nodes find each other's "
            "user agents through the shared database");
    // Long enough that guessing it online is hopeless (`openssl rand -hex 32` gives 64).
    if (k.secret.size() < 32)
        throw std::runtime_error(
            "config: cluster.secret must be set, at least 32 characters, the same on every node");
    if (k.advertise.empty()) {
        const std::string host = host_of(k.listen);
        if (host.empty() || host == "0.0.0.0" || host == "::")
            throw std::runtime_error(
                "config: cluster.listen binds every address: set cluster.advertise to the URL "
                "other nodes use, e.g. http://10.0.0.5:8081");
        if (std::string_view(k.listen).substr(colon + 1) == "0")
            return;  // port 0: advertised as bound (tests, tools/cluster.sh)
    } else {
        constexpr std::string_view kScheme = "http://";
        const std::string_view rest =
            std::string_view(k.advertise).substr(std::min(k.advertise.size(), kScheme.size()));
        const auto port_at = rest.rfind(':');
        if (k.advertise.rfind(kScheme, 0) != 0 || rest.find('/') != std::string_view::npos ||
            port_at == std::string_view::npos || port_at == 0 || !is_port(rest.substr(port_at + 1)))
            throw std::runtime_error(
                "config: cluster.advertise must be http://host:port (no path), the address "
                "other nodes reach cluster.listen at");
    }
    if (k.node_id.size() > 255)
        throw std::runtime_error("config: cluster.node_id must be at most 255 characters");
    for (unsigned char ch : k.node_id)
        if (ch <= ' ' || ch >= 0x7f)
            throw std::runtime_error(
                "config: cluster.node_id must be printable ASCII without spaces");
}

}  // namespace pushsvc::config
