#include "pushsvc/cluster/router.h"

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>

#include "pushsvc/obs/catalog.h"

namespace pushsvc::cluster {
namespace {

// Whether a message logged at `last` may be logged again: at most every 10 s, since what
// goes wrong here (an outage, a configuration error) goes wrong for many events at once.
bool may_log(std::atomic<std::int64_t>& last) {
    const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
    auto seen = last.load();
    if (seen != 0 && now - seen < std::chrono::nanoseconds(std::chrono::seconds(10)).count())
        return false;
    return last.compare_exchange_strong(seen, now);
}

// A store failure of the router.
void report(const char* what, const boost::system::error_code& ec) {
    static std::atomic<std::int64_t> last{0};
    if (may_log(last))
        spdlog::warn("cluster: {} failed: {} (live delivery across nodes waits for the store)",
                     what, ec.message());
}

}  // namespace

Router::Router(store::Store& store, delivery::Hub& hub, boost::asio::any_io_executor executor,
               const base::Clock& clock)
    : store_(store), hub_(hub), executor_(std::move(executor)), clock_(clock) {}

void Router::start(RouterOptions options, PeerClient& client) {
    options_ = std::move(options);
    client_ = &client;
    started_ms_ = clock_.now_ms();
    stopped_ = false;
}

void Router::post(std::function<void()> job) {
    if (stopped_) return;
    boost::asio::post(executor_, [this, job = std::move(job)] { run(job); });
}

void Router::run(const std::function<void()>& job) noexcept {
    if (stopped_) return;
    try {
        job();
    } catch (const std::exception& e) {
        spdlog::error("cluster: routing job failed: {}", e.what());
    } catch (...) {
        spdlog::error("cluster: routing job failed");
    }
}

void Router::attached(const std::string& uaid) {
    // The attach time goes with every retry of the write: a retry of an older connection's
    // route that lands after a newer connection's (both waiting out a failover) must lose.
    post([this, uaid, at = clock_.now_ms()] { set_route(uaid, 0, at); });
}

void Router::gone(const std::string& uaid) {
    post([this, uaid] { clear_if_gone(uaid); });
}

void Router::set_route(const std::string& uaid, int attempt, base::UnixMs attached_ms) {
    {
        std::lock_guard lk(mu_);
        ++held_[uaid].setting;
    }
    auto v = store_.set_route(
        uaid,
        {.node_id = options_.node_id, .address = options_.address, .connected_ms = attached_ms});
    if (!v) report("writing a route", v.error());
    if (v && *v != 0) obs::catalog().cluster_routes_set.inc();
    std::uint64_t to_clear = 0;
    bool still_here = true;
    {
        std::lock_guard lk(mu_);
        auto& h = held_[uaid];
        --h.setting;
        if (v && *v > h.version) h.version = *v;
        // The session may have gone while the route was written: then nobody else clears it.
        if (h.setting == 0 && !hub_.holds(uaid)) {
            still_here = false;
            to_clear = h.version;
            held_.erase(uaid);
        }
    }
    if (!still_here) {
        if (to_clear == 0) return;
        auto r = store_.clear_route(uaid, to_clear);
        if (!r) return report("clearing a route", r.error());
        (*r ? obs::catalog().cluster_routes_cleared : obs::catalog().cluster_routes_superseded)
            .inc();
        return;
    }
    // The database is away (a failover): without a route, pushes on other nodes would not
    // reach this connection until it reconnects, so write it again a little later.
    if (!v) return retry_later(uaid, attempt + 1, attached_ms);
    // A push whose lookup ran before this route was visible told nobody; its message is
    // stored, so one more read of the queue finds it.
    hub_.wake_user_agent(uaid);
}

void Router::retry_later(const std::string& uaid, int attempt, base::UnixMs attached_ms) {
    // 1 s, 2 s, 4 s, ... 30 s: a Patroni failover takes 10-30 s.
    const auto delay = std::chrono::milliseconds(std::min(30'000, 500 << std::min(attempt, 6)));
    auto timer = std::make_shared<boost::asio::steady_timer>(executor_, delay);
    {
        std::lock_guard lk(timers_mu_);
        if (timers_closed_) return;
        timers_.insert(timer);
    }
    timer->async_wait([this, timer, uaid, attempt, attached_ms](boost::system::error_code ec) {
        {
            std::lock_guard lk(timers_mu_);
            timers_.erase(timer);
        }
        if (ec || stopped_ || !hub_.holds(uaid)) return;
        post([this, uaid, attempt, attached_ms] { set_route(uaid, attempt, attached_ms); });
    });
}

void Router::cancel_retries() noexcept {
    std::lock_guard lk(timers_mu_);
    timers_closed_ = true;
    for (const auto& t : timers_) t->cancel();
    timers_.clear();
}

void Router::clear_if_gone(const std::string& uaid) {
    std::uint64_t version = 0;
    {
        std::lock_guard lk(mu_);
        auto it = held_.find(uaid);
        if (it == held_.end()) return;
        // Back already (a reconnect), or a write under way that will see to it.
        if (it->second.setting > 0 || hub_.holds(uaid)) return;
        version = it->second.version;
        held_.erase(it);
    }
    if (version == 0) return;
    auto r = store_.clear_route(uaid, version);
    if (!r) return report("clearing a route", r.error());
    (*r ? obs::catalog().cluster_routes_cleared : obs::catalog().cluster_routes_superseded).inc();
}

void Router::forward(Event event, const store::RouteSeen& seen) {
    if (seen.read && !seen.route) return;  // not connected anywhere: it reads its queue later
    // With the route read by the append, telling its node needs no store call: done here
    // (a queued hand-off to the peer's connection) rather than by a hop through the store
    // executor: one thread wake-up less per push (wake-ups are a large share of a cluster
    // node's CPU under load).
    if (seen.read) return run([&] { lookup(std::move(event), seen); });
    post([this, event = std::move(event), seen]() mutable { lookup(std::move(event), seen); });
}

void Router::lookup(Event event, const store::RouteSeen& seen) {
    auto route = seen.read ? result<std::optional<store::RouteRecord>>(seen.route)
                           : store_.get_route(event.uaid);
    if (!route) {
        report("reading a route", route.error());
        obs::catalog().cluster_failed(obs::ClusterFailure::store).inc();
        return;
    }
    if (!*route) return;  // not connected anywhere: it reads its queue when it comes
    const store::RouteRecord& r = **route;
    const bool whole_user_agent = event.kind == Event::Kind::removed && event.id.empty();
    if (r.node_id == options_.node_id && r.address != options_.address &&
        r.connected_ms >= started_ms_) {
        // Our name with another address, for a connection made since this process started:
        // a second process configured with this node_id. Clearing the route as ours would
        // cut the other process's browser off from live delivery, so the event goes to the
        // address the route names, which answers for the name too; an operator must fix the
        // configuration (docs/cluster.md). (A route from before this process started, at the
        // address of an earlier run, is this node's own stale route: below.)
        obs::catalog().cluster_node_id_conflicts.inc();
        report_conflict(r.address);
    } else if (r.node_id == options_.node_id) {
        // The hub told the sessions here already. A route of ours without a session here is
        // left from before a restart (or a cleanup that failed): stale.
        bool ours_now = false;
        {
            std::lock_guard lk(mu_);
            auto it = held_.find(event.uaid);
            ours_now = hub_.holds(event.uaid) || (it != held_.end() && it->second.setting > 0);
        }
        // (A removed user agent's sessions here end now, and their going clears the route.)
        if (!ours_now) stale(event.uaid, r.version);
        return;
    }
    const std::string uaid = event.uaid;
    client_->send(r.address, r.node_id, std::move(event), r.version);
    // The user agent is deleted (Store::delete_user_agent leaves routes to the router): its
    // node has been told, the route goes now.
    if (whole_user_agent) (void)store_.clear_route(uaid, r.version);
}

void Router::report_conflict(const std::string& address) {
    static std::atomic<std::int64_t> last{0};
    if (may_log(last))
        spdlog::error(
            "cluster: a route written since this node started names its node_id '{}' with the "
            "address {}, not this node's {}: two nodes share one cluster.node_id; every node "
            "needs its own",
            options_.node_id, address, options_.address);
}

void Router::stale(const std::string& uaid, std::uint64_t version) {
    post([this, uaid, version] {
        auto cleared = store_.clear_route(uaid, version);
        if (!cleared) return report("clearing a stale route", cleared.error());
        if (*cleared) obs::catalog().cluster_stale_routes.inc();
    });
}

}  // namespace pushsvc::cluster
