#include "tools/client/ua_state.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace webpush_client {
namespace json = boost::json;

const UaChannel* UaState::find(std::string_view channel_id) const {
    for (const auto& c : channels) {
        if (c.channel_id == channel_id) return &c;
    }
    return nullptr;
}

std::string UaState::to_json() const {
    json::object o;
    if (!uaid.empty()) o["uaid"] = uaid;
    if (!server.empty()) o["server"] = server;
    json::array arr;
    for (const auto& c : channels) {
        json::object ch;
        if (!c.channel_id.empty()) ch["channelID"] = c.channel_id;
        ch["endpoint"] = c.endpoint;
        if (!c.subscription_url.empty()) ch["subscription_url"] = c.subscription_url;
        if (!c.app_server_key.empty()) ch["app_server_key"] = c.app_server_key;
        json::object keys;
        c.keys.to_json(keys);
        ch["keys"] = std::move(keys);
        arr.push_back(std::move(ch));
    }
    o["channels"] = std::move(arr);
    return json::serialize(o);
}

Result<UaState> UaState::from_json(std::string_view text) {
    boost::system::error_code ec;
    json::value v = json::parse(text, ec);
    if (ec || !v.is_object()) return make_error(Errc::invalid_json, "state is not a JSON object");
    const json::object& o = v.as_object();
    UaState s;
    auto str = [](const json::object& obj, const char* key) {
        const json::value* x = obj.if_contains(key);
        return x && x->is_string() ? std::string(x->as_string()) : std::string();
    };
    s.uaid = str(o, "uaid");
    s.server = str(o, "server");
    if (const json::value* chans = o.if_contains("channels"); chans && chans->is_array()) {
        for (const auto& item : chans->as_array()) {
            if (!item.is_object()) return make_error(Errc::invalid_json, "bad channel entry");
            const json::object& ch = item.as_object();
            const json::value* keys = ch.if_contains("keys");
            if (!keys || !keys->is_object()) {
                return make_error(Errc::invalid_json, "channel entry has no keys");
            }
            auto k = UserAgentKeys::from_json(keys->as_object());
            if (!k) return k.error();
            s.channels.push_back(UaChannel{str(ch, "channelID"), str(ch, "endpoint"),
                                           str(ch, "subscription_url"), str(ch, "app_server_key"),
                                           *k});
        }
    }
    return s;
}

Result<UaState> UaState::load(const std::string& path) {
    std::ifstream in(path);
    if (!in) return make_error(Errc::io, "cannot read " + path);
    std::stringstream ss;
    ss << in.rdbuf();
    auto s = from_json(ss.str());
    if (!s) return make_error(s.error().code, path + ": " + s.error().message);
    return s;
}

Result<void> UaState::save(const std::string& path) const {
    std::string tmp = path + ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) return make_error(Errc::io, "cannot write " + tmp);
    std::string text = to_json() + "\n";
    bool ok = ::write(fd, text.data(), text.size()) == ssize_t(text.size());
    ok = ::close(fd) == 0 && ok;
    if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
        return make_error(Errc::io, "cannot write " + path);
    }
    return {};
}

}  // namespace webpush_client
