#include "pushsvc/testdouble/agents.h"

#include <boost/json.hpp>

#include "pushsvc/base/base64url.h"
#include "pushsvc/crypto/random.h"
#include "pushsvc/testdouble/decrypt.h"

namespace pushsvc::testdouble {

struct InServiceAgents::Agent {
    std::string id, uaid, subscription_id, endpoint;
    crypto::P256PrivateKey key = crypto::P256PrivateKey::generate();
    std::string auth = crypto::random_bytes(16);
    std::vector<RecordedMessage> messages;  // guarded by InServiceAgents::mu_
    std::shared_ptr<delivery::Target> target;
};

namespace {

constexpr const char* kUrgency[] = {"very-low", "low", "normal", "high"};

// The hub's handle on one in-service agent: every wake is served at once (the agent is always
// online); the owner outlives the hub entries (remove_all() detaches before destruction).
class AgentTarget final : public delivery::Target {
  public:
    AgentTarget(InServiceAgents& owner, std::string uaid) : owner_(owner), uaid_(std::move(uaid)) {}
    void wake(std::shared_ptr<const store::MessageRecord> direct) override {
        if (direct)
            owner_.deliver_direct(uaid_, *direct);
        else
            owner_.drain(uaid_);
    }
    void acked(std::string) override {}
    void removed(std::string) override {}
    void replaced() override {}

  private:
    InServiceAgents& owner_;
    std::string uaid_;
};

bool valid_utf8(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        auto c = static_cast<unsigned char>(s[i]);
        std::size_t n = c < 0x80           ? 0
                        : (c >> 5) == 0x6  ? 1
                        : (c >> 4) == 0xe  ? 2
                        : (c >> 3) == 0x1e ? 3
                                           : 9;
        if (n == 9 || i + n >= s.size()) return false;
        for (std::size_t k = 1; k <= n; ++k)
            if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return false;
        i += n + 1;
    }
    return true;
}

}  // namespace

InServiceAgents::InServiceAgents(webpush::PushService& service, store::Store& store,
                                 delivery::Hub& hub, const base::Clock& clock)
    : service_(service), store_(store), hub_(hub), clock_(clock) {}

InServiceAgents::~InServiceAgents() {
    std::lock_guard lock(mu_);
    for (auto& [uaid, a] : by_uaid_) hub_.detach(uaid, a->target.get());
}

result<InServiceAgents::Created> InServiceAgents::create(const std::string& app_server_key) {
    webpush::SubscribeRequest req;
    if (!app_server_key.empty()) {
        req.content_type = "application/webpush-options+json";
        req.body = boost::json::serialize(boost::json::object{{"vapid", app_server_key}});
    }
    auto sub = service_.subscribe(req);
    if (!sub) return sub.error();
    auto agent = std::make_shared<Agent>();
    agent->id = base::base64url_encode(sub->record.id);
    agent->uaid = sub->record.uaid;
    agent->subscription_id = sub->record.id;
    agent->endpoint = sub->endpoint;
    agent->target = std::make_shared<AgentTarget>(*this, agent->uaid);
    {
        std::lock_guard lock(mu_);
        by_id_[agent->id] = agent;
        by_uaid_[agent->uaid] = agent;
    }
    hub_.attach(agent->uaid, agent->target);
    Created out;
    out.id = agent->id;
    out.browser = boost::json::object{
        {"endpoint", agent->endpoint},
        {"expirationTime", nullptr},
        {"keys", boost::json::object{{"p256dh", base::base64url_encode(agent->key.public_raw())},
                                     {"auth", base::base64url_encode(agent->auth)}}}};
    return out;
}

std::shared_ptr<InServiceAgents::Agent> InServiceAgents::find(const std::string& id) const {
    std::lock_guard lock(mu_);
    auto it = by_id_.find(id);
    return it == by_id_.end() ? nullptr : it->second;
}

std::shared_ptr<InServiceAgents::Agent> InServiceAgents::find_by_uaid(
    const std::string& uaid) const {
    std::lock_guard lock(mu_);
    auto it = by_uaid_.find(uaid);
    return it == by_uaid_.end() ? nullptr : it->second;
}

bool InServiceAgents::exists(const std::string& id) const { return find(id) != nullptr; }

