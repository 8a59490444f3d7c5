#pragma once
// Transport-neutral request and response. HTTP/1.1 (http1/) and HTTP/2 (http2/) sessions
// translate to and from these; the application handler (http::Api, http/api.h, and the test
// double's routes in front of it) sees nothing else.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pushsvc::http {

struct Field {
    std::string name;  // lower-case (HTTP/2 requires it; HTTP/1.1 names are lower-cased on read)
    std::string value;
};

class Fields {
  public:
    void add(std::string name, std::string value);
    // The single value of a field, or nullopt when absent. Repeated fields are joined with
    // ", " (RFC 9110 §5.3), so list-valued checks see every value.
    std::optional<std::string> get(std::string_view name) const;
    // get() for a request that is being consumed: a field that occurs once has its value moved
    // out (the field is left with an empty value) instead of copied; repeated fields are
    // joined as get() joins them and left as they are.
    std::optional<std::string> take(std::string_view name);
    std::size_t count(std::string_view name) const noexcept;
    const std::vector<Field>& all() const noexcept { return fields_; }
    bool empty() const noexcept { return fields_.empty(); }

  private:
    std::vector<Field> fields_;
};

struct Response;

// The outcome of one Pusher::push: true once the promised stream's final frame (END_STREAM)
// was handed to the connection and the write carrying it completed; false when the push was
// refused (peer disabled push, stream gone, no stream ids) or failed (promised stream reset,
// connection closed first). Called exactly once, on a network thread; must only post.
using PushDone = std::function<void(bool sent)>;

// Server push on an open request (RFC 9113 §8.4), the delivery channel of RFC 8030 §6: the
// handler keeps the request open (it calls its Responder only to end it) and pushes
// responses associated with it. Given in Request::pusher for HTTP/2 GETs whose client allows
// pushes. Thread-safe; everything is posted to the connection, and calls after the request's
// stream is gone are ignored.
class Pusher {
  public:
    virtual ~Pusher() = default;
    // PUSH_PROMISE for a synthesized GET of `path` (same scheme and authority as the request),
    // then `response` on the promised stream; `done` (may be empty) learns the outcome.
    virtual void push(std::string path, Response response, PushDone done) = 0;
    // `on_gone` runs once, on a network thread, when the request's stream ends for any reason
    // (final response sent, reset by the client, connection closed): stop pushing. Runs at
    // once if that already happened.
    virtual void on_gone(std::function<void()> on_gone) = 0;
    // Names the stream in logs ("c<connection>/s<stream>").
    virtual std::string tag() const { return {}; }
};

// Work a handler holds back for all requests of a RequestGroup and does once at its end. run()
// must answer every request it holds (an error response when it fails).
class GroupWork {
  public:
    virtual ~GroupWork() = default;
    virtual void run() = 0;
};

// Requests that arrived together: with HTTP/2, every request one read of the connection
// brought in (Request::group). A handler may collect work of several of them here and do it
// once when the session ends the group: after it handed the group's last request to the
// handler, before it writes (http::Api: the pushes' store writes, one WAL append for all).
// Used on the session's executor only, for the length of one dispatch.
class RequestGroup {
  public:
    // The work `owner` keeps in this group, made by `make()` (a unique_ptr<W>) on first use.
    template <class W, class Make>
    W& work(const void* owner, Make&& make) {
        for (auto& [o, w] : works_)
            if (o == owner) return static_cast<W&>(*w);
        auto made = make();
        W& out = *made;
        works_.emplace_back(owner, std::move(made));
        return out;
    }
    // Runs every work in the order it was made; called once, by the session.
    void end() {
        auto works = std::move(works_);
        for (auto& [owner, w] : works) w->run();
    }

  private:
    std::vector<std::pair<const void*, std::unique_ptr<GroupWork>>> works_;
};

struct Request {
    std::string method;     // "POST", "GET", ...
    std::string target;     // origin-form path with query, e.g. "/wpush/v2/abc"
    std::string authority;  // Host / :authority
    Fields headers;
    std::string body;
    // The client's address as the per-address limits count it (net/admission.h client_key():
    // an IPv4 address, or an IPv6 /64 prefix). "" for requests made inside the process.
    std::string client;
    bool can_push = false;           // HTTP/2 with SETTINGS_ENABLE_PUSH=1 (RFC 8030 §6)
    std::shared_ptr<Pusher> pusher;  // set for HTTP/2 GETs when can_push
    // Set by sessions that can group requests (HTTP/2, per read); valid only during the
    // handler call it is given to. nullptr: answer this request on its own.
    RequestGroup* group = nullptr;
    // The client's IP address as text ("192.0.2.1", "::1"), no port; "" when unknown (a
    // request built in a test). Set by the sessions from net::SessionContext.
    std::string peer_address;
    // Where the request came from, for the access log only (log.access): set by the session.
    std::string_view protocol;     // "HTTP/1.1", "HTTP/1.0", "HTTP/2"
    std::uint64_t connection = 0;  // the connection's log number ("c42")
    bool secure = false;           // over TLS
};

struct Response {
    int status = 200;
    Fields headers;  // never hop-by-hop fields; sessions add Date/Content-Length
    std::string body;
};

// True for response fields the transport sets itself (content-length, date, server) or that
// only describe one hop (connection, keep-alive, transfer-encoding, upgrade, te, trailer,
// proxy-connection; forbidden in HTTP/2, RFC 9113 §8.2.2). Sessions drop these from a
// handler's Response. `name` must be lower-case.
bool transport_owned(std::string_view name) noexcept;

// Delivers the response for one request; callable once, from any thread: the session posts it
// to its own executor.
using Responder = std::function<void(Response)>;

// The application's request handler. Called on the connection's executor; must not block on
// I/O other than the store's WAL append, and must call the responder exactly once.
using Handler = std::function<void(Request, Responder)>;

}  // namespace pushsvc::http
