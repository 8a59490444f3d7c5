// The test double's control API (testdouble::TestDouble: /_testdouble/... and the
// web-push-testing routes) driven in process like its unit tests do, one request per input
// line: "METHOD TARGET BODY" (BODY is the rest of the line, usually JSON). "{id}" in a target
// becomes the id of the last subscription the double created, so the per-subscription routes
// are reached. The wrapped application handler is a stub answering 404.
// Invariants: every request gets exactly one response, with a status in 100..599, and a JSON
// body whenever the double says application/json.
#include <boost/json.hpp>

#include <memory>
#include <optional>
#include <string>

#include "fuzz/harness/fuzz_check.h"
#include "pushsvc/base/clock.h"
#include "pushsvc/config/config.h"
#include "pushsvc/delivery/hub.h"
#include "pushsvc/store/memory_store.h"
#include "pushsvc/testdouble/testdouble.h"
#include "pushsvc/webpush/push_service.h"

namespace {

using namespace pushsvc;
namespace json = boost::json;

webpush::ServiceOptions options() {
    webpush::ServiceOptions o;
    o.origin = "http://127.0.0.1:9";
    return o;
}

struct World {
    config::Config config = [] {
        config::Config c;
        c.testdouble.enabled = true;
        return c;
    }();
    base::AdjustableClock clock;
    store::MemoryStore store{&clock};
    webpush::PushService service{options(), store, webpush::EndpointCodec({std::string(32, 'k')}),
                                 clock};
    delivery::Hub hub;
    testdouble::TestDouble dbl{testdouble::Dependencies{config,
                                                        service,
                                                        store,
                                                        hub,
                                                        clock,
                                                        {std::string(32, 'k')},
                                                        [](http::Request, http::Responder respond) {
                                                            http::Response r;
                                                            r.status = 404;
                                                            respond(std::move(r));
                                                        }}};

    World() { service.set_notifier(&hub); }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    World w;
    std::string last_id;
    for (std::string_view line : fuzz::split_lines(fuzz::as_text(data, size), 16)) {
        http::Request req;
        const auto sp1 = line.find(' ');
        if (sp1 == std::string_view::npos) continue;
        req.method = std::string(line.substr(0, sp1));
        std::string_view rest = line.substr(sp1 + 1);
        const auto sp2 = rest.find(' ');
        std::string target(rest.substr(0, sp2));
        req.body = sp2 == std::string_view::npos ? "" : std::string(rest.substr(sp2 + 1));
        if (const auto at = target.find("{id}"); at != std::string::npos)
            target.replace(at, 4, last_id);
        req.target = target;
        req.headers.add("content-type", "application/json");

        int calls = 0;
        std::optional<http::Response> res;
        w.dbl.handle(std::move(req), [&](http::Response r) {
            ++calls;
            res = std::move(r);
        });
        FUZZ_CHECK(calls == 1);
        FUZZ_CHECK(res->status >= 100 && res->status <= 599);
        const auto ct = res->headers.get("content-type");
        if (ct && ct->starts_with("application/json")) {
            boost::system::error_code ec;
            json::value v = json::parse(res->body, ec);
            FUZZ_CHECK(!ec);
            if (v.is_object())
                if (const auto* id = v.as_object().if_contains("id"); id && id->is_string())
                    last_id = std::string(id->as_string());
        }
    }
    return 0;
}
