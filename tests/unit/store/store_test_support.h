#pragma once
// Helpers shared by the store tests: a scratch directory, result unwrapping, record builders.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>

#include "pushsvc/base/result.h"
#include "pushsvc/store/records.h"

namespace pushsvc::store::testing {

inline constexpr base::UnixMs kT0 = 1'700'000'000'000;

// A fresh directory under /tmp, removed with everything in it on destruction.
class TempDir {
  public:
    TempDir() {
        std::string tmpl = "/tmp/pushsvc-store-test-XXXXXX";
        if (::mkdtemp(tmpl.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
        path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }

  private:
    std::string path_;
};

// The value of a result, recording a test failure (and returning T{}) on error.
template <class T>
T must(result<T> r) {
    if (!r) {
        ADD_FAILURE() << "store error: " << r.error().message();
        return T{};
    }
    return std::move(*r);
}

inline void must(result<void> r) {
    if (!r) ADD_FAILURE() << "store error: " << r.error().message();
}

inline MessageRecord make_message(std::string id, std::string uaid, std::string sub,
                                  std::uint32_t ttl_s = 600, std::string topic = "",
                                  base::UnixMs received_ms = kT0) {
    MessageRecord m;
    m.id = std::move(id);
    m.uaid = std::move(uaid);
    m.subscription_id = std::move(sub);
    m.received_ms = received_ms;
    m.ttl_s = ttl_s;
    m.expires_ms = received_ms + static_cast<base::UnixMs>(ttl_s) * 1000;
    m.topic = std::move(topic);
    m.content_encoding = "aes128gcm";
    m.body = "body-" + m.id;
    return m;
}

inline SubscriptionRecord make_subscription(std::string id, std::string uaid) {
    SubscriptionRecord s;
    s.id = std::move(id);
    s.uaid = std::move(uaid);
    s.created_ms = kT0;
    return s;
}

}  // namespace pushsvc::store::testing
