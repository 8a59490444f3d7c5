#pragma once
// The push service's operations, independent of any transport (RFC 8030 §4, §5, §6.2, §7.3):
// subscribe, push, delete a message (ack or cancel), delete a subscription. Inputs are field
// values and bodies; outputs are records, URLs and errc. State lives in the Store; delivery to
// online user agents goes through the Notifier (delivery/ plugs in there).
//
// Thread-safety: all methods may be called concurrently from any thread. Methods that write
// the store block for the write (an fsync when store.sync is on), so app/ calls them off the
// network threads in that mode.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pushsvc/base/clock.h"
#include "pushsvc/base/result.h"
#include "pushsvc/config/config.h"
#include "pushsvc/store/store.h"
#include "pushsvc/vapid/credentials_cache.h"
#include "pushsvc/vapid/token_cache.h"
#include "pushsvc/webpush/endpoint_codec.h"
#include "pushsvc/webpush/rate_limits.h"
#include "pushsvc/webpush/urgency.h"

namespace pushsvc::webpush {

// Told about every accepted message so an online user agent can get it at once.
class Notifier {
  public:
    virtual ~Notifier() = default;
    // `stored` is false for TTL 0 messages, which exist only if delivered now. `route`: what
    // the store read of the user agent's route in the same step as the append (cluster mode).
    virtual void notify(const store::MessageRecord& message, bool stored,
                        const store::RouteSeen& route) = 0;
    // A message was deleted through its resource (the UA's ack or the sender's cancel), so
    // sessions that sent it stop counting it as in flight.
    virtual void acknowledged(const std::string& uaid, const std::string& message_id) = 0;
    // A subscription (or with an empty id, the whole user agent: a set, a receipt
    // subscription) was removed: monitors of it end with 404 (RFC 8030 §7.3).
    virtual void removed(const std::string& uaid, const std::string& subscription_id) = 0;
};

struct ServiceOptions {
    config::Profile profile = config::Profile::compat;
    std::string origin;  // scheme://host[:port] of endpoint URLs and the VAPID audience
    std::uint32_t max_ttl = 2'592'000;
    std::uint32_t max_body_bytes = 4352;
    std::int64_t vapid_skew_s = 60;
    std::size_t vapid_cache_size = 10'000;
    std::size_t max_queued_per_ua = 1000;  // 429 beyond it (R8030-8.4-b)
    // A user agent unseen this long is gone (410 to pushes) and collected (push.ua_idle_days).
    std::int64_t ua_idle_ms = std::int64_t(60) * 24 * 3600 * 1000;
    config::RateConfig rate;  // per-sender / per-address limits (rate_limits.h)
};

// Path prefixes of the resources this service mints (all capability URLs, RFC 8030 §8.3).
inline constexpr std::string_view kPushPrefix = "/push/";         // push resource (endpoint)
inline constexpr std::string_view kSubscriptionPrefix = "/sub/";  // push message subscription
inline constexpr std::string_view kMessagePrefix = "/m/";         // push message resource
inline constexpr std::string_view kSetPrefix = "/set/";           // subscription set (§4.1)
inline constexpr std::string_view kReceiptPrefix = "/receipt/";   // receipt subscription (§5.1)

// Link relations of RFC 8030 §9.1.
inline constexpr std::string_view kRelPush = "urn:ietf:params:push";
inline constexpr std::string_view kRelSet = "urn:ietf:params:push:set";
inline constexpr std::string_view kRelReceipt = "urn:ietf:params:push:receipt";

struct SubscribeRequest {
    std::optional<std::string> content_type;  // application/webpush-options+json -> body read
    std::string body;
    std::optional<std::string> crypto_key;  // legacy `p256ecdsa=<key>` (RVAPID01-5.1-a)
    std::string uaid;        // owning user agent; "" = a new one (RFC 8030 subscribe)
    std::string channel_id;  // WebSocket channelID, "" for RFC 8030
    std::optional<std::string> app_server_key;  // base64url key given directly (WebSocket)
    std::optional<std::string> link;  // may name a set to join (rel=urn:ietf:params:push:set)
};

struct Subscription {
    store::SubscriptionRecord record;
    std::string endpoint;      // push resource URL (Link rel="urn:ietf:params:push")
    std::string resource_url;  // push message subscription URL (Location)
    std::string set_url;       // its set (Link rel="urn:ietf:params:push:set"); "" for WebSocket
};

struct PushRequest {
    std::string token;  // endpoint token (last path segment)
    std::optional<std::string> ttl, urgency, topic;
    std::optional<std::string> content_encoding, encryption, crypto_key;
    std::optional<std::string> authorization;
    std::optional<std::string> prefer, link;  // receipts: respond-async + receipt Link (§5.1)
    std::string body;
    std::string client;  // the sender's address key (http::Request::client); "" = in-process
};

struct PushOutcome {
    store::MessageRecord message;  // body moved in; id/seq assigned
    std::string location;          // message resource URL
    std::uint32_t ttl_kept = 0;
    std::string receipt_url;  // receipt subscription when asked for: answer 202 (§5.1)
    store::RouteSeen route;   // the user agent's route, if the store read it with the append
};

// A push checked and ready to store (PushService::prepare_push): stored alone (push()) or
// with the other pushes of one HTTP/2 read (push_batch()), then finished (finish_push()).
struct PreparedPush {
    PushOutcome out;
    bool store = true;         // false: TTL 0, never stored
    std::string new_receipts;  // a receipt subscription made for this push: undone on refusal
};

// The kinds of resources a monitoring GET may name (RFC 8030 §6, §6.1, §6.3).
enum class MonitorKind { subscription, set, receipts };

// What a monitoring request watches: the queue of `uaid` (a set, an RFC 8030 subscription's
// own user agent, or a receipt subscription), narrowed to one subscription when
// `subscription_id` is set.
struct MonitorScope {
    std::string uaid;
    std::string subscription_id;
    bool receipts = false;
};

class PushService {
  public:
    PushService(ServiceOptions options, store::Store& store, EndpointCodec codec,
                const base::Clock& clock);

