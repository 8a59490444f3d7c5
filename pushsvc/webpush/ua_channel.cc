#include "pushsvc/webpush/ua_channel.h"

#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include "pushsvc/base/base64url.h"
#include "pushsvc/base/text.h"
#include "pushsvc/obs/catalog.h"

namespace pushsvc::webpush {
namespace {

namespace json = boost::json;
using channel::Close;
using channel::Identified;
using channel::Send;

// RFC 6455 §7.4.1 close codes used here.
constexpr std::uint16_t kPolicyViolation = 1008;
constexpr std::uint16_t kInvalidPayload = 1007;
constexpr std::uint16_t kInternalError = 1011;
// "Try Again Later" (IANA WebSocket close code registry): Firefox treats any close by the
// server as a reason to reconnect with its backoff (5 s doubling), unlike 4774 which stops
// reconnecting until a new request or network change.
constexpr std::uint16_t kTryAgainLater = 1013;

std::string_view str_member(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v && v->is_string() ? std::string_view(v->as_string()) : std::string_view();
}

std::optional<std::string> uaid_from_wire(std::string_view hex) {
    if (hex.size() != 32) return std::nullopt;
    std::string raw;
    for (std::size_t i = 0; i < hex.size(); i += 2) {
        auto nibble = [](char c) -> int {
            if (c >= '0' && c <= '9') return c - '0';
            if (c >= 'a' && c <= 'f') return c - 'a' + 10;
            if (c >= 'A' && c <= 'F') return c - 'A' + 10;
            return -1;
        };
        int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        raw.push_back(static_cast<char>(hi * 16 + lo));
    }
    return raw;
}

// Firefox's channelIDs are UUIDs (8-4-4-4-12 hex); accept exactly that, lower-cased.
std::optional<std::string> channel_id_of(std::string_view text) {
    if (text.size() != 36) return std::nullopt;
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? c != '-' : !std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
        out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
    return out;
}

std::string reply(std::string_view type, std::string_view channel_id, int status,
                  std::string_view extra_key = {}, std::string_view extra_value = {}) {
    json::object o{{"messageType", type}, {"channelID", channel_id}, {"status", status}};
    if (!extra_key.empty()) o[extra_key] = extra_value;
    return json::serialize(o);
}

void count(obs::WsFrame what) { obs::catalog().ws_frame(what).inc(); }

obs::WsFrame frame_type(std::string_view type) {
    using F = obs::WsFrame;
    if (type == "hello") return F::hello;
    if (type == "register") return F::register_;
    if (type == "unregister") return F::unregister;
    if (type == "ack") return F::ack;
    if (type == "nack") return F::nack;
    if (type == "broadcast_subscribe") return F::broadcast_subscribe;
    return F::unknown;
}

}  // namespace

std::string UaChannel::uaid_to_wire(std::string_view raw) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : raw) {
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 15]);
    }
    return out;
}

UaChannel::UaChannel(ChannelBackend& backend, ChannelOptions options)
    : backend_(backend), options_(options), window_(backend, options.max_inflight) {}

void UaChannel::fail(Actions& out, std::uint16_t code, std::string reason) {
    state_ = State::closed;
    out.push_back(Close{code, std::move(reason)});
}

std::vector<channel::Action> UaChannel::on_text(std::string_view frame, AckDeletes deletes) {
    Actions out;
    if (state_ == State::closed) return out;
    boost::system::error_code ec;
    json::value value = json::parse(frame, ec);
    if (ec || !value.is_object()) {
        count(obs::WsFrame::invalid);
        fail(out, kInvalidPayload, "frames must be JSON objects");
        return out;
    }
    const json::object& msg = value.as_object();
    std::string type = base::to_lower(str_member(msg, "messageType"));
    // `{}`, a frame without messageType, or "ping" is a ping; answered with `{}`.
    if (type.empty() || type == "ping") {
        count(obs::WsFrame::ping);
        out.push_back(Send{"{}"});
        return out;
    }
    if (state_ == State::awaiting_hello) {
        if (type != "hello") {
            count(obs::WsFrame::before_hello);
            fail(out, kPolicyViolation, "hello first");
        } else {
            // Counted here too: the handshake hello is the one every session sends.
            count(obs::WsFrame::hello);
            hello(msg, out);
        }
        return out;
    }
    count(frame_type(type));
    if (type == "register") {
        register_channel(msg, out);
    } else if (type == "unregister") {
        unregister_channel(msg, out);
    } else if (type == "ack") {
        ack(msg, deletes, out);
    } else if (type == "nack") {
        // The service worker failed to handle it (codes 301-303). The message stays un-acked,
        // so it is offered again on the next connection.
        spdlog::info("ua {}: nack version={} code={}", uaid_to_wire(uaid_).substr(0, 8),
                     str_member(msg, "version"),
                     msg.if_contains("code") ? json::serialize(msg.at("code")) : "-");
    } else if (type == "hello") {
        fail(out, kPolicyViolation, "duplicate hello");
    }
    // broadcast_subscribe and unknown types are accepted and ignored, like autopush.
    return out;
}

