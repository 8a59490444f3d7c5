#pragma once
// What a scenario works with: the target (its subscribe resource, RFC 8030 §4), a transcript
// of every request and answer (for the failure report), a simulated user agent to observe
// delivery (ua_driver.h: WebSocket push protocol or RFC 8030 §6 monitoring) and the optional
// control interface (control.h). Built on tools/client only. Single-threaded.

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "proto-conformance/control.h"
#include "proto-conformance/suite.h"
#include "proto-conformance/ua_driver.h"
#include "tools/client/client_options.h"
#include "tools/client/http_message.h"
#include "tools/client/p256_key.h"
#include "tools/client/push_request.h"
#include "tools/client/push_service.h"

namespace conformance {

using namespace webpush_client;

enum class Profile { compat, strict };
enum class UaKind { websocket, rfc8030 };
// How subscriptions are obtained: RFC 8030 §4 / the --ua driver, or npm web-push-testing's
// own subscribe API (a target without RFC 8030 subscribe, e.g. the conformance self-test).
enum class SubscribeVia { standard, web_push_testing };

struct Options {
    std::string target;  // base URL of the push service, or its subscribe resource
    Profile profile = Profile::compat;
    UaKind ua = UaKind::websocket;
    SubscribeVia subscribe_via = SubscribeVia::standard;
    std::string control;  // control interface base URL, "" = none
    ClientOptions net;
};

// A request's outcome: the response, or the transport error as text.
struct Answer {
    std::optional<HttpResponse> response;
    std::string error;
    int status() const { return response ? response->status : 0; }
    std::optional<std::string> header(std::string_view name) const {
        return response ? response->headers.get(name) : std::nullopt;
    }
};

struct PushSpec {
    std::string payload;        // "" = no body (RFC 8030 §5 "tickle")
    PushOptions options = [] {  // TTL 60; VAPID added for restricted subscriptions
        PushOptions o;
        o.ttl = 60;
        return o;
    }();
    std::function<void(HttpRequest&)> mutate;  // applied last (negative tests)
    HttpVersion version = HttpVersion::http1;
    bool sign = true;  // sign with the subscription's key when it is restricted
};

class Context {
  public:
    explicit Context(Options options);
    ~Context();

    const Options& options() const { return options_; }
    bool strict() const { return options_.profile == Profile::strict; }
    const std::string& origin() const { return origin_; }
    const std::string& subscribe_url() const { return subscribe_url_; }
    bool target_tls() const;

    // Any request; recorded in the transcript.
    Answer send(const HttpRequest& request, HttpVersion version = HttpVersion::http1);

    // RFC 8030 §4 subscribe (POST to the subscribe resource), recorded.
    Answer subscribe_raw(const HttpRequest& request);
    Result<SubscribeResult> subscribe(const SubscribeOptions& options = {});

    // A subscription made by the user-agent driver (WebSocket register or RFC 8030 §4),
    // optionally restricted to `key` (RFC 8292 §4). Failures are transport/protocol errors.
    Result<UaSubscription> subscription(const std::optional<P256Key>& key = {});
    UaDriver& ua() { return *ua_; }
    // The RFC 8030 §6 driver whatever --ua says: for rows that are about monitoring itself.
    UaDriver& monitor();

    // Builds (encrypts, signs) and sends a push to `sub`.
    Answer push(const UaSubscription& sub, PushSpec spec = {});
    Result<HttpRequest> build_push(const UaSubscription& sub, const PushSpec& spec);

    // The control interface, or nullptr when the target offers none.
    Control* control() { return control_.get(); }

    // The application server's VAPID key pair used by the scenarios.
    const P256Key& vapid_key() const { return vapid_key_; }
    VapidOptions vapid_for(const P256Key& key) const;

    // A precondition the target cannot offer (e.g. RFC 8030 subscribe under --subscribe-via
    // web-push-testing): a scenario that did not pass after asking for it is reported as
    // skipped with this reason. take_missing() returns and clears it.
    void mark_missing(std::string reason) {
        if (missing_.empty()) missing_ = std::move(reason);
    }
    std::string take_missing() { return std::exchange(missing_, std::string()); }

    // Transcript since the last call.
    std::vector<Exchange> take_transcript();
    void note(std::string sent, std::string received);

  private:
    Options options_;
    std::string origin_, subscribe_url_;
    std::unique_ptr<UaDriver> ua_;
    std::unique_ptr<UaDriver> monitor_;
    std::unique_ptr<Control> control_;
    P256Key vapid_key_;
    std::vector<Exchange> transcript_;
    std::string missing_;
};

// Rendering used in transcripts: capability URLs and tokens shortened, bodies summarised.
std::string render_request(const HttpRequest& request, HttpVersion version);
std::string render_response(const HttpResponse& response);
std::string shorten(std::string_view text, std::size_t keep = 12);

// Path of an absolute URL ("" if it does not parse).
std::string path_of(std::string_view url);

}  // namespace conformance