    void set_notifier(Notifier* notifier) noexcept { notifier_ = notifier; }
    const ServiceOptions& options() const noexcept { return options_; }

    result<Subscription> subscribe(const SubscribeRequest& req);
    // errc::rate_limited when the sender is over rate.push_*: then `retry_after_s` (if given)
    // is set to the seconds until it may push again.
    result<PushOutcome> push(PushRequest req, std::uint32_t* retry_after_s = nullptr);
    // Pushes that arrived together (one HTTP/2 read): each is checked as push() checks it, in
    // order, then the ones to store are written by one Store::enqueue_batch (one WAL append;
    // the queue cap and Topic replacement see the earlier pushes of the batch) and finished.
    // out[i] answers reqs[i] as push() would have; retry_after_s[i] is set for a 429 of a
    // rate limit. Every accepted message is in the WAL when this returns.
    std::vector<result<PushOutcome>> push_batch(std::span<PushRequest> reqs,
                                                std::span<std::uint32_t> retry_after_s);
    // Whether push_batch() writes its pushes at once (Store::batched_enqueue); if not, callers
    // gain nothing by collecting pushes for it.
    bool batches_pushes() const noexcept { return store_.batched_enqueue(); }

    // The rate limits of every transport (subscribe and hello limits are applied by the
    // HTTP API and the WebSocket channel, before they call in here).
    RateLimits& rate_limits() noexcept { return rate_limits_; }

    // DELETE on a message resource: the UA's ack (RFC 8030 §6.2) or the sender's cancel.
    // errc::not_found when there is no such (unexpired, undeleted) message.
    result<void> delete_message(std::string_view id_segment);

    // The ack of a user agent on its push channel (WebSocket `ack`, or a pushed receipt
    // consumed by a monitor): removes message `message_id` (raw id) and sends the 204
    // receipt it earned. false when there is no such message.
    result<bool> acknowledge(std::string_view message_id);

    // DELETE on a push message subscription resource (RFC 8030 §7.3).
    result<void> delete_subscription(std::string_view id_segment);
    // DELETE on a subscription set: removes every member (RFC 8030 §7.3.1).
    result<void> delete_set(std::string_view id_segment);
    // DELETE on a receipt subscription (RFC 8030 §7.3).
    result<void> delete_receipt_subscription(std::string_view id_segment);

    // What a monitoring GET on a resource watches; errc::not_found for unknown resources.
    result<MonitorScope> monitor_scope(MonitorKind kind, std::string_view id_segment);

