#pragma once
// The part of delivery every channel to a user agent shares (WebSocket session, RFC 8030
// monitoring GET): it walks the user agent's queue in arrival order, starting from the
// beginning on every new connection (so whatever an earlier connection left un-acked comes
// again, RFC 8030 §6.2), and keeps at most `max_inflight` messages un-acked at a time.
// Messages a channel does not admit now (Urgency below the UA's threshold, another
// subscription's) are withheld: skipped on this connection, still stored (R8030-5.3-i).
// A send that failed (a refused or reset HTTP/2 push) frees its slot at once and moves the
// cursor back, so the message comes again on a later fill: without that, every failure would
// hold a slot for the life of the connection and the channel would go silent after
// `max_inflight` of them.
// Not thread-safe: owned by one channel.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pushsvc/base/result.h"
#include "pushsvc/webpush/channel_backend.h"

namespace pushsvc::webpush {

class DeliveryWindow {
  public:
    using Admit = std::function<bool(const store::MessageRecord&)>;

    DeliveryWindow(ChannelBackend& backend, std::size_t max_inflight)
        : backend_(backend), max_inflight_(max_inflight) {}

    // The next admitted messages of `uaid` after the cursor, at most `limit`. Reads the store
    // only when it may hold more (see more_stored()) and, when `limit` is the room left,
    // once at least half the window is free: each read is a store iterator, and a backlog
    // then drains in batches rather than one read per ack.
    result<std::vector<store::MessageRecord>> next(std::string_view uaid, const Admit& admit,
                                                   std::size_t limit);
    // Messages may have been stored since the queue was last read to its end (a hub wake).
    void more_stored() noexcept { drained_ = false; }
    // The last read reached the end of the queue and nothing was stored since: next() reads
    // nothing.
    bool drained() const noexcept { return drained_; }
    // A stored message handed over with its wake-up. `take`: it is the next one, since the
    // message appended before it (MessageRecord::prev_seq) is where this connection's last
    // read of the queue ended, and there is room; the cursor moves to it and the caller sends
    // it (if admitted) without reading the queue. Appends to a queue are ordered by its lock,
    // so nothing can lie between. `seen`: nothing to send (a read got to it already, or it is
    // past its TTL, ChannelBackend::expired). `read`: anything else
    // (wake-ups from several nodes may come out of order); more_stored(), fill as usual.
    enum class Carried { take, seen, read };
    Carried carried(const store::MessageRecord& m);
    // What carried(m) would answer now, changing nothing (and not asking about the TTL: a
    // `take` may still turn out `seen`).
    Carried classify(const store::MessageRecord& m) const noexcept;
    // Room left in the window.
    std::size_t room() const noexcept {
        return inflight_.size() < max_inflight_ ? max_inflight_ - inflight_.size() : 0;
    }
    std::size_t inflight() const noexcept { return inflight_.size(); }

    // A message was sent: in flight until released. `stored` is false for TTL-0 messages;
    // `seq` (its queue position) lets failed() rewind to it.
    void sent(const std::string& message_id, bool stored, std::uint64_t seq = 0) {
        inflight_[message_id] = Flight{stored, seq};
    }
    // Ends a message's flight. nullopt if it was not in flight; else whether it is stored
    // (and so must be deleted by an ack).
    std::optional<bool> release(const std::string& message_id);
    // The send of an in-flight message failed: its slot is free and, when it is stored, the
    // next read starts again at it (messages still in flight are skipped, not sent twice).
    // False if it was not in flight.
    bool failed(const std::string& message_id);

  private:
    ChannelBackend& backend_;
    std::size_t max_inflight_;
    std::uint64_t cursor_ = 0;  // highest seq looked at on this connection
    bool drained_ = false;      // the last read reached the end of the queue
    struct Flight {
        bool stored;
        std::uint64_t seq;
    };
    std::map<std::string, Flight> inflight_;  // message id -> stored, queue position
};

}  // namespace pushsvc::webpush
