#pragma once
// The try-it page's sending half (GET /demo, POST /demo/send): pushsvc acts as the application
// server for a browser that subscribed on the page, so an operator can see a notification
// arrive without writing a sender. It encrypts like any sender must (RFC 8291 aes128gcm) and
// signs with the service's demo VAPID key (RFC 8292), then hands the request to the service's
// own POST /push/<token> route, so the push takes exactly the path, checks and limits of any
// other. It gives no one a power they did not have: anyone may push to an endpoint they know,
// and the demo key opens only subscriptions made for the demo key.
//
// Pure functions, thread-safe.

#include <cstdint>
#include <string>
#include <string_view>

#include "pushsvc/base/result.h"
#include "pushsvc/crypto/p256.h"

namespace pushsvc::web {

// RFC 8291 §3.4 + RFC 8188 §2: one record, a fresh sender key and salt per call. `ua_public`
// is the subscription's p256dh (65 octets), `auth` its 16-octet secret. errc::bad_request when
// either is malformed, errc::payload_too_large above one 4096-octet record.
result<std::string> encrypt_aes128gcm(std::string_view ua_public, std::string_view auth,
                                      std::string_view plaintext);

// `vapid t=<jwt>, k=<public key>` (RFC 8292 §2-§3) for audience `aud` (an origin), expiring
// at `exp_s` (Unix seconds), with `sub` as the contact.
std::string vapid_authorization(const crypto::P256PrivateKey& key, std::string_view aud,
                                std::string_view sub, std::int64_t exp_s);

}  // namespace pushsvc::web
