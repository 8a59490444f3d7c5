#include "pushsvc/cluster/wire.h"

#include <boost/json.hpp>

#include <cctype>
#include <charconv>

#include "pushsvc/base/base64url.h"
#include "pushsvc/crypto/hash.h"
#include "pushsvc/store/record_codec.h"

namespace pushsvc::cluster {
namespace {

namespace json = boost::json;

constexpr std::string_view kinds[] = {"wake", "direct", "acked", "removed"};

std::optional<std::string> b64_field(const json::object& o, std::string_view key) {
    auto* v = o.if_contains(key);
    if (v == nullptr || !v->is_string()) return std::nullopt;
    return base::base64url_decode(v->as_string());
}

std::string string_field(const json::object& o, std::string_view key) {
    auto* v = o.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

// What the MAC covers: every part a replay or an alteration would change.
std::string signed_text(std::int64_t t, std::string_view method, std::string_view path,
                        std::string_view body) {
    std::string s = "pushsvc-cluster-v1\n";
    s += std::to_string(t);
    s += '\n';
    s += method;
    s += '\n';
    s += path;
    s += '\n';
    s += body;
    return s;
}

}  // namespace

std::string encode(const Notification& n) {
    json::array events;
    for (const auto& e : n.events) {
        json::object o;
        o["kind"] = kinds[static_cast<std::size_t>(e.kind)];
        o["uaid"] = base::base64url_encode(e.uaid);
        if (e.kind == Event::Kind::acked || e.kind == Event::Kind::removed)
            o["id"] = base::base64url_encode(e.id);
        if ((e.kind == Event::Kind::direct || e.kind == Event::Kind::wake) && e.message) {
            o["message"] = base::base64url_encode(store::codec::encode(*e.message));
            if (e.kind == Event::Kind::wake) o["prev"] = e.message->prev_seq;  // not in the codec
        }
        events.push_back(std::move(o));
    }
    json::object root{{"to", n.to}, {"from", n.from}, {"events", std::move(events)}};
    return json::serialize(root);
}

std::optional<Notification> decode(std::string_view body) {
    boost::system::error_code ec;
    json::value v = json::parse(body, ec);
    if (ec || !v.is_object()) return std::nullopt;
    const auto& root = v.as_object();
    auto* events = root.if_contains("events");
    if (events == nullptr || !events->is_array()) return std::nullopt;
    Notification n;
    n.to = string_field(root, "to");
    n.from = string_field(root, "from");
    for (const auto& item : events->as_array()) {
        if (!item.is_object()) return std::nullopt;
        const auto& o = item.as_object();
        Event e;
        const std::string kind = string_field(o, "kind");
        bool known = false;
        for (std::size_t i = 0; i < std::size(kinds); ++i)
            if (kind == kinds[i]) e.kind = static_cast<Event::Kind>(i), known = true;
        auto uaid = b64_field(o, "uaid");
        if (!known || !uaid || uaid->empty()) return std::nullopt;
        e.uaid = std::move(*uaid);
        if (e.kind == Event::Kind::acked || e.kind == Event::Kind::removed) {
            auto id = b64_field(o, "id");
            if (!id) return std::nullopt;
            e.id = std::move(*id);
        }
        // A wake may carry its message (with its prev_seq); a direct event always does.
        const bool carried = e.kind == Event::Kind::wake && o.contains("message");
        if (e.kind == Event::Kind::direct || carried) {
            auto raw = b64_field(o, "message");
            auto m = std::make_shared<store::MessageRecord>();
            if (!raw || !store::codec::decode(*raw, *m) || m->uaid != e.uaid) return std::nullopt;
            if (carried) {
                auto* prev = o.if_contains("prev");
                if (prev == nullptr || !prev->is_number()) return std::nullopt;
                boost::system::error_code ec;
                m->prev_seq = prev->to_number<std::uint64_t>(ec);
                if (ec) return std::nullopt;
            }
            e.message = std::move(m);
        }
        n.events.push_back(std::move(e));
    }
    return n;
}

std::string encode_absent(const std::vector<std::size_t>& absent) {
    json::array a;
    for (auto i : absent) a.push_back(i);
    return json::serialize(json::object{{"absent", std::move(a)}});
}

std::optional<std::vector<std::size_t>> decode_absent(std::string_view body, std::size_t events) {
    boost::system::error_code ec;
    json::value v = json::parse(body, ec);
    if (ec || !v.is_object()) return std::nullopt;
    auto* a = v.as_object().if_contains("absent");
    if (a == nullptr || !a->is_array()) return std::nullopt;
    std::vector<std::size_t> out;
    for (const auto& i : a->as_array()) {
        if (!i.is_int64() || i.as_int64() < 0 || std::size_t(i.as_int64()) >= events)
            return std::nullopt;
        out.push_back(std::size_t(i.as_int64()));
    }
    return out;
}

std::string sign(std::string_view secret, std::int64_t now_ms, std::string_view method,
                 std::string_view path, std::string_view body) {
    return std::string(kAuthScheme) + " t=" + std::to_string(now_ms) + ", mac=" +
           base::base64url_encode(
               crypto::hmac_sha256(secret, signed_text(now_ms, method, path, body)));
}

AuthResult verify(std::string_view secret, const std::optional<std::string>& authorization,
                  std::int64_t now_ms, std::string_view method, std::string_view path,
                  std::string_view body) {
    if (!authorization) return AuthResult::missing;
    std::string_view v = *authorization;
    // The scheme is case-insensitive (RFC 9110 §11.1).
    if (v.size() <= kAuthScheme.size() || v[kAuthScheme.size()] != ' ') return AuthResult::missing;
    for (std::size_t i = 0; i < kAuthScheme.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(v[i])) !=
            std::tolower(static_cast<unsigned char>(kAuthScheme[i])))
            return AuthResult::missing;
    v.remove_prefix(kAuthScheme.size() + 1);
    // "t=<digits>, mac=<b64url>", exactly as sign() writes it.
    if (v.substr(0, 2) != "t=") return AuthResult::invalid;
    v.remove_prefix(2);
    std::int64_t t = 0;
    auto [end, err] = std::from_chars(v.data(), v.data() + v.size(), t);
    if (err != std::errc{} || end == v.data()) return AuthResult::invalid;
    v.remove_prefix(std::size_t(end - v.data()));
    if (v.substr(0, 6) != ", mac=") return AuthResult::invalid;
    v.remove_prefix(6);
    auto mac = base::base64url_decode(v);
    if (!mac) return AuthResult::invalid;
    const std::string expected = crypto::hmac_sha256(secret, signed_text(t, method, path, body));
    // The MAC first, in constant time: the answer's timing tells nothing about the secret.
    if (!crypto::constant_time_equal(*mac, expected)) return AuthResult::invalid;
    if (t < now_ms - kReplayWindowMs || t > now_ms + kReplayWindowMs) return AuthResult::invalid;
    return AuthResult::ok;
}

}  // namespace pushsvc::cluster
