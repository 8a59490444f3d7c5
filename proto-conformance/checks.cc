#include "proto-conformance/checks.h"

#include <chrono>
#include <thread>

#include "tools/client/vapid.h"

namespace conformance {

std::string status_text(const Answer& a) {
    if (!a.response) return "transport error (" + a.error + ")";
    std::string s = std::to_string(a.status());
    return s;
}

bool Checker::expect(const Answer& a, std::initializer_list<int> ok, const std::string& label) {
    for (int s : ok)
        if (a.status() == s) return true;
    std::string want;
    for (int s : ok) want += (want.empty() ? "" : "/") + std::to_string(s);
    failures_.push_back(label + ": expected " + want + ", got " + status_text(a));
    return false;
}

void Checker::check(bool condition, const std::string& failure) {
    if (!condition) failures_.push_back(failure);
}

Outcome Checker::outcome(std::string pass_note) const {
    if (failures_.empty()) return pass(std::move(pass_note));
    std::string why;
    for (const auto& f : failures_) why += (why.empty() ? "" : "; ") + f;
    return fail(why);
}

std::initializer_list<int> gone_statuses(const Context& ctx) {
    static constexpr std::initializer_list<int> strict = {404};
    static constexpr std::initializer_list<int> compat = {404, 410};
    return ctx.strict() ? strict : compat;
}

std::int64_t now_s() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string make_jwt(const P256Key& key, const std::string& header_json,
                     const std::string& claims_json) {
    std::string input = base64url_encode(header_json) + "." + base64url_encode(claims_json);
    auto sig = key.sign_es256(to_bytes(input));
    return input + "." + (sig ? base64url_encode(*sig) : std::string());
}

std::string default_header_json() { return R"({"typ":"JWT","alg":"ES256"})"; }

std::string claims_json(const std::string& aud, std::int64_t exp, const std::string& sub) {
    std::string out = R"({"aud":")" + aud + R"(","exp":)" + std::to_string(exp);
    if (!sub.empty()) out += R"(,"sub":")" + sub + "\"";
    return out + "}";
}

std::string audience(const std::string& push_url) {
    return or_else(vapid_audience(push_url, true), "");
}

std::string vapid_auth(const std::string& jwt, const P256Key& key) {
    return "vapid t=" + jwt + ", k=" + key.public_base64url();
}

PushSpec sized_push(std::size_t size, const std::string& payload) {
    PushSpec spec;
    spec.payload = payload;
    // aes128gcm: 86-octet header (keyid 65) + plaintext + delimiter + padding + 16-octet tag.
    std::size_t fixed = 86 + payload.size() + 1 + 16;
    spec.options.encryption.padding = size > fixed ? size - fixed : 0;
    return spec;
}

Result<UaSubscription> new_sub(Context& ctx, const std::optional<P256Key>& key) {
    return ctx.subscription(key);
}

void let_time_pass(Context& ctx, std::int64_t ms) {
    if (ctx.control() && ctx.control()->can("clock") && ctx.control()->advance_clock(ms)) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

bool has_header(const Delivered& d, std::string_view name) { return d.headers.has(name); }

}  // namespace conformance
