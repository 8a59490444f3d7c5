#include "pushsvc/webpush/monitor.h"

#include "pushsvc/base/base64url.h"
#include "pushsvc/obs/catalog.h"
#include "pushsvc/webpush/push_service.h"

namespace pushsvc::webpush {

namespace {
// wait=0 pushes everything queued at once: bounded by the per-UA queue cap in practice.
constexpr std::size_t kDrainLimit = 100'000;
}  // namespace

Monitor::Monitor(ChannelBackend& backend, MonitorScope scope, Urgency threshold, bool drain,
                 std::size_t max_inflight)
    : backend_(backend),
      scope_(std::move(scope)),
      threshold_(threshold),
      drain_(drain),
      window_(backend, max_inflight) {}

bool Monitor::admit(const store::MessageRecord& m) {
    if (scope_.receipts) return m.receipt_status != 0;
    if (m.receipt_status != 0) return false;
    if (!scope_.subscription_id.empty() && m.subscription_id != scope_.subscription_id)
        return false;
    if (m.urgency < static_cast<std::uint8_t>(threshold_)) return false;  // withheld
    if (!endpoints_.count(m.subscription_id)) {
        // A member that joined the set after this request started: learn its endpoint.
        if (auto subs = backend_.subscriptions(scope_.uaid))
            for (const auto& s : *subs) endpoints_[s.id] = backend_.endpoint_url(s);
    }
    return endpoints_.count(m.subscription_id) > 0;
}

std::vector<monitor::Action> Monitor::start() {
    Actions out;
    if (!scope_.receipts) {
        auto subs = backend_.subscriptions(scope_.uaid);
        if (!subs) {
            finish(503, out);
            return out;
        }
        for (const auto& s : *subs) endpoints_[s.id] = backend_.endpoint_url(s);
    }
    if (!drain_) {
        fill(out, window_.room());
        return out;
    }
    fill(out, kDrainLimit);
    if (!finished_) finish(out.empty() ? 204 : 200, out);
    return out;
}

std::vector<monitor::Action> Monitor::on_stored(const store::MessageRecord* carried) {
    Actions out;
    if (finished_) return out;
    switch (carried ? window_.carried(*carried) : DeliveryWindow::Carried::read) {
        case DeliveryWindow::Carried::take:
            obs::catalog().sent_from_wake.inc();
            if (admit(*carried)) push(*carried, true, out);
            return out;
        case DeliveryWindow::Carried::seen:
            return out;
        case DeliveryWindow::Carried::read:
            window_.more_stored();
            fill(out, window_.room());
            return out;
    }
    return out;
}

std::vector<monitor::Action> Monitor::on_direct(const store::MessageRecord& message) {
    Actions out;
    if (finished_ || scope_.receipts || window_.room() == 0 || !admit(message)) return out;
    push(message, false, out);
    return out;
}

std::vector<monitor::Action> Monitor::on_acked(const std::string& message_id) {
    Actions out;
    if (!finished_ && window_.release(message_id)) fill(out, window_.room());
    return out;
}

std::vector<monitor::Action> Monitor::on_pushed(const std::string& message_id, bool sent) {
    Actions out;
    if (!sent) {
        // Still stored (a TTL-0 message is lost: it was for now or never); the slot is free
        // and the next fill starts again at it.
        window_.failed(message_id);
        return out;
    }
    if (!scope_.receipts) return out;  // in flight until the user agent's ack
    // The receipt went out: only now is it consumed. A store failure leaves it stored, to be
    // pushed again later: a repeated receipt is better than a lost one.
    if (!backend_.ack(message_id)) {
        if (!finished_) finish(503, out);
        return out;
    }
    if (window_.release(message_id) && !finished_) fill(out, window_.room());
    return out;
}

std::vector<monitor::Action> Monitor::on_removed(const std::string& subscription_id) {
    Actions out;
    if (!finished_ && (subscription_id.empty() || subscription_id == scope_.subscription_id))
        finish(404, out);
    return out;
}

void Monitor::fill(Actions& out, std::size_t limit) {
    if (limit == 0) return;
    auto batch = window_.next(
        scope_.uaid, [this](const auto& m) { return admit(m); }, limit);
    if (!batch) return finish(503, out);
    for (auto& m : *batch) push(std::move(m), true, out);
}

void Monitor::push(store::MessageRecord m, bool stored, Actions& out) {
    if (scope_.receipts) {
        // A receipt names the acknowledged message's resource; it is pushed once, and deleted
        // by on_pushed() when the push went out.
        std::string path = std::string(kMessagePrefix) + base::base64url_encode(m.receipt_id);
        if (!drain_) window_.sent(m.id, true, m.seq);
        out.push_back(monitor::Push{std::move(path), std::move(m), ""});
        return;
    }
    backend_.delivered(m);
    if (!drain_) window_.sent(m.id, stored, m.seq);
    std::string path = std::string(kMessagePrefix) + base::base64url_encode(m.id);
    std::string endpoint = endpoints_[m.subscription_id];
    out.push_back(monitor::Push{std::move(path), std::move(m), std::move(endpoint)});
}

void Monitor::finish(int status, Actions& out) {
    finished_ = true;
    out.push_back(monitor::Finish{status});
}

}  // namespace pushsvc::webpush
