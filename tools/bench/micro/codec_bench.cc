// Micro-benchmarks: endpoint token codec and push header parsing (per-request work on the
// POST path besides VAPID and the store).
#include <benchmark/benchmark.h>

#include <string>

#include "pushsvc/vapid/credentials.h"
#include "pushsvc/webpush/endpoint_codec.h"
#include "pushsvc/webpush/push_headers.h"

namespace {

using namespace pushsvc;

webpush::EndpointCodec make_codec() { return webpush::EndpointCodec({std::string(32, 'k')}); }

void BM_EndpointEncode(benchmark::State& state) {
    auto codec = make_codec();
    webpush::EndpointToken tok{std::string(16, 's'), std::string(32, 'h')};
    for (auto _ : state) benchmark::DoNotOptimize(codec.encode(tok));
}
BENCHMARK(BM_EndpointEncode);

void BM_EndpointDecode(benchmark::State& state) {
    auto codec = make_codec();
    std::string text = codec.encode({std::string(16, 's'), std::string(32, 'h')});
    for (auto _ : state) {
        auto r = codec.decode(text);
        if (!r) state.SkipWithError("decode failed");
        benchmark::DoNotOptimize(r);
    }
}
BENCHMARK(BM_EndpointDecode);

// TTL + Topic + Content-Encoding/body check of a typical aes128gcm push.
void BM_PushHeaders(benchmark::State& state) {
    std::string body(3000, 'x');
    body[16] = 0, body[17] = 0, body[18] = 0x10, body[19] = 0, body[20] = 65, body[21] = 4;
    std::optional<std::string> ttl = "60", topic = "abc", enc = "aes128gcm";
    for (auto _ : state) {
        auto t = webpush::parse_ttl(ttl, 2592000);
        auto tp = webpush::parse_topic(topic, config::Profile::compat);
        auto e = webpush::parse_encoding({enc, std::nullopt, std::nullopt, body},
                                         config::Profile::compat);
        if (!t || !tp || !e) state.SkipWithError("parse failed");
        benchmark::DoNotOptimize(e);
    }
}
BENCHMARK(BM_PushHeaders);

// Authorization: vapid t=<jwt>, k=<key> split and decoded (no signature check).
void BM_VapidCredentialsParse(benchmark::State& state) {
    std::string jwt = "eyJ0eXAiOiJKV1QiLCJhbGciOiJFUzI1NiJ9." + std::string(200, 'a') + "." +
                      std::string(86, 'b');
    std::string key = "B" + std::string(86, 'A');
    std::string auth = "vapid t=" + jwt + ", k=" + key;
    for (auto _ : state) {
        auto c = vapid::parse_credentials(std::string_view(auth), std::nullopt);
        benchmark::DoNotOptimize(c);
    }
}
BENCHMARK(BM_VapidCredentialsParse);

}  // namespace
