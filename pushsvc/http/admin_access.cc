#include "pushsvc/http/admin_access.h"

#include <boost/asio/ip/address.hpp>

#include <cctype>

#include "pushsvc/crypto/hash.h"
#include "pushsvc/http/error_map.h"

namespace pushsvc::http {
namespace {

// The credentials of `Authorization: Bearer <token>` (RFC 6750 §2.1; the scheme is
// case-insensitive, RFC 9110 §11.1), or nullopt when the field is absent or another scheme.
std::optional<std::string> bearer_token(const Request& req) {
    auto value = req.headers.get("authorization");
    if (!value) return std::nullopt;
    std::string_view v = *value;
    constexpr std::string_view kScheme = "bearer ";
    if (v.size() < kScheme.size()) return std::nullopt;
    for (std::size_t i = 0; i < kScheme.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(v[i])) != kScheme[i]) return std::nullopt;
    v.remove_prefix(kScheme.size());
    while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
    while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
    return std::string(v);
}

}  // namespace

bool is_loopback_address(std::string_view address) {
    boost::system::error_code ec;
    auto a = boost::asio::ip::make_address(std::string(address), ec);
    if (ec) return false;
    if (a.is_v6() && a.to_v6().is_v4_mapped())
        return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, a.to_v6())
            .is_loopback();
    return a.is_loopback();
}

std::optional<Response> check_admin(const Request& req, const AdminAccess& access,
                                    config::Profile profile) {
    auto offered = bearer_token(req);
    if (offered && !access.token.empty()) {
        // Digests of equal length: the comparison's time says nothing about either string.
        if (crypto::constant_time_equal(crypto::sha256(*offered), crypto::sha256(access.token)))
            return std::nullopt;
        return error_response(errc::admin_token_invalid, profile);
    }
    if (access.loopback_without_token && is_loopback_address(req.peer_address)) return std::nullopt;
    if (access.token.empty()) {
        if (access.admin_listener) return std::nullopt;
        return error_response(errc::admin_forbidden, profile);
    }
    return error_response(offered ? errc::admin_token_invalid : errc::admin_token_missing, profile);
}

}  // namespace pushsvc::http
