// PushService's push path (RFC 8030 §5): prepare_push() checks a push and builds its record,
// the store writes it (alone in push(), or with the other pushes of one HTTP/2 read in
// push_batch(): one WAL append for all), finish_push() answers it. The rest of the service is
// in push_service.cc.

#include <spdlog/spdlog.h>

#include "pushsvc/base/base64url.h"
#include "pushsvc/crypto/hash.h"
#include "pushsvc/obs/catalog.h"
#include "pushsvc/vapid/credentials.h"
#include "pushsvc/webpush/push_headers.h"
#include "pushsvc/webpush/push_service.h"

namespace pushsvc::webpush {

result<void> PushService::check_vapid(const PushRequest& req, const store::SubscriptionRecord& sub,
                                      const EndpointToken& token, std::string& verified_key) {
    bool strict = options_.profile == config::Profile::strict;
    bool restricted = !sub.app_server_key.empty();
    vapid::ParseOptions parse_opts{.allow_bearer = !strict, .allow_padded_key = !strict};
    auto parsed = vapid_headers_.parse(req.authorization, req.crypto_key, parse_opts);
    if (!parsed) {
        // Unrestricted subscriptions: credentials are optional; strict refuses bad ones
        // (R8292-2-f), compat ignores them and uses nothing from them (A-8, R8292-2-g).
        if (!restricted && (parsed.error() == errc::vapid_missing || !strict)) return {};
        return parsed.error();
    }
    const vapid::Credentials& creds = (*parsed)->creds;
    if (restricted) {
        // R8292-4.2-g: the key must be the one the subscription was restricted to; the token
        // carries its hash, so a forged endpoint for another key cannot pass either.
        if (!crypto::constant_time_equal(creds.key, sub.app_server_key) ||
            !crypto::constant_time_equal((*parsed)->key_hash, token.key_hash))
            return errc::vapid_key_mismatch;
    }
    vapid::VerifyOptions verify{audiences_, clock_.now_ms(), options_.vapid_skew_s};
    if (!vapid_cache_.accept(creds, (*parsed)->token_id, verify)) {
        if (!restricted && !strict) return {};
        return errc::vapid_invalid;
    }
    verified_key = creds.key;
    return {};
}

result<PreparedPush> PushService::prepare_push(PushRequest req, std::uint32_t* retry_after_s) {
    auto token = codec_.decode(req.token);
    if (!token) return token.error();
    auto target = store_.push_target(token->subscription_id);
    if (!target) return target.error();
    if (!*target) return errc::subscription_gone;  // removed or expired (R8030-7.3-d)
    const store::SubscriptionRecord& sub = *(*target)->subscription;
    // An owner unseen for push.ua_idle_days is gone for senders at once, before collection
    // removes it, so they stop pushing (R8030-7.3-d).
    if (const auto& owner = (*target)->owner;
        !owner || clock_.now_ms() - owner->last_seen_ms >= idle_limit_ms(owner->kind))
        return errc::subscription_gone;
    if (req.body.size() > options_.max_body_bytes) return errc::payload_too_large;

    std::string vapid_key;
    if (auto r = check_vapid(req, sub, *token, vapid_key); !r) return r.error();
    // Per sender (R8030-8.4-b), TTL 0 included, before anything is stored (so a refused push
    // leaves no receipt subscription). A restricted subscription's key is the sender's
    // identity; an unrestricted one takes any key, so there the address is.
    if (auto admit = rate_limits_.take_push(sub.app_server_key, req.client); !admit) {
        if (retry_after_s) *retry_after_s = admit.retry_after_s;
        return errc::rate_limited;
    }

    auto ttl = parse_ttl(req.ttl, options_.max_ttl);
    if (!ttl) return ttl.error();
    auto urgency = parse_urgency(req.urgency);
    if (!urgency) return urgency.error();
    auto topic = parse_topic(req.topic, options_.profile);
    if (!topic) return topic.error();
    auto enc = parse_encoding({req.content_encoding, req.encryption, req.crypto_key, req.body},
                              options_.profile);
    if (!enc) return enc.error();
    // R8292-3.2-b / RVAPID01-4-c: the sender's ECDH key must differ from its signing key.
    if (!vapid_key.empty() && !enc->sender_key.empty() && enc->sender_key == vapid_key)
        return errc::same_key;

    base::UnixMs now = clock_.now_ms();
    PreparedPush p;
    auto& msg = p.out.message;
    msg.id = new_message_id();
    msg.uaid = sub.uaid;
    msg.subscription_id = sub.id;
    msg.received_ms = now;
    msg.ttl_s = ttl->kept;
    msg.expires_ms = now + std::int64_t(ttl->kept) * 1000;
    msg.urgency = static_cast<std::uint8_t>(*urgency);
    msg.topic = std::move(*topic);
    if (enc->coding == Coding::aes128gcm) msg.content_encoding = "aes128gcm";
    if (enc->coding == Coding::aesgcm) msg.content_encoding = "aesgcm";
    msg.encryption = std::move(enc->encryption);
    msg.crypto_key = std::move(enc->crypto_key);
    msg.body = std::move(req.body);
    p.out.ttl_kept = ttl->kept;
    if (ttl->kept == 0) {
        // TTL 0: delivered now if the UA is online, otherwise it expires at once
        // (R8030-5.2-i). Either way the sender gets 201: it was accepted. It is never
        // stored, so nothing could confirm it: Prefer: respond-async is not honoured (a
        // preference, RFC 7240 §2) and no receipt subscription is made for it.
        p.store = false;
        return p;
    }
    // A receipt subscription the sender names must exist (R8030-5.1-h); a new one is made
    // only for a push that is accepted, so refused pushes leave nothing behind.
    if (parse_prefer(req.prefer).respond_async) {
        auto rid = named_receipt_subscription(req);
        if (!rid) return rid.error();
        if (rid->empty()) {
            *rid = new_id();
            p.new_receipts = receipt_queue(*rid);
            base::UnixMs created = clock_.now_ms();
            if (auto r = store_.put_user_agent(
                    {p.new_receipts, created, created, store::AgentKind::receipts});
                !r)
                return r.error();
        }
        msg.receipt_id = *rid;
        p.out.receipt_url =
            options_.origin + std::string(kReceiptPrefix) + base::base64url_encode(*rid);
    }
    return p;
}

result<PushOutcome> PushService::finish_push(PreparedPush& p, store::Store::Enqueued stored) {
    auto& msg = p.out.message;
    if (!p.store) {
        p.out.location = message_url(msg.id);
        if (notifier_) notifier_->notify(msg, false, p.out.route);
        return std::move(p.out);
    }
    if (!stored) {
        if (!p.new_receipts.empty() && !store_.delete_user_agent(p.new_receipts))
            spdlog::warn("receipt: could not remove the receipt subscription of a refused push");
        return stored.error();
    }
    // The id as the store left it (Store::enqueue may have extended it).
    p.out.location = message_url(msg.id);
    // A replaced message is gone with whatever it was owed: no receipt (R8030-5.4-d).
    if (notifier_) notifier_->notify(msg, true, p.out.route);
    return std::move(p.out);
}

result<PushOutcome> PushService::push(PushRequest req, std::uint32_t* retry_after_s) {
    auto p = prepare_push(std::move(req), retry_after_s);
    if (!p) return p.error();
    if (!p->store) return finish_push(*p, std::nullopt);
    // Per-UA queue cap (errc::too_many_requests): the sender backs off instead of the service
    // dropping anything. A Topic message may replace one instead of growing the queue, but
    // the cap counts it too.
    // With the route the store read in the same step (cluster mode: no second read to find the
    // node of the browser), and the subscription checked again where the read came from a cache.
    auto stored = store_.enqueue(p->out.message, options_.max_queued_per_ua, &p->out.route);
    return finish_push(*p, std::move(stored));
}

std::vector<result<PushOutcome>> PushService::push_batch(std::span<PushRequest> reqs,
                                                         std::span<std::uint32_t> retry_after_s) {
    std::vector<result<PreparedPush>> prepared;
    prepared.reserve(reqs.size());
    std::vector<store::MessageRecord*> to_store;
    std::vector<store::RouteSeen*> routes;
    for (std::size_t i = 0; i < reqs.size(); ++i) {
        prepared.push_back(prepare_push(std::move(reqs[i]),
                                        i < retry_after_s.size() ? &retry_after_s[i] : nullptr));
    }
    for (auto& p : prepared)
        if (p && p->store) {
            to_store.push_back(&p->out.message);
            routes.push_back(&p->out.route);
        }
    // One write for the batch; the cap and Topic replacement as push() by push, in order.
    std::vector<store::Store::Enqueued> stored;
    if (!to_store.empty())
        stored = store_.enqueue_batch(to_store, options_.max_queued_per_ua, routes);
    if (to_store.size() > 1) {
        obs::catalog().push_group_commits.inc();
        obs::catalog().push_grouped.inc(to_store.size());
    }
    std::vector<result<PushOutcome>> out;
    out.reserve(reqs.size());
    std::size_t next = 0;
    for (auto& p : prepared) {
        if (!p) {
            out.push_back(p.error());
        } else if (!p->store) {
            out.push_back(finish_push(*p, std::nullopt));
        } else {
            out.push_back(finish_push(*p, std::move(stored[next++])));
        }
    }
    return out;
}

}  // namespace pushsvc::webpush
