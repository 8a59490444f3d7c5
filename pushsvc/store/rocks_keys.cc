#include "pushsvc/store/rocks_keys.h"

#include "pushsvc/store/record_codec.h"

namespace pushsvc::store::keys {

std::string tagged(char tag, std::string_view tail) {
    std::string k(1, tag);
    k.append(tail);
    return k;
}

std::string lp_key(char tag, std::string_view id) {
    std::string k(1, tag);
    codec::append_lp(k, id);
    return k;
}

std::string queue_key(std::string_view uaid, std::uint64_t seq) {
    std::string k;
    k.reserve(1 + 5 + uaid.size() + 8);  // sized once: one allocation per key
    k.push_back(kQueueTag);
    codec::append_lp(k, uaid);
    codec::append_be64(k, seq);
    return k;
}

std::string topic_key(std::string_view sub_id, std::string_view topic) {
    std::string k = lp_key(kTopicTag, sub_id);
    k.append(topic);
    return k;
}

std::uint64_t bias(base::UnixMs t) {
    return static_cast<std::uint64_t>(t) ^ (std::uint64_t{1} << 63);
}

std::string expiry_key(base::UnixMs expires_ms, std::uint64_t seq) {
    std::string k;
    k.reserve(17);
    k.push_back(kExpiryTag);
    codec::append_be64(k, bias(expires_ms));
    codec::append_be64(k, seq);
    return k;
}

std::string id_locator(base::UnixMs expires_ms, std::uint64_t seq) {
    std::string k;
    codec::append_be64(k, bias(expires_ms));
    codec::append_be64(k, seq);
    return k;
}

bool same_id(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    unsigned char diff = 0;
    for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
    return diff == 0;
}

bool uaid_of_queue_key(std::string_view qkey, std::string_view& uaid) {
    if (qkey.empty() || qkey.front() != kQueueTag) return false;
    qkey.remove_prefix(1);
    return codec::read_lp(qkey, uaid) && qkey.size() == 8;
}

std::string expiry_value(std::string_view qkey, base::UnixMs received_ms, std::string_view id,
                         std::string_view subscription_id, std::string_view topic,
                         std::string_view receipt_id) {
    std::string v;
    v.reserve(qkey.size() + 8 + 4 * 5 + id.size() + subscription_id.size() + topic.size() +
              receipt_id.size());
    v.append(qkey);
    codec::append_be64(v, static_cast<std::uint64_t>(received_ms));
    for (auto field : {id, subscription_id, topic, receipt_id}) codec::append_lp(v, field);
    return v;
}

bool split_expiry_value(std::string_view value, ExpiryEntry& out) {
    // The queue key is 'q' lp(uaid) be64(seq): its own length tells where it ends.
    std::string_view rest = value.substr(value.empty() ? 0 : 1);
    std::string_view uaid;
    if (value.empty() || value.front() != kQueueTag || !codec::read_lp(rest, uaid) ||
        rest.size() < 8)
        return false;
    rest.remove_prefix(8);
    out = ExpiryEntry{};
    out.qkey = value.substr(0, value.size() - rest.size());
    if (rest.empty()) return true;  // format 1
    std::uint64_t r = 0;
    if (!codec::read_be64(rest, r)) return false;
    out.received = static_cast<base::UnixMs>(r);
    return codec::read_lp(rest, out.id) && codec::read_lp(rest, out.subscription_id) &&
           codec::read_lp(rest, out.topic) && codec::read_lp(rest, out.receipt_id) && rest.empty();
}

std::string seen_prefix(std::uint8_t kind) {
    std::string k(1, kSeenTag);
    k.push_back(static_cast<char>(kind));
    return k;
}

std::string seen_key(std::uint8_t kind, base::UnixMs last_seen_ms, std::string_view uaid) {
    std::string k = seen_prefix(kind);
    codec::append_be64(k, bias(last_seen_ms));
    k.append(uaid);
    return k;
}

std::string successor(std::string s) {
    while (!s.empty()) {
        auto b = static_cast<unsigned char>(s.back());
        if (b != 0xff) {
            s.back() = static_cast<char>(b + 1);
            return s;
        }
        s.pop_back();
    }
    return s;
}

}  // namespace pushsvc::store::keys
