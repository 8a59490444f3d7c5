// pushctl decrypt: decrypt a captured push body (RFC 8291 aes128gcm or legacy aesgcm) with the
// user agent's keys; writes the plaintext bytes to stdout.

#include <iostream>

#include "tools/client/base64url.h"
#include "tools/client/ua_state.h"
#include "tools/pushctl/common.h"

namespace pushctl {
using namespace webpush_client;

namespace {

struct DecryptOpts {
    std::string body;
    std::string state;
    std::string channel;
    std::string private_key;
    std::string auth;
    std::string encoding = "aes128gcm";
    std::string encryption;
    std::string crypto_key;
};

void run_decrypt(const DecryptOpts& o) {
    Bytes body;
    if (!o.body.empty() && o.body[0] == '@') {
        body = to_bytes(read_file(o.body.substr(1)));
    } else {
        body = check(base64url_decode(o.body), "--body");
    }
    std::optional<UserAgentKeys> keys;
    if (!o.state.empty()) {
        UaState state = check(UaState::load(o.state));
        const UaChannel* channel = nullptr;
        if (!o.channel.empty()) {
            channel = state.find(o.channel);
            for (const auto& c : state.channels) {
                if (!channel && c.endpoint == o.channel) channel = &c;
            }
        } else if (state.channels.size() == 1) {
            channel = &state.channels.front();
        }
        if (!channel) {
            throw CommandError(o.channel.empty()
                                   ? "state has several channels: pick one with --channel"
                                   : "no channel " + o.channel + " in " + o.state);
        }
        keys = channel->keys;
    } else if (!o.private_key.empty() && !o.auth.empty()) {
        keys = check(UserAgentKeys::from_base64url(o.private_key, o.auth), "keys");
    } else {
        throw CommandError("give --state FILE, or --private-key and --auth");
    }
    Bytes plain = check(keys->decrypt(body, {o.encoding, o.encryption, o.crypto_key}), "decrypt");
    std::cout.write(reinterpret_cast<const char*>(plain.data()),
                    static_cast<std::streamsize>(plain.size()));
    std::cout.flush();
}

}  // namespace

void setup_decrypt(CLI::App& parent) {
    auto o = std::make_shared<DecryptOpts>();
    auto* app = parent.add_subcommand("decrypt",
                                      "Decrypt a captured push message body; print the plaintext");
    app->add_option("--body,-b", o->body, "Body as base64url, or @file for raw bytes")->required();
    auto* st = app->add_option("--state", o->state,
                               "UA state file (from pushctl ua --state or subscribe --state)");
    app->add_option("--channel", o->channel, "channelID or endpoint in the state file");
    app->add_option("--private-key", o->private_key, "UA private key (base64url, 32 octets)")
        ->excludes(st);
    app->add_option("--auth", o->auth, "Auth secret (base64url, 16 octets)")->excludes(st);
    app->add_option("--encoding,-e", o->encoding, "Content-Encoding of the message")
        ->check(CLI::IsMember({"aes128gcm", "aesgcm"}))
        ->capture_default_str();
    app->add_option("--encryption", o->encryption, "Encryption header (aesgcm)");
    app->add_option("--crypto-key", o->crypto_key, "Crypto-Key header (aesgcm)");
    app->callback([o] { run_decrypt(*o); });
}

}  // namespace pushctl
