#include "pushsvc/webpush/push_service.h"

#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include "pushsvc/base/base64url.h"
#include "pushsvc/base/text.h"
#include "pushsvc/crypto/hash.h"
#include "pushsvc/crypto/p256.h"
#include "pushsvc/crypto/random.h"
#include "pushsvc/obs/catalog.h"
#include "pushsvc/vapid/credentials.h"
#include "pushsvc/webpush/push_headers.h"

namespace pushsvc::webpush {
namespace {

constexpr std::size_t kIdBytes = 16;
// Parsed Authorization values remembered (vapid::CredentialsCache): enough for the senders
// pushing at any one time; a slot is ~0.5 KB once used.
constexpr std::size_t kVapidHeaderSlots = 1024;

// Accepted VAPID `aud` values: our origin, and in compat also the origin without a
// non-default port, because webpush-java, web-push-php and the rust crate drop it (A-9).
std::vector<std::string> audiences_for(const std::string& origin, config::Profile profile) {
    std::vector<std::string> out{origin};
    auto scheme_end = origin.find("://");
    auto colon = origin.rfind(':');
    if (profile == config::Profile::compat && scheme_end != std::string::npos &&
        colon > scheme_end + 2)
        out.push_back(origin.substr(0, colon));
    return out;
}

// Decodes and validates an application server key (a P-256 point, RFC 8292 §4.1).
result<std::string> app_server_key(std::string_view text) {
    auto raw = base::base64_decode_lenient(base::trim(text));
    if (!raw || !crypto::P256PublicKey::from_uncompressed(*raw)) return errc::bad_subscribe_key;
    return *raw;
}

// The restricting key of a subscribe request, "" when unrestricted.
result<std::string> restricting_key(const SubscribeRequest& req) {
    if (req.app_server_key) return app_server_key(*req.app_server_key);
    if (req.content_type) {
        // Only application/webpush-options+json is read (R8292-4.1-b); parameters such as
        // charset are tolerated (R8292-6.3-a).
        std::string_view media = base::trim(base::split(*req.content_type, ';').front());
        if (base::iequals(media, "application/webpush-options+json")) {
            boost::system::error_code ec;
            auto value = boost::json::parse(req.body, ec);
            if (ec || !value.is_object()) return errc::bad_json;
            const auto* key = value.as_object().if_contains("vapid");
            if (!key) return std::string();  // unknown members are ignored (R8292-4.1-c)
            if (!key->is_string()) return errc::bad_subscribe_key;
            return app_server_key(std::string_view(key->as_string()));
        }
    }
    if (req.crypto_key) {
        auto params = base::parse_params(*req.crypto_key);
        if (!params) return errc::bad_subscribe_key;
        if (const auto* p = base::find_param(*params, "p256ecdsa")) return app_server_key(p->value);
    }
    return std::string();
}

// The raw id behind a URL segment, or nullopt.
std::optional<std::string> id_from_segment(std::string_view segment) {
    auto raw = base::base64url_decode(segment);
    if (!raw || raw->size() != kIdBytes) return std::nullopt;
    return raw;
}

// A message id is ours plus whatever the store appended to find it (Store::enqueue;
// RocksStore: 16 octets); at most this long.
constexpr std::size_t kMaxMessageIdBytes = 64;

// The raw message id behind a URL segment, or nullopt.
std::optional<std::string> message_id_from_segment(std::string_view segment) {
    if (segment.size() > (kMaxMessageIdBytes * 4 + 2) / 3) return std::nullopt;
    auto raw = base::base64url_decode(segment);
    if (!raw || raw->size() < kIdBytes || raw->size() > kMaxMessageIdBytes) return std::nullopt;
    return raw;
}

// The id named by a Link URI-reference (absolute, or a path relative to our origin) whose
// path is `prefix` + one segment (R8030-4.1-b: both forms).
std::optional<std::string> id_from_link(std::string_view uri, std::string_view prefix) {
    if (auto scheme = uri.find("://"); scheme != std::string_view::npos) {
        auto path = uri.find('/', scheme + 3);
        uri = path == std::string_view::npos ? std::string_view() : uri.substr(path);
    }
    if (uri.substr(0, prefix.size()) != prefix) return std::nullopt;
    return id_from_segment(uri.substr(prefix.size()));
}

// "Seen" is recorded at most once per this period per user agent (or per half its idle age,
// when that is shorter, as for receipt subscriptions under a short push.max_ttl): idleness is
// counted in days, and a write per reconnect would cost a store write per hello.
constexpr base::UnixMs kSeenResolutionMs = 24 * 3600 * 1000;

// A message (not itself a receipt) whose sender asked for a receipt.
bool wants_receipt(const store::MessageRecord& m) {
    return !m.receipt_id.empty() && m.receipt_status == 0;
}

}  // namespace

std::string new_id() { return crypto::random_bytes(kIdBytes); }

std::string new_message_id() {
    // Room for what a store may append to a message id (store.h; RocksStore: a 16-octet
    // locator), so that the id is allocated once.
    constexpr std::size_t kStoreSuffixRoom = 16;
    std::string id;
    id.reserve(kIdBytes + kStoreSuffixRoom);
    crypto::random_append(id, kIdBytes);
    return id;
}

// Receipt subscriptions are queues of their own; their key cannot be a uaid a WebSocket hello
// could name (those are 16 bytes).
std::string receipt_queue(std::string_view receipt_id) { return "R" + std::string(receipt_id); }

PushService::PushService(ServiceOptions options, store::Store& store, EndpointCodec codec,
                         const base::Clock& clock)
    : options_(std::move(options)),
      store_(store),
      codec_(std::move(codec)),
      clock_(clock),
      vapid_cache_(options_.vapid_cache_size),
      vapid_headers_(options_.vapid_cache_size == 0 ? 0 : kVapidHeaderSlots),
      rate_limits_(options_.rate, clock),
      audiences_(audiences_for(options_.origin, options_.profile)) {}

std::string PushService::message_url(std::string_view message_id) const {
    // One allocation for the URL (every 201 carries one).
    std::string url;
    url.reserve(options_.origin.size() + kMessagePrefix.size() + (message_id.size() * 4 + 2) / 3);
    url += options_.origin;
    url += kMessagePrefix;
    base::base64url_append(url, message_id);
    return url;
}

std::string PushService::endpoint_url(const store::SubscriptionRecord& sub) const {
    EndpointToken token{
        sub.id, sub.app_server_key.empty() ? std::string() : crypto::sha256(sub.app_server_key)};
    return options_.origin + std::string(kPushPrefix) + codec_.encode(token);
}

result<Subscription> PushService::subscribe(const SubscribeRequest& req) {
    auto key = restricting_key(req);
    if (!key) return key.error();
    base::UnixMs now = clock_.now_ms();
    store::SubscriptionRecord sub;
    sub.id = new_id();
    sub.uaid = req.uaid;
    sub.channel_id = req.channel_id;
    sub.app_server_key = *key;
    sub.created_ms = now;
    bool rfc8030 = sub.uaid.empty();
    if (rfc8030) {
        // RFC 8030 subscribe: a subscription set is a queue (a user agent record) of its own;
        // naming an existing set joins it (§4.1), otherwise the subscription starts a new one.
        if (auto set_link = find_link(req.link, kRelSet)) {
            auto set = id_from_link(*set_link, kSetPrefix);
            if (!set) return errc::unknown_set;
            auto live = seen(*set);  // a user agent adding to its set shows itself
            if (!live) return live.error();
            if (!*live) return errc::unknown_set;  // R8030-4.1-e
            sub.uaid = *set;
        } else {
            sub.uaid = new_id();
            if (auto r = store_.put_user_agent({sub.uaid, now, now}); !r) return r.error();
        }
    }
    if (auto r = store_.put_subscription(sub); !r) return r.error();
    Subscription out;
    out.endpoint = endpoint_url(sub);
    out.resource_url =
        options_.origin + std::string(kSubscriptionPrefix) + base::base64url_encode(sub.id);
    if (rfc8030)
        out.set_url = options_.origin + std::string(kSetPrefix) + base::base64url_encode(sub.uaid);
    out.record = std::move(sub);
    return out;
}

result<store::MessageRecord> PushService::remove_message(std::string_view id_segment) {
    auto id = message_id_from_segment(id_segment);
    if (!id) return errc::not_found;
    auto removed = store_.delete_message(*id);
    if (!removed) return removed.error();
    if (!*removed) return errc::not_found;
    // Sessions that sent it stop counting it as in flight.
    if (notifier_) notifier_->acknowledged((*removed)->uaid, *id);
    return std::move(**removed);
}

result<void> PushService::delete_message(std::string_view id_segment) {
    auto message = remove_message(id_segment);
    if (!message) return message.error();
    receipt_for_ack(*message);
    return {};
}

result<bool> PushService::acknowledge(std::string_view message_id) {
    auto removed = store_.delete_message(message_id);
    if (!removed) return {boost::system::in_place_error, removed.error()};
    if (!*removed) return false;
    receipt_for_ack(**removed);
    return true;
}

void PushService::receipt_for_ack(const store::MessageRecord& message) {
    // Only a delivered message's removal is an acknowledgement; before delivery it is the
    // sender's cancel and earns none (A-6).
    if (wants_receipt(message) && message.delivered) send_receipt(message, 204);
}

result<void> PushService::give_up(std::string_view id_segment) {
    auto message = remove_message(id_segment);
    if (!message) return message.error();
    if (wants_receipt(*message)) send_receipt(*message, 410);
    return {};
}

result<void> PushService::remove_user_agent(const std::string& uaid) {
    auto ua = store_.get_user_agent(uaid);
    if (!ua) return ua.error();
    if (!*ua) return errc::not_found;
    if (auto r = store_.delete_user_agent(uaid); !r) return r.error();
    if (notifier_) notifier_->removed(uaid, "");
    return {};
}

result<void> PushService::delete_set(std::string_view id_segment) {
    auto id = id_from_segment(id_segment);
    if (!id) return errc::not_found;
    return remove_user_agent(*id);
}

result<void> PushService::delete_receipt_subscription(std::string_view id_segment) {
    auto id = id_from_segment(id_segment);
    if (!id) return errc::not_found;
    return remove_user_agent(receipt_queue(*id));
}

result<MonitorScope> PushService::monitor_scope(MonitorKind kind, std::string_view id_segment) {
    auto id = id_from_segment(id_segment);
    if (!id) return errc::not_found;
    MonitorScope scope;
    if (kind == MonitorKind::subscription) {
        auto sub = store_.get_subscription(*id);
        if (!sub) return sub.error();
        if (!*sub) return errc::not_found;  // R8030-7.3-b
        scope.uaid = (*sub)->uaid;
        scope.subscription_id = *id;
    } else {
        scope.receipts = kind == MonitorKind::receipts;
        scope.uaid = scope.receipts ? receipt_queue(*id) : *id;
    }
    // Monitoring is how an RFC 8030 user agent or an application server shows itself.
    auto seen_now = seen(scope.uaid);
    if (!seen_now) return seen_now.error();
    if (!*seen_now) return errc::not_found;
    return scope;
}

result<std::string> PushService::named_receipt_subscription(const PushRequest& req) {
    // Reuse the receipt subscription the sender names (R8030-5.1-e, -f); an unknown or
    // expired one is a 400 (R8030-5.1-h). "" when none is named (R8030-5.1-g).
    auto link = find_link(req.link, kRelReceipt);
    if (!link) return std::string();
    auto rid = id_from_link(*link, kReceiptPrefix);
    if (!rid) return errc::unknown_receipt;
    // Naming it is using it: a receipt subscription in use does not expire.
    auto seen_now = seen(receipt_queue(*rid));
    if (!seen_now) return seen_now.error();
    if (!*seen_now) return errc::unknown_receipt;
    return *rid;
}

base::UnixMs PushService::seen_resolution_ms(store::AgentKind kind) const {
    const base::UnixMs age = kind == store::AgentKind::receipts
                                 ? std::int64_t(options_.max_ttl) * 1000
                                 : options_.ua_idle_ms;
    return std::min(kSeenResolutionMs, age / 2);
}

base::UnixMs PushService::idle_limit_ms(store::AgentKind kind) const {
    if (kind != store::AgentKind::receipts) return options_.ua_idle_ms;
    // A message naming it, and a receipt queued in it, live up to max_ttl past a use whose
    // last_seen may lag by the resolution: it must outlive both.
    return std::int64_t(options_.max_ttl) * 1000 + seen_resolution_ms(kind);
}

result<bool> PushService::seen(std::string_view uaid) {
    auto ua = store_.get_user_agent(uaid);
    if (!ua) return {boost::system::in_place_error, ua.error()};
    if (!*ua) return false;
    base::UnixMs now = clock_.now_ms();
    if (now - (*ua)->last_seen_ms >= idle_limit_ms((*ua)->kind)) {
        // Past its age it is gone for senders already (push answers 410): it cannot come
        // back, or a sender told 410 would have dropped a subscription that still works.
        if (auto r = remove_user_agent((*ua)->uaid); !r && r.error() != errc::not_found)
            return {boost::system::in_place_error, r.error()};
        return false;
    }
    return record_seen(**ua, now);
}

result<bool> PushService::refresh_connected(std::string_view uaid) {
    auto ua = store_.get_user_agent(uaid);
    if (!ua) return {boost::system::in_place_error, ua.error()};
    if (!*ua) return false;
    return record_seen(**ua, clock_.now_ms());
}

result<bool> PushService::record_seen(const store::UserAgentRecord& ua, base::UnixMs now) {
    if (now - ua.last_seen_ms < seen_resolution_ms(ua.kind)) return true;
    return store_.touch_user_agent(ua.uaid, now);  // false: deleted since it was read
}

result<std::size_t> PushService::collect_idle(std::size_t limit) {
    base::UnixMs now = clock_.now_ms();
    std::size_t removed = 0;
    for (auto kind : {store::AgentKind::user_agent, store::AgentKind::receipts}) {
        auto idle = store_.idle_user_agents(kind, now - idle_limit_ms(kind) + 1, limit - removed);
        if (!idle) return idle.error();
        for (const auto& uaid : *idle) {
            if (auto r = remove_user_agent(uaid); !r && r.error() != errc::not_found)
                return r.error();
            ++removed;
        }
        if (removed == limit) break;
    }
    obs::catalog().idle_user_agents_removed.inc(removed);
    return removed;
}

void PushService::send_receipt(const store::MessageRecord& message, std::uint16_t status) {
    // Receipts are stored like messages, on the receipt subscription's queue, so they survive
    // a restart and wait for the application server (RFC 8030 §6.3).
    std::string queue = receipt_queue(message.receipt_id);
    auto ua = store_.get_user_agent(queue);
    if (!ua || !*ua) return;  // the receipt subscription is gone: nobody to tell
    base::UnixMs now = clock_.now_ms();
    store::MessageRecord receipt;
    receipt.id = new_id();
    receipt.uaid = queue;
    receipt.receipt_id = message.id;
    receipt.receipt_status = status;
    receipt.received_ms = now;
    receipt.ttl_s = options_.max_ttl;
    receipt.expires_ms = now + std::int64_t(options_.max_ttl) * 1000;
    // Capped like any queue: a receipt subscription nobody reads cannot grow without bound.
    if (auto r = store_.enqueue(receipt, options_.max_queued_per_ua); !r) {
        spdlog::debug("receipt: not queued ({})", r.error().message());
        return;
    }
    (status == 204 ? obs::catalog().receipts_204 : obs::catalog().receipts_410).inc();
    // A receipt waiting counts as use: the subscription lives max_ttl past its last receipt,
    // as long as the receipt itself, so the one for a message that lived its whole max_ttl
    // (made with the subscription) is not collected with it.
    if (!record_seen(**ua, now))
        spdlog::debug("receipt: could not record the receipt subscription's last use");
    if (notifier_) notifier_->notify(receipt, true, {});
}

bool PushService::records_delivery(const store::MessageRecord& message) {
    return wants_receipt(message) && !message.delivered;
}

void PushService::mark_delivered(const store::MessageRecord& message) {
    // Only messages that asked for a receipt care; stored, so an ack after a restart still
    // earns its 204. Called before the message goes out, so before the UA can ack it.
    if (!records_delivery(message)) return;
    if (!store_.mark_delivered(message.id))
        spdlog::warn("receipt: could not record delivery of a message; its ack earns no 204");
}

result<std::size_t> PushService::sweep(base::UnixMs now, std::size_t limit) {
    std::vector<store::MessageRecord> with_receipt;
    auto swept = store_.sweep_expired(now, limit, &with_receipt);
    if (!swept) return swept.error();
    obs::catalog().messages_expired.inc(*swept);
    for (const auto& m : with_receipt) {
        send_receipt(m, 410);  // expired without an ack (R8030-6.3-d, choice A-4)
    }
    return *swept;
}

result<void> PushService::delete_subscription(std::string_view id_segment) {
    auto id = id_from_segment(id_segment);
    if (!id) return errc::not_found;
    auto sub = store_.get_subscription(*id);
    if (!sub) return sub.error();
    if (!*sub) return errc::not_found;
    auto deleted = store_.delete_subscription(*id);
    if (!deleted) return deleted.error();
    if (!*deleted) return errc::not_found;
    if (notifier_) notifier_->removed((*sub)->uaid, *id);
    return {};
}

}  // namespace pushsvc::webpush
