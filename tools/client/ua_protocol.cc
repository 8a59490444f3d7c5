#include "tools/client/ua_protocol.h"

#include <boost/json.hpp>
#include <cstdio>

#include "tools/client/crypto.h"
#include "tools/client/header_params.h"

namespace webpush_client {
namespace json = boost::json;

namespace {

json::object to_object(const std::map<std::string, std::string>& m) {
    json::object o;
    for (const auto& [k, v] : m) o[k] = v;
    return o;
}

std::map<std::string, std::string> to_map(const json::value* v) {
    std::map<std::string, std::string> out;
    if (!v || !v->is_object()) return out;
    for (const auto& [k, val] : v->as_object()) {
        out[std::string(k)] = val.is_string() ? std::string(val.as_string()) : json::serialize(val);
    }
    return out;
}

std::string get_string(const json::object& o, std::string_view key) {
    const json::value* v = o.if_contains(key);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

int get_int(const json::object& o, std::string_view key) {
    const json::value* v = o.if_contains(key);
    if (v && v->is_number()) {
        boost::system::error_code ec;
        auto n = v->to_number<int>(ec);
        return ec ? 0 : n;
    }
    return 0;
}

}  // namespace

std::string make_hello(const std::optional<std::string>& uaid,
                       const std::map<std::string, std::string>& broadcasts) {
    json::object o;
    o["messageType"] = "hello";
    o["broadcasts"] = to_object(broadcasts);
    o["use_webpush"] = true;
    if (uaid && !uaid->empty()) o["uaid"] = *uaid;
    return json::serialize(o);
}

std::string make_register(const std::string& channel_id,
                          const std::optional<Bytes>& application_server_key, bool pad_key) {
    json::object o;
    o["channelID"] = channel_id;
    o["messageType"] = "register";
    if (application_server_key) {
        std::string key = base64url_encode(*application_server_key);
        if (pad_key) key.append((4 - key.size() % 4) % 4, '=');
        o["key"] = key;
    }
    return json::serialize(o);
}

std::string make_unregister(const std::string& channel_id, int code) {
    json::object o;
    o["channelID"] = channel_id;
    o["messageType"] = "unregister";
    o["code"] = code;
    return json::serialize(o);
}

std::string make_ack(const std::vector<AckUpdate>& updates) {
    json::array arr;
    for (const auto& u : updates) {
        arr.push_back(
            json::object{{"channelID", u.channel_id}, {"version", u.version}, {"code", u.code}});
    }
    json::object o;
    o["messageType"] = "ack";
    o["updates"] = std::move(arr);
    return json::serialize(o);
}

std::string make_nack(const std::string& version, int code) {
    json::object o;
    o["messageType"] = "nack";
    o["version"] = version;
    o["code"] = code;
    return json::serialize(o);
}

std::string make_ping() { return "{}"; }

std::string make_broadcast_subscribe(const std::map<std::string, std::string>& broadcasts) {
    json::object o;
    o["messageType"] = "broadcast_subscribe";
    o["broadcasts"] = to_object(broadcasts);
    return json::serialize(o);
}

std::string make_channel_id() {
    Bytes b = random_bytes(16);
    b[6] = std::uint8_t((b[6] & 0x0f) | 0x40);  // version 4
    b[8] = std::uint8_t((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
    char out[37];
    std::snprintf(out, sizeof out,
                  "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
                  b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
                  b[14], b[15]);
    return out;
}

Result<Bytes> Notification::body() const {
    if (!data) return Bytes{};
    auto bytes = base64url_decode(*data);
    if (!bytes) return make_error(Errc::protocol, "notification data is not base64url");
    return bytes;
}

Result<ServerMessage> parse_server_message(std::string_view text) {
    boost::system::error_code ec;
    json::value v = json::parse(text, ec);
    if (ec || !v.is_object()) {
        return make_error(Errc::invalid_json, "frame is not a JSON object");
    }
    const json::object& o = v.as_object();
    const json::value* mt = o.if_contains("messageType");
    if (!mt || !mt->is_string()) return ServerMessage{Pong{}};
    std::string type(mt->as_string());
    if (iequals(type, "ping")) return ServerMessage{Pong{}};
    if (iequals(type, "hello")) {
        HelloReply r;
        r.uaid = get_string(o, "uaid");
        r.status = get_int(o, "status");
        const json::value* uw = o.if_contains("use_webpush");
        r.use_webpush = uw && uw->is_bool() && uw->as_bool();
        r.broadcasts = to_map(o.if_contains("broadcasts"));
        return ServerMessage{r};
    }
    if (iequals(type, "register")) {
        return ServerMessage{RegisterReply{get_string(o, "channelID"), get_int(o, "status"),
                                           get_string(o, "pushEndpoint")}};
    }
    if (iequals(type, "unregister")) {
        return ServerMessage{UnregisterReply{get_string(o, "channelID"), get_int(o, "status")}};
    }
    if (iequals(type, "notification")) {
        Notification n;
        n.channel_id = get_string(o, "channelID");
        const json::value* version = o.if_contains("version");
        if (version && version->is_string()) {
            n.version = std::string(version->as_string());
        } else if (version) {
            n.version = json::serialize(*version);
        }
        if (const json::value* d = o.if_contains("data"); d && d->is_string()) {
            n.data = std::string(d->as_string());
        }
        if (const json::value* h = o.if_contains("headers"); h && h->is_object()) {
            n.has_headers = true;
            n.encoding = get_string(h->as_object(), "encoding");
            n.encryption = get_string(h->as_object(), "encryption");
            n.crypto_key = get_string(h->as_object(), "crypto_key");
            n.encryption_key = get_string(h->as_object(), "encryption_key");
        }
        return ServerMessage{n};
    }
    if (iequals(type, "broadcast")) {
        return ServerMessage{Broadcast{to_map(o.if_contains("broadcasts"))}};
    }
    return ServerMessage{UnknownMessage{type, std::string(text)}};
}

Result<void> validate_hello(const HelloReply& reply) {
    if (reply.uaid.empty() || reply.uaid.size() > 128) {
        return make_error(Errc::protocol,
                          "hello reply has no valid uaid (non-empty string, at most 128 chars)");
    }
    if (!reply.use_webpush) {
        return make_error(Errc::protocol, "hello reply lacks use_webpush: true");
    }
    return {};
}

}  // namespace webpush_client
