#include "pushsvc/web/demo.h"

#include <boost/json.hpp>

#include "pushsvc/base/base64url.h"
#include "pushsvc/crypto/aes_gcm.h"
#include "pushsvc/crypto/random.h"
#include "pushsvc/crypto/webpush_keys.h"

namespace pushsvc::web {

result<std::string> encrypt_aes128gcm(std::string_view ua_public, std::string_view auth,
                                      std::string_view plaintext) {
    if (auth.size() != 16) return errc::bad_request;
    auto sender = crypto::P256PrivateKey::generate();
    std::string secret = sender.ecdh(ua_public);
    if (secret.empty()) return errc::bad_request;  // not a P-256 point
    std::string salt = crypto::random_bytes(16);
    std::string as_public = sender.public_raw();
    auto [cek, nonce] = crypto::aes128gcm_keys(secret, auth, ua_public, as_public, salt);
    // One record of plaintext + delimiter + tag, within the usual record size.
    constexpr std::uint32_t rs = 4096;
    if (plaintext.size() + 1 + crypto::kGcmTagSize > rs) return errc::payload_too_large;
    std::string body = salt;
    for (int shift : {24, 16, 8, 0}) body.push_back(char((rs >> shift) & 0xff));
    body.push_back(char(as_public.size()));
    body += as_public;
    std::string record(plaintext);
    record.push_back('\x02');  // last record (RFC 8188 §2), no padding
    body += crypto::aes_gcm_seal(cek, nonce, record);
    return body;
}

std::string vapid_authorization(const crypto::P256PrivateKey& key, std::string_view aud,
                                std::string_view sub, std::int64_t exp_s) {
    boost::json::object claims{{"aud", aud}, {"exp", exp_s}, {"sub", sub}};
    std::string input = base::base64url_encode(R"({"typ":"JWT","alg":"ES256"})") + "." +
                        base::base64url_encode(boost::json::serialize(claims));
    std::string jwt = input + "." + base::base64url_encode(key.sign_es256(input));
    return "vapid t=" + jwt + ", k=" + base::base64url_encode(key.public_raw());
}

}  // namespace pushsvc::web
