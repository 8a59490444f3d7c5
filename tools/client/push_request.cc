#include "tools/client/push_request.h"

namespace webpush_client {

Result<HttpRequest> build_push_request(const Subscription& subscription, const Bytes& payload,
                                       const PushOptions& options) {
    HttpRequest req;
    req.method = "POST";
    req.url = subscription.endpoint;
    if (options.ttl) req.headers.add("TTL", std::to_string(*options.ttl));
    if (options.urgency) req.headers.add("Urgency", *options.urgency);
    if (options.topic) req.headers.add("Topic", *options.topic);

    std::string crypto_key;
    ContentEncoding encoding = options.encryption.encoding;
    if (!payload.empty()) {
        auto key = subscription.public_key();
        if (!key) return key.error();
        auto enc = encrypt_payload(*key, subscription.auth, payload, options.encryption);
        if (!enc) return enc.error();
        req.body = to_string(enc->body);
        req.headers.add("Content-Type", "application/octet-stream");
        req.headers.add("Content-Encoding", std::string(to_string(encoding)));
        if (encoding == ContentEncoding::aesgcm) {
            req.headers.add("Encryption", enc->encryption);
            crypto_key = enc->crypto_key;
        }
    }

    if (options.vapid) {
        const VapidOptions& v = *options.vapid;
        VapidClaims claims;
        if (v.audience) {
            claims.aud = *v.audience;
        } else {
            auto aud = vapid_audience(subscription.endpoint, v.audience_keeps_port);
            if (!aud) return aud.error();
            claims.aud = *aud;
        }
        claims.exp = v.exp ? *v.exp : default_vapid_expiry();
        claims.sub = v.subject;
        VapidScheme scheme = v.scheme.value_or(
            encoding == ContentEncoding::aesgcm ? VapidScheme::webpush : VapidScheme::vapid);
        auto headers = make_vapid_headers(v.key, claims, scheme);
        if (!headers) return headers.error();
        req.headers.add("Authorization", headers->authorization);
        if (!headers->crypto_key.empty()) {
            // web-push order: dh first, then p256ecdsa, joined by ';'.
            crypto_key =
                crypto_key.empty() ? headers->crypto_key : crypto_key + ";" + headers->crypto_key;
        }
    }
    if (!crypto_key.empty()) req.headers.add("Crypto-Key", crypto_key);
    for (const auto& [name, value] : options.extra_headers) req.headers.add(name, value);
    return req;
}

}  // namespace webpush_client
