#include "pushsvc/base/errc.h"

#include <string>

namespace pushsvc {
namespace {

class Category final : public boost::system::error_category {
  public:
    const char* name() const noexcept override { return "pushsvc"; }
    std::string message(int ev) const override {
        return std::string(errc_name(static_cast<errc>(ev)));
    }
};

}  // namespace

const boost::system::error_category& pushsvc_category() noexcept {
    static const Category category;
    return category;
}

std::string_view errc_name(errc e) noexcept {
    switch (e) {
        case errc::ok:
            return "ok";
        case errc::bad_request:
            return "bad_request";
        case errc::ttl_missing:
            return "ttl_missing";
        case errc::ttl_invalid:
            return "ttl_invalid";
        case errc::urgency_invalid:
            return "urgency_invalid";
        case errc::topic_invalid:
            return "topic_invalid";
        case errc::encoding_invalid:
            return "encoding_invalid";
        case errc::encryption_headers:
            return "encryption_headers";
        case errc::body_malformed:
            return "body_malformed";
        case errc::same_key:
            return "same_key";
        case errc::bad_subscribe_key:
            return "bad_subscribe_key";
        case errc::bad_json:
            return "bad_json";
        case errc::unknown_set:
            return "unknown_set";
        case errc::push_unavailable:
            return "push_unavailable";
        case errc::unknown_receipt:
            return "unknown_receipt";
        case errc::websocket_required:
            return "websocket_required";
        case errc::foreign_endpoint:
            return "foreign_endpoint";
        case errc::framing_invalid:
            return "framing_invalid";
        case errc::chunk_metadata:
            return "chunk_metadata";
        case errc::websocket_version:
            return "websocket_version";
        case errc::vapid_missing:
            return "vapid_missing";
        case errc::vapid_invalid:
            return "vapid_invalid";
        case errc::vapid_key_mismatch:
            return "vapid_key_mismatch";
        case errc::admin_token_missing:
            return "admin_token_missing";
        case errc::admin_token_invalid:
            return "admin_token_invalid";
        case errc::admin_forbidden:
            return "admin_forbidden";
        case errc::cluster_auth_missing:
            return "cluster_auth_missing";
        case errc::cluster_auth_invalid:
            return "cluster_auth_invalid";
        case errc::not_found:
            return "not_found";
        case errc::token_invalid:
            return "token_invalid";
        case errc::subscription_gone:
            return "subscription_gone";
        case errc::method_not_allowed:
            return "method_not_allowed";
        case errc::payload_too_large:
            return "payload_too_large";
        case errc::header_too_large:
            return "header_too_large";
        case errc::too_many_requests:
            return "too_many_requests";
        case errc::rate_limited:
            return "rate_limited";
        case errc::store_failure:
            return "store_failure";
        case errc::unavailable:
            return "unavailable";
        case errc::internal:
            return "internal";
    }
    return "unknown";
}

}  // namespace pushsvc
