// The Firefox push protocol (webpush::UaChannel) fed text frames, one per input line, over a
// MemoryStore through the real PushService and ServiceChannelBackend. A line "#push" pushes a
// small aes128gcm message to the last endpoint the channel handed out and then wakes the
// channel (on_stored), as the delivery hub would, so that ack handling gets messages to ack.
// Invariants: every frame the server sends is a JSON object with a messageType (or the empty
// ping answer); the window
// never holds more than max_inflight notifications; nothing is sent after a Close.
#include <boost/json.hpp>

#include <memory>
#include <string>

#include "fuzz/harness/fuzz_check.h"
#include "pushsvc/base/clock.h"
#include "pushsvc/store/memory_store.h"
#include "pushsvc/webpush/push_service.h"
#include "pushsvc/webpush/ua_channel.h"

namespace {

using namespace pushsvc;
namespace json = boost::json;

constexpr std::size_t kMaxInflight = 4;

struct World {
    base::FakeClock clock;
    store::MemoryStore store{&clock};
    webpush::PushService service{options(), store, webpush::EndpointCodec({std::string(32, 'k')}),
                                 clock};
    webpush::ServiceChannelBackend backend{service, store, clock};

    static webpush::ServiceOptions options() {
        webpush::ServiceOptions o;
        o.origin = "https://push.test";
        return o;
    }
};

struct Checker {
    bool closed = false;
    std::string last_endpoint;

    void run(const std::vector<webpush::channel::Action>& actions, const webpush::UaChannel& ch) {
        for (const auto& a : actions) {
            FUZZ_CHECK(!closed);
            if (const auto* s = std::get_if<webpush::channel::Send>(&a)) {
                boost::system::error_code ec;
                json::value v = json::parse(s->text, ec);
                FUZZ_CHECK(!ec && v.is_object());
                const auto& o = v.as_object();
                // The answer to a ping is "{}" (as Firefox sends it); all else is typed.
                FUZZ_CHECK(o.empty() || o.contains("messageType"));
                if (const auto* ep = o.if_contains("pushEndpoint"); ep && ep->is_string())
                    last_endpoint = std::string(ep->as_string());
            } else if (std::holds_alternative<webpush::channel::Close>(a)) {
                closed = true;
            }
        }
        FUZZ_CHECK(ch.inflight() <= kMaxInflight);
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    World w;
    webpush::UaChannel ch(w.backend, webpush::ChannelOptions{kMaxInflight, 8});
    Checker check;
    for (std::string_view line : fuzz::split_lines(fuzz::as_text(data, size), 32)) {
        if (check.closed) break;
        if (line == "#push") {
            if (check.last_endpoint.empty()) continue;
            webpush::PushRequest req;
            req.token = check.last_endpoint.substr(check.last_endpoint.rfind('/') + 1);
            req.ttl = "60";
            req.content_encoding = "aes128gcm";
            // RFC 8188 header: salt, rs = 4096, idlen 65, a 0x04 key id; then one byte.
            req.body = std::string(16, 's') + std::string("\0\0\x10\0", 4) + "\x41\x04" +
                       std::string(64, 'k') + "x";
            (void)w.service.push(std::move(req));
            check.run(ch.on_stored(), ch);
            continue;
        }
        check.run(ch.on_text(line), ch);
    }
    return 0;
}
