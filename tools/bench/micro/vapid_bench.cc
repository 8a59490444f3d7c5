// Micro-benchmarks: VAPID token verification, uncached (one ECDSA P-256 verify per push) and
// answered from TokenCache (what a sender reusing its JWT costs).
#include <benchmark/benchmark.h>

#include <chrono>
#include <ctime>

#include "pushsvc/vapid/credentials.h"
#include "pushsvc/vapid/jwt.h"
#include "pushsvc/vapid/token_cache.h"
#include "tools/client/vapid.h"

namespace {

using namespace pushsvc;
namespace wc = webpush_client;

constexpr char kAud[] = "http://127.0.0.1:8080";
const std::string kAudiences[] = {kAud};

struct Fixture {
    vapid::Credentials creds;
    vapid::VerifyOptions opts;
    Fixture() {
        auto key = wc::P256Key::generate();
        auto now = static_cast<std::int64_t>(std::time(nullptr));
        auto h = wc::make_vapid_headers(key, {kAud, now + 3600, "mailto:b@example.com"},
                                        wc::VapidScheme::vapid);
        creds = vapid::parse_credentials(std::string_view(h.value().authorization), std::nullopt)
                    .value();
        opts.audiences = kAudiences;
        opts.now_ms = now * 1000;
    }
};

void BM_VapidVerifyUncached(benchmark::State& state) {
    Fixture f;
    for (auto _ : state) {
        auto r = vapid::verify_jwt(f.creds, f.opts);
        if (!r) state.SkipWithError("verify failed");
        benchmark::DoNotOptimize(r);
    }
}
BENCHMARK(BM_VapidVerifyUncached);

void BM_VapidVerifyCached(benchmark::State& state) {
    Fixture f;
    vapid::TokenCache cache(10000);
    (void)cache.verify(f.creds, f.opts);
    for (auto _ : state) {
        auto r = cache.verify(f.creds, f.opts);
        if (!r) state.SkipWithError("verify failed");
        benchmark::DoNotOptimize(r);
    }
}
BENCHMARK(BM_VapidVerifyCached)->ThreadRange(1, 2);

}  // namespace