std::optional<std::string> InServiceAgents::endpoint(const std::string& id) const {
    auto agent = find(id);
    if (!agent) return std::nullopt;
    return agent->endpoint;
}

void InServiceAgents::record(Agent& agent, const store::MessageRecord& m) {
    RecordedMessage r;
    r.received_ms = clock_.now_ms();
    r.message_id = base::base64url_encode(m.id);
    r.ttl = m.ttl_s;
    r.urgency = m.urgency < 4 ? kUrgency[m.urgency] : "normal";
    r.topic = m.topic;
    r.content_encoding = m.content_encoding;
    r.encryption = m.encryption;
    r.crypto_key = m.crypto_key;
    r.body = m.body;
    auto d = decrypt(agent.key, agent.auth, m.body,
                     EncodingFields{m.content_encoding, m.encryption, m.crypto_key});
    r.plaintext = std::move(d.plaintext);
    r.decrypt_error = std::move(d.error);
    std::lock_guard lock(mu_);
    agent.messages.push_back(std::move(r));
}

void InServiceAgents::deliver_direct(const std::string& uaid, const store::MessageRecord& m) {
    if (auto agent = find_by_uaid(uaid)) record(*agent, m);
}

void InServiceAgents::drain(const std::string& uaid) {
    auto agent = find_by_uaid(uaid);
    if (!agent) return;
    for (;;) {
        auto batch = store_.pending(uaid, clock_.now_ms(), 0, 100);
        if (!batch || batch->empty()) return;
        for (const auto& m : *batch) {
            record(*agent, m);
            // The ack (RFC 8030 §6.2): exactly this message is deleted, receipts go out.
            if (!service_.delete_message(base::base64url_encode(m.id))) store_.delete_message(m.id);
        }
    }
}

std::optional<std::vector<RecordedMessage>> InServiceAgents::messages(const std::string& id) {
    auto agent = find(id);
    if (!agent) return std::nullopt;
    drain(agent->uaid);
    std::lock_guard lock(mu_);
    return agent->messages;
}

bool InServiceAgents::clear_messages(const std::string& id) {
    auto agent = find(id);
    if (!agent) return false;
    std::lock_guard lock(mu_);
    agent->messages.clear();
    return true;
}

bool InServiceAgents::expire(const std::string& id) {
    auto agent = find(id);
    if (!agent) return false;
    (void)service_.delete_subscription(base::base64url_encode(agent->subscription_id));
    return true;
}

bool InServiceAgents::remove(const std::string& id) {
    auto agent = find(id);
    if (!agent) return false;
    expire(id);
    hub_.detach(agent->uaid, agent->target.get());
    std::lock_guard lock(mu_);
    by_id_.erase(agent->id);
    by_uaid_.erase(agent->uaid);
    return true;
}

void InServiceAgents::remove_all() {
    for (const auto& id : ids()) remove(id);
}

std::vector<std::string> InServiceAgents::ids() const {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const auto& [id, a] : by_id_) out.push_back(id);
    return out;
}

boost::json::object to_json(const RecordedMessage& m) {
    boost::json::object headers;
    if (!m.content_encoding.empty()) headers["content-encoding"] = m.content_encoding;
    if (!m.encryption.empty()) headers["encryption"] = m.encryption;
    if (!m.crypto_key.empty()) headers["crypto-key"] = m.crypto_key;
    boost::json::object o{
        {"id", m.message_id},
        {"received_ms", m.received_ms},
        {"ttl", m.ttl},
        {"urgency", m.urgency},
        {"topic", m.topic.empty() ? boost::json::value(nullptr) : boost::json::value(m.topic)},
        {"headers", std::move(headers)},
        {"body_base64url", base::base64url_encode(m.body)},
        {"body_length", m.body.size()}};
    if (m.plaintext) {
        o["plaintext_base64url"] = base::base64url_encode(*m.plaintext);
        // JSON strings are UTF-8: other plaintext is only in plaintext_base64url.
        o["plaintext"] = valid_utf8(*m.plaintext) ? boost::json::value(*m.plaintext)
                                                  : boost::json::value(nullptr);
    } else {
        o["plaintext"] = nullptr;
        o["decrypt_error"] = m.decrypt_error;
    }
    return o;
}

}  // namespace pushsvc::testdouble