void UaChannel::hello(const json::object& msg, Actions& out) {
    // Per address, before any store work: a client reconnecting in a loop costs a counter
    // increment and a close, not a store read and a queue scan each time. The close says "try
    // again later": Firefox reconnects with backoff (no hello reply status is checked by it).
    if (!backend_.admit(Limited::hello, options_.client))
        return fail(out, kTryAgainLater, "too many connections from this address; retry later");
    // A known uaid keeps its subscriptions; anything else gets a fresh one (Firefox then drops
    // its local subscriptions and re-subscribes).
    std::string uaid;
    if (auto wire = uaid_from_wire(str_member(msg, "uaid"))) {
        auto known = backend_.touch_user_agent(*wire);
        if (!known) return fail(out, kInternalError, "store unavailable");
        if (*known) uaid = *wire;
    }
    if (uaid.empty()) {
        // New user agents have their own, lower limit: each is a store record that lives for
        // push.ua_idle_days, and a fresh one comes with a fresh max_subscriptions_per_ua.
        if (!backend_.admit(Limited::new_user_agent, options_.client))
            return fail(out, kTryAgainLater, "too many new user agents from this address");
        auto created = backend_.create_user_agent();
        if (!created) return fail(out, kInternalError, "store unavailable");
        uaid = *created;
    }
    uaid_ = uaid;
    load_channels();
    state_ = State::identified;
    json::object r{{"messageType", "hello"},
                   {"status", 200},
                   {"uaid", uaid_to_wire(uaid_)},
                   {"use_webpush", true},
                   {"broadcasts", json::object()}};
    out.push_back(Send{json::serialize(r)});
    out.push_back(Identified{uaid_});
    fill(out);
}

void UaChannel::register_channel(const json::object& msg, Actions& out) {
    std::string_view raw_id = str_member(msg, "channelID");
    auto channel_id = channel_id_of(raw_id);
    if (!channel_id) {
        out.push_back(Send{reply("register", raw_id, 400, "error", "invalid channelID")});
        return;
    }
    if (sub_of_channel_.count(*channel_id)) {
        out.push_back(
            Send{reply("register", *channel_id, 409, "error", "channelID already registered")});
        return;
    }
    if (sub_of_channel_.size() >= options_.max_subscriptions) {
        out.push_back(Send{reply("register", *channel_id, 429, "error", "too many subscriptions")});
        return;
    }
    std::optional<std::string> key;
    if (const auto* k = msg.if_contains("key")) {
        if (!k->is_string()) {
            out.push_back(Send{reply("register", *channel_id, 400, "error", "invalid key")});
            return;
        }
        key = std::string(k->as_string());
    }
    auto sub = backend_.subscribe(uaid_, *channel_id, key);
    if (!sub) {
        bool bad_key = to_errc(sub.error()) == errc::bad_subscribe_key;
        out.push_back(
            Send{reply("register", *channel_id, bad_key ? 400 : 500, "error",
                       bad_key ? "invalid application server key" : "store unavailable")});
        return;
    }
    channel_of_sub_[sub->record.id] = *channel_id;
    sub_of_channel_[*channel_id] = sub->record.id;
    out.push_back(Send{reply("register", *channel_id, 200, "pushEndpoint", sub->endpoint)});
}

void UaChannel::unregister_channel(const json::object& msg, Actions& out) {
    std::string_view raw_id = str_member(msg, "channelID");
    auto channel_id = channel_id_of(raw_id);
    if (!channel_id) {
        out.push_back(Send{reply("unregister", raw_id, 400, "error", "invalid channelID")});
        return;
    }
    if (auto it = sub_of_channel_.find(*channel_id); it != sub_of_channel_.end()) {
        if (!backend_.unsubscribe(it->second)) {
            out.push_back(
                Send{reply("unregister", *channel_id, 500, "error", "store unavailable")});
            return;
        }
        channel_of_sub_.erase(it->second);
        sub_of_channel_.erase(it);
    }
    // Unknown channels are already unregistered: 200, so the UA's state converges.
    out.push_back(Send{reply("unregister", *channel_id, 200)});
}

namespace {

// Deletes one acknowledged stored message; counted as delivered once it is gone.
bool delete_acked(ChannelBackend& backend, const std::string& id) {
    if (!backend.ack(id)) return false;
    obs::catalog().delivered.inc();
    return true;
}

}  // namespace

void UaChannel::ack(const json::object& msg, AckDeletes deletes, Actions& out) {
    const auto* updates = msg.if_contains("updates");
    if (!updates || !updates->is_array()) return;
    channel::Forget later;
    for (const auto& u : updates->as_array()) {
        if (!u.is_object()) continue;
        auto id = base::base64url_decode(str_member(u.as_object(), "version"));
        auto stored = id ? window_.release(*id) : std::nullopt;
        if (!stored) {
            obs::catalog().ws_unknown_acks.inc();
            continue;
        }
        // Any ack code (100 delivered, 101 decrypt error, 102 not delivered) ends the
        // message: redelivering would fail the same way.
        if (!*stored) {
            obs::catalog().delivered.inc();  // TTL 0: nothing to delete
        } else if (deletes == AckDeletes::later) {
            later.message_ids.push_back(std::move(*id));
        } else if (!delete_acked(backend_, *id)) {
            return fail(out, kInternalError, "store unavailable");
        }
    }
    if (!later.message_ids.empty()) out.push_back(std::move(later));
    fill(out);
}

