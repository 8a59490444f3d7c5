#pragma once
// The user agent's half of a subscription (RFC 8291 §3.1, §3.2): a P-256 ECDH key pair made
// per subscription and a 16-octet CSPRNG auth secret. What a browser keeps private; it hands
// out only subscription(endpoint). Value type; thread-safe for concurrent const use.

#include <string>

#include "tools/client/push_encryption.h"
#include "tools/client/subscription.h"

namespace boost::json {
class object;
}

namespace webpush_client {

class UserAgentKeys {
  public:
    static UserAgentKeys generate();
    static Result<UserAgentKeys> from_private(const Bytes& private_scalar, const Bytes& auth);
    static Result<UserAgentKeys> from_base64url(std::string_view private_scalar,
                                                std::string_view auth);

    const P256Key& key() const { return key_; }
    const Bytes& auth() const { return auth_; }

    // The PushSubscription a sender needs.
    Subscription subscription(std::string endpoint) const;

    Result<Bytes> decrypt(const Bytes& body, const EncodingHeaders& headers) const {
        return decrypt_payload(key_, auth_, body, headers);
    }

    // Private JSON form: {"private_key", "p256dh", "auth"} (base64url). Secret material:
    // only for state files of test user agents.
    void to_json(boost::json::object& out) const;
    static Result<UserAgentKeys> from_json(const boost::json::object& in);

  private:
    UserAgentKeys(P256Key key, Bytes auth) : key_(std::move(key)), auth_(std::move(auth)) {}
    P256Key key_;
    Bytes auth_;
};

}  // namespace webpush_client
