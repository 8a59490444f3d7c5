#pragma once
// An RFC 8030 monitoring request (§6, §6.1, §6.3) as a state machine: a user agent's GET on a
// push message subscription (one subscription's messages), on a subscription set (all its
// members'), or an application server's GET on a receipt subscription (its receipts). Events
// go in (start, stored messages waiting, a TTL-0 message, an ack, a removal), actions come
// out (push this message, end the request with a status). The HTTP/2 glue (http/) performs
// them; the ChannelBackend reads the store.
//
// Rules:
// - Messages go out in arrival order, at most max_inflight un-acked (acks are DELETEs on the
//   message resources, reported by on_acked); the rest wait in the store.
// - Urgency below the request's threshold is withheld, not dropped (R8030-5.3-e, -i).
// - `Prefer: wait=0` pushes everything available now and ends with 200, or 204 when there was
//   nothing (R8030-6-e, -f).
// - Removal of the monitored subscription, set or receipt subscription ends it with 404
//   (R8030-7.3-b, -c, 7.3.1-b).
// - Receipts are pushed once and then deleted: they are not acknowledged (§6.3). The delete
//   waits for on_pushed(sent): a receipt whose push was refused or failed stays stored and
//   comes again (on this request after a later event, or on the next request).
// - A push that was refused or failed (on_pushed(false)) frees its window slot at once and
//   is retried with the next fill, which the next event (a stored message, an ack, a push
//   that went out) triggers; not the failure itself, so a peer refusing every push is not
//   pushed to in a loop.
// - delivered() is recorded before the Push action is returned, so before the user agent can
//   have the message and DELETE (acknowledge) it.
// Not thread-safe: one instance per request, driven from one strand.

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "pushsvc/webpush/channel_backend.h"
#include "pushsvc/webpush/delivery_window.h"
#include "pushsvc/webpush/urgency.h"

namespace pushsvc::webpush {

namespace monitor {
struct Push {
    std::string path;              // the message resource, /m/<id> (R8030-6-b)
    store::MessageRecord message;  // for a receipt: receipt_status is the pushed :status
    std::string endpoint;          // the source push resource (R8030-6-c); "" for receipts
};
struct Finish {
    int status;
};
using Action = std::variant<Push, Finish>;
}  // namespace monitor

class Monitor {
  public:
    Monitor(ChannelBackend& backend, MonitorScope scope, Urgency threshold, bool drain,
            std::size_t max_inflight);

    std::vector<monitor::Action> start();
    // `carried`: as UaChannel::on_stored's.
    std::vector<monitor::Action> on_stored(const store::MessageRecord* carried = nullptr);
    std::vector<monitor::Action> on_direct(const store::MessageRecord& message);
    std::vector<monitor::Action> on_acked(const std::string& message_id);
    // `subscription_id` empty: the whole user agent (set, receipt subscription) is gone.
    std::vector<monitor::Action> on_removed(const std::string& subscription_id);
    // The outcome of the Push of `message_id` (http::PushDone). Also after finished(): a
    // Prefer: wait=0 request ends before its pushes are out, and its receipts are deleted
    // only now.
    std::vector<monitor::Action> on_pushed(const std::string& message_id, bool sent);

    std::size_t inflight() const noexcept { return window_.inflight(); }

    bool finished() const noexcept { return finished_; }
    const MonitorScope& scope() const noexcept { return scope_; }

  private:
    using Actions = std::vector<monitor::Action>;
    bool admit(const store::MessageRecord& m);
    void fill(Actions& out, std::size_t limit);
    void push(store::MessageRecord m, bool stored, Actions& out);
    void finish(int status, Actions& out);

    ChannelBackend& backend_;
    MonitorScope scope_;
    Urgency threshold_;
    bool drain_;
    DeliveryWindow window_;
    std::map<std::string, std::string> endpoints_;  // subscription id -> push resource
    bool finished_ = false;
};

}  // namespace pushsvc::webpush
