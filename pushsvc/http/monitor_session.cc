#include "pushsvc/http/monitor_session.h"

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include <ctime>
#include <exception>

#include "pushsvc/obs/catalog.h"
#include "pushsvc/obs/log.h"

namespace pushsvc::http {
namespace {

namespace asio = boost::asio;

// IMF-fixdate (RFC 9110 §5.6.7) of a Unix time in milliseconds.
std::string http_date(base::UnixMs ms) {
    std::time_t t = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[40];
    std::size_t n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    return std::string(buf, n);
}

class MonitorSession final : public delivery::Target,
                             public std::enable_shared_from_this<MonitorSession> {
  public:
    MonitorSession(const MonitorContext& ctx, webpush::MonitorScope scope,
                   webpush::Urgency threshold, bool drain, std::shared_ptr<Pusher> pusher,
                   Responder respond)
        : hub_(*ctx.hub),
          strand_(asio::make_strand(ctx.store_executor ? ctx.store_executor : ctx.executor)),
          uaid_(scope.uaid),
          monitor_(*ctx.backend, std::move(scope), threshold, drain, ctx.max_inflight),
          pusher_(std::move(pusher)),
          respond_(std::move(respond)) {}

    void start() {
        auto self = shared_from_this();
        // Start first, then attach: events the hub posts meanwhile run after the start.
        asio::post(strand_,
                   [self] { self->guarded([&] { self->perform(self->monitor_.start()); }); });
        hub_.attach(uaid_, self, false);
        // The start may have read the queue on another thread before this attach: anything
        // stored in between woke nobody, so look once more (as a WebSocket hello does).
        wake(nullptr);
        // The stream owns the session (the hub only holds it weakly): the callback keeps it
        // alive until the stream ends, then detaches and lets it go.
        pusher_->on_gone([self, hub = &hub_, uaid = uaid_] { hub->detach(uaid, self.get()); });
        obs::catalog().monitors.inc();
    }

    void wake(std::shared_ptr<const store::MessageRecord> direct) override {
        run([direct = std::move(direct)](webpush::Monitor& m) {
            return direct ? m.on_direct(*direct) : m.on_stored();
        });
    }
    void stored(std::shared_ptr<const store::MessageRecord> message) override {
        run([message = std::move(message)](webpush::Monitor& m) {
            return m.on_stored(message.get());
        });
    }
    void acked(std::string id) override {
        run([id = std::move(id)](webpush::Monitor& m) { return m.on_acked(id); });
    }
    void removed(std::string sub) override {
        run([sub = std::move(sub)](webpush::Monitor& m) { return m.on_removed(sub); });
    }
    // A WebSocket session took the user agent over: end this request, nothing more comes.
    void replaced() override {
        asio::post(strand_,
                   [self = shared_from_this()] { self->guarded([&] { self->end(200); }); });
    }

  private:
    template <class Event>
    void run(Event event) {
        asio::post(strand_, [self = shared_from_this(), event = std::move(event)] {
            if (!self->ended_) self->guarded([&] { self->perform(event(self->monitor_)); });
        });
    }

    // The boundary of everything posted to the strand: a throwing store or Monitor event
    // ends this request (the stream closes with 500), never the process.
    template <class F>
    void guarded(F&& f) noexcept {
        try {
            f();
            return;
        } catch (const std::exception& e) {
            SPDLOG_ERROR("{} monitoring failed: {}", pusher_->tag(), e.what());
        } catch (...) {
            SPDLOG_ERROR("{} monitoring failed: unknown exception", pusher_->tag());
        }
        obs::catalog().monitor_errors.inc();
        try {
            end(500);
        } catch (...) {
            ended_ = true;  // the responder failed too: the stream ends with the connection
        }
    }

    void perform(std::vector<webpush::monitor::Action> actions) {
        for (auto& action : actions) {
            if (auto* push = std::get_if<webpush::monitor::Push>(&action)) {
                if (ended_) continue;  // the request is over: the message stays stored
                // The outcome comes back here; the session stays alive until it does, so a
                // pushed receipt is deleted even after the request ended (Prefer: wait=0).
                pusher_->push(push->path, pushed_response(*push),
                              [self = shared_from_this(), id = push->message.id](bool sent) {
                                  asio::post(self->strand_, [self, id, sent] {
                                      self->guarded([&] {
                                          self->perform(self->monitor_.on_pushed(id, sent));
                                      });
                                  });
                              });
            } else if (auto* finish = std::get_if<webpush::monitor::Finish>(&action)) {
                end(finish->status);
            }
        }
    }

    void end(int status) {
        if (ended_) return;
        ended_ = true;
        Response r;
        r.status = status;
        respond_(std::move(r));
        hub_.detach(uaid_, this);
    }

    delivery::Hub& hub_;
    asio::strand<asio::any_io_executor> strand_;
    std::string uaid_;
    webpush::Monitor monitor_;
    std::shared_ptr<Pusher> pusher_;
    Responder respond_;
    bool ended_ = false;
};

}  // namespace

void start_monitor(const MonitorContext& ctx, webpush::MonitorScope scope,
                   webpush::Urgency threshold, bool drain, std::shared_ptr<Pusher> pusher,
                   Responder respond) {
    std::make_shared<MonitorSession>(ctx, std::move(scope), threshold, drain, std::move(pusher),
                                     std::move(respond))
        ->start();
}

Response pushed_response(const webpush::monitor::Push& push) {
    const auto& m = push.message;
    Response r;
    if (m.receipt_status != 0) {
        r.status = m.receipt_status;  // 204 acknowledged, 410 not delivered; no body (§6.3)
        return r;
    }
    r.status = 200;
    r.headers.add("cache-control", "private");
    r.headers.add("last-modified", http_date(m.received_ms));  // R8030-7.2-a
    if (!push.endpoint.empty())
        r.headers.add("link",
                      "<" + push.endpoint + ">; rel=\"" + std::string(webpush::kRelPush) + "\"");
    if (!m.body.empty()) {
        r.headers.add("content-type", "application/octet-stream");
        if (!m.content_encoding.empty()) r.headers.add("content-encoding", m.content_encoding);
        if (!m.encryption.empty()) r.headers.add("encryption", m.encryption);
        if (!m.crypto_key.empty()) r.headers.add("crypto-key", m.crypto_key);
    }
    r.body = m.body;
    return r;
}

}  // namespace pushsvc::http
