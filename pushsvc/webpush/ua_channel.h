#pragma once
// The user-agent channel: the WebSocket push protocol stock Firefox speaks
// (Firefox's dom/push/PushServiceWebSocket.sys.mjs: hello, register, unregister,
// notification, ack, nack, ping) as a state machine. Events go in (a text
// frame from the UA, a wake-up for stored messages, a TTL-0 message to hand over now), actions
// come out (frames to send, a close, "identified as uaid", acknowledged messages to delete
// later). It does no I/O itself; the session around it (http1/) performs the actions, and the
// ChannelBackend performs store operations.
//
// Delivery rules:
// - Stored messages are sent in arrival order (seq), at most `max_inflight` un-acked at a
//   time; the rest stay in the store until acks make room. So a UA that stops reading holds
//   at most max_inflight notifications in the server's memory.
// - An ack deletes exactly the acked message (never a batch). Un-acked messages are sent again
//   on the next connection, because a new channel starts from the beginning of the queue.
// - TTL, Urgency and Topic are never forwarded; aesgcm gets `encryption` and `crypto_key`
//   with only `dh` (RVAPID01-5.2-c).
//
// Not thread-safe: one instance per connection, driven by one event at a time (the session
// runs each on its socket's strand or on the store executor, never two at once). forget() is
// static and may run anywhere.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <boost/json/object.hpp>

#include "pushsvc/store/records.h"
#include "pushsvc/webpush/channel_backend.h"
#include "pushsvc/webpush/delivery_window.h"

namespace pushsvc::webpush {

struct ChannelOptions {
    std::size_t max_inflight = 32;        // un-acked notifications per connection
    std::size_t max_subscriptions = 500;  // channels per user agent
    // The connection's client key (net/admission.h client_key()) for the hello and new-UA
    // rate limits; "" = not limited.
    std::string client;
};

namespace channel {
struct Send {
    std::string text;  // one JSON text frame
};
// Close the WebSocket with this code (RFC 6455 §7.4) and reason.
struct Close {
    std::uint16_t code;
    std::string reason;
};
// The hello named (or created) this user agent: register the session with the delivery hub.
struct Identified {
    std::string uaid;  // raw id
};
// Stored messages the UA acknowledged (on_text with AckDeletes::later): delete them
// (UaChannel::forget) after this event, without holding up the channel's next one; they have
// left the delivery window already.
struct Forget {
    std::vector<std::string> message_ids;
};
using Action = std::variant<Send, Close, Identified, Forget>;
}  // namespace channel

class UaChannel {
  public:
    UaChannel(ChannelBackend& backend, ChannelOptions options = {});

    // What an ack does with the stored messages it acknowledges: deletes them now (failing
    // closes the channel, 1011), or names them in a Forget for the caller to do after this
    // event (a caller that must not wait on the store).
    enum class AckDeletes { now, later };
    std::vector<channel::Action> on_text(std::string_view frame,
                                         AckDeletes deletes = AckDeletes::now);
    // New stored messages may be waiting for this user agent; `carried`, when given, is the
    // one whose storing woke it (DeliveryWindow::carried).
    std::vector<channel::Action> on_stored(const store::MessageRecord* carried = nullptr);
    // A TTL-0 message (not stored) to deliver now if there is room, else it is dropped.
    std::vector<channel::Action> on_direct(const store::MessageRecord& message);
    // A message was acknowledged by DELETE on its resource instead of a WebSocket ack.
    std::vector<channel::Action> on_acked(const std::string& message_id);
    // Whether on_stored(&message) (or, `direct`, on_direct(message)) would run now without a
    // store call: what is cheap on a network thread even when the store is not. A `false`
    // may be cautious; a `true` is exact.
    bool handles_without_store(const store::MessageRecord& message, bool direct) const;
    // The same for on_text(frame, AckDeletes::later), for acks only: an ack qualifies while the
    // queue is read to its end; other messages answer false.
    bool handles_text_without_store(std::string_view frame) const;
    // Performs a Forget: the store deletes of acknowledged messages, ChannelBackend::ack. Any
    // thread (the backend is shared by all channels). A failure answers the Close to end the
    // connection with, so that the UA's next connection is offered the messages again.
    static std::optional<channel::Close> forget(ChannelBackend& backend,
                                                const channel::Forget& acked);

    bool identified() const noexcept { return state_ == State::identified; }
    const std::string& uaid() const noexcept { return uaid_; }
    std::size_t inflight() const noexcept { return window_.inflight(); }

    // uaid on the wire: 32 lower-case hex digits, like autopush and what Firefox stores.
    static std::string uaid_to_wire(std::string_view raw);

  private:
    enum class State { awaiting_hello, identified, closed };
    using Actions = std::vector<channel::Action>;

    void hello(const boost::json::object& msg, Actions& out);
    void register_channel(const boost::json::object& msg, Actions& out);
    void unregister_channel(const boost::json::object& msg, Actions& out);
    void ack(const boost::json::object& msg, AckDeletes deletes, Actions& out);
    void fail(Actions& out, std::uint16_t code, std::string reason);
    void fill(Actions& out);
    bool admit(const store::MessageRecord& m);
    void load_channels();
    void send_notification(const store::MessageRecord& m, const std::string& channel_id,
                           bool stored, Actions& out);

    ChannelBackend& backend_;
    ChannelOptions options_;
    State state_ = State::awaiting_hello;
    std::string uaid_;
    std::map<std::string, std::string> channel_of_sub_;  // subscription id -> channelID
    std::map<std::string, std::string> sub_of_channel_;  // channelID -> subscription id
    DeliveryWindow window_;
};

}  // namespace pushsvc::webpush