    // Called when a message was sent to a user agent: its later DELETE is an ack and earns a
    // 204 receipt when one was asked for (A-6: a DELETE of an undelivered message is the
    // sender's cancel and earns none).
    void mark_delivered(const store::MessageRecord& message);
    // Whether mark_delivered(message) writes to the store: it asked for a receipt and is not
    // marked yet.
    static bool records_delivery(const store::MessageRecord& message);

    // Gives up a message before its TTL (an operator or test-double decision, RFC 8030 §6.2,
    // §7.2): it is deleted and, when a receipt was asked for, a 410 receipt goes out
    // (R8030-6.2-d, 6.3-c, 7.2-f). errc::not_found when there is no such message.
    result<void> give_up(std::string_view id_segment);

    // Deletes up to `limit` expired messages, earliest first; those that asked for a receipt
    // get a 410 receipt (R8030-6.3-d). Returns how many (fewer than `limit`: none left).
    // Called by app/'s expiry scheduler when the store's next_expiry() has passed.
    result<std::size_t> sweep(base::UnixMs now, std::size_t limit);

    // A user agent or receipt subscription showed itself (hello, monitoring GET, a push naming
    // it): records it at most once a day. false if it does not exist or is past its idle age
    // (then it is removed now: senders were already told 410).
    result<bool> seen(std::string_view uaid);
    // A user agent is connected (a WebSocket session or a monitor holds it): it is seen now,
    // whatever its age, at most one write a day. false if it does not exist.
    result<bool> refresh_connected(std::string_view uaid);
    // Removes up to `limit` user agents unseen for push.ua_idle_days and receipt
    // subscriptions unseen for push.max_ttl, with their subscriptions and queues. Returns how
    // many (fewer than `limit`: none left).
    result<std::size_t> collect_idle(std::size_t limit);

    // URL of a stored message / a subscription's endpoint, as handed out.
    std::string message_url(std::string_view message_id) const;
    std::string endpoint_url(const store::SubscriptionRecord& sub) const;

  private:
    // push() up to the store: token, subscription, owner, VAPID, rate limit, headers, and a
    // receipt subscription when one is asked for (push_ingest.cc).
    result<PreparedPush> prepare_push(PushRequest req, std::uint32_t* retry_after_s);
    // After the store's answer: the Location and the notification, or the receipt
    // subscription undone on refusal.
    result<PushOutcome> finish_push(PreparedPush& p, store::Store::Enqueued stored);
    result<void> check_vapid(const PushRequest& req, const store::SubscriptionRecord& sub,
                             const EndpointToken& token, std::string& verified_key);
    result<std::string> named_receipt_subscription(const PushRequest& req);
    // How long a record of this kind may go unseen.
    base::UnixMs idle_limit_ms(store::AgentKind kind) const;
    // How stale last_seen may be: it is written at most this often.
    base::UnixMs seen_resolution_ms(store::AgentKind kind) const;
    // The user agent exists and is not past its idle age.
    // Records last_seen = now when the stored value is as old as the resolution; false if the
    // user agent was deleted since `ua` was read.
    result<bool> record_seen(const store::UserAgentRecord& ua, base::UnixMs now);
    result<store::MessageRecord> remove_message(std::string_view id_segment);
    result<void> remove_user_agent(const std::string& uaid);
    void send_receipt(const store::MessageRecord& message, std::uint16_t status);
    // The 204 receipt a removed message earned, if any.
    void receipt_for_ack(const store::MessageRecord& message);

    ServiceOptions options_;
    store::Store& store_;
    EndpointCodec codec_;
    const base::Clock& clock_;
    vapid::TokenCache vapid_cache_;
    vapid::CredentialsCache vapid_headers_;  // parsed Authorization values (none if no cache)
    RateLimits rate_limits_;
    // Set once: every push's vapid::VerifyOptions views it.
    const std::vector<std::string> audiences_;
    Notifier* notifier_ = nullptr;
};

// 16 random bytes: subscription, user-agent and message ids (>= 120 bits, RFC 8030 §8.3).
std::string new_id();
// new_id() for a message, with room for what the store appends to it.
std::string new_message_id();

// The queue (user agent record) of receipt subscription `receipt_id`: a key no WebSocket
// hello could name (those are 16 bytes).
std::string receipt_queue(std::string_view receipt_id);

}  // namespace pushsvc::webpush