std::optional<channel::Close> UaChannel::forget(ChannelBackend& backend,
                                                const channel::Forget& acked) {
    for (const auto& id : acked.message_ids)
        if (!delete_acked(backend, id)) return Close{kInternalError, "store unavailable"};
    return std::nullopt;
}

bool UaChannel::handles_text_without_store(std::string_view frame) const {
    // Before its hello a channel reads (and may create) its user agent; once closed it
    // ignores everything.
    if (state_ != State::identified) return state_ == State::closed;
    boost::system::error_code ec;
    json::value value = json::parse(frame, ec);
    if (ec || !value.is_object()) return false;
    // Only an ack: it answers nothing, and fill() after it reads the queue unless the last
    // read reached its end. Other messages keep the store executor's pace (a burst of pings
    // answered in line on a loaded box outran the writes of their answers).
    const std::string type = base::to_lower(str_member(value.as_object(), "messageType"));
    return type == "ack" && window_.drained();
}

std::vector<channel::Action> UaChannel::on_acked(const std::string& message_id) {
    Actions out;
    if (state_ == State::identified && window_.release(message_id)) fill(out);
    return out;
}

std::vector<channel::Action> UaChannel::on_stored(const store::MessageRecord* carried) {
    Actions out;
    if (state_ != State::identified) {
        window_.more_stored();
        return out;
    }
    switch (carried ? window_.carried(*carried) : DeliveryWindow::Carried::read) {
        case DeliveryWindow::Carried::take:
            obs::catalog().sent_from_wake.inc();
            if (admit(*carried))
                send_notification(*carried, channel_of_sub_.at(carried->subscription_id), true,
                                  out);
            return out;
        case DeliveryWindow::Carried::seen:
            return out;
        case DeliveryWindow::Carried::read:
            window_.more_stored();
            fill(out);
            return out;
    }
    return out;
}

bool UaChannel::handles_without_store(const store::MessageRecord& m, bool direct) const {
    if (state_ != State::identified) return true;  // nothing happens, or more_stored() only
    if (direct) {
        if (window_.room() == 0) return true;  // dropped
    } else {
        switch (window_.classify(m)) {
            case DeliveryWindow::Carried::seen:
                return true;
            case DeliveryWindow::Carried::read:
                return false;  // fill() reads the queue
            case DeliveryWindow::Carried::take:
                break;
        }
    }
    // Sent (or, direct, dropped for an unknown channel) without the store, unless admit()
    // reloads the subscriptions or delivered() records a receipt's delivery.
    const bool known = channel_of_sub_.count(m.subscription_id) > 0;
    if (direct && !known) return true;
    return known && !backend_.delivery_writes(m);
}

std::vector<channel::Action> UaChannel::on_direct(const store::MessageRecord& message) {
    Actions out;
    if (state_ != State::identified || window_.room() == 0) return out;
    auto ch = channel_of_sub_.find(message.subscription_id);
    if (ch == channel_of_sub_.end()) return out;
    send_notification(message, ch->second, false, out);
    return out;
}

void UaChannel::load_channels() {
    if (auto subs = backend_.subscriptions(uaid_))
        for (const auto& s : *subs) {
            if (s.channel_id.empty()) continue;  // an RFC 8030 subscription of this uaid
            channel_of_sub_[s.id] = s.channel_id;
            sub_of_channel_[s.channel_id] = s.id;
        }
}

bool UaChannel::admit(const store::MessageRecord& m) {
    if (channel_of_sub_.count(m.subscription_id)) return true;
    // Subscribed by another connection since this one's hello: reload once.
    load_channels();
    return channel_of_sub_.count(m.subscription_id) > 0;
}

void UaChannel::fill(Actions& out) {
    auto batch = window_.next(
        uaid_, [this](const store::MessageRecord& m) { return admit(m); }, window_.room());
    if (!batch) return fail(out, kInternalError, "store unavailable");
    for (const auto& m : *batch)
        send_notification(m, channel_of_sub_.at(m.subscription_id), true, out);
}

void UaChannel::send_notification(const store::MessageRecord& m, const std::string& channel_id,
                                  bool stored, Actions& out) {
    std::string version = base::base64url_encode(m.id);
    json::object n{
        {"messageType", "notification"}, {"channelID", channel_id}, {"version", version}};
    if (!m.body.empty()) {
        n["data"] = base::base64url_encode(m.body);
        json::object headers{{"encoding", m.content_encoding}};
        if (!m.encryption.empty()) headers["encryption"] = m.encryption;
        if (!m.crypto_key.empty()) headers["crypto_key"] = m.crypto_key;
        n["headers"] = std::move(headers);
    }
    window_.sent(m.id, stored);
    backend_.delivered(m);
    out.push_back(Send{json::serialize(n)});
}

}  // namespace pushsvc::webpush
