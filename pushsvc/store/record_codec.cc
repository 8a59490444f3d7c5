#include "pushsvc/store/record_codec.h"

namespace pushsvc::store::codec {
namespace {

void append_varint(std::string& out, std::uint64_t v) {
    while (v >= 0x80) {
        out.push_back(static_cast<char>((v & 0x7f) | 0x80));
        v >>= 7;
    }
    out.push_back(static_cast<char>(v));
}

bool read_varint(std::string_view& in, std::uint64_t& out) {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (in.empty()) return false;
        const auto b = static_cast<std::uint8_t>(in.front());
        in.remove_prefix(1);
        v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
        if ((b & 0x80) == 0) {
            out = v;
            return true;
        }
    }
    return false;
}

// Sequential field reader: every get() fails (and stays failed) on malformed input.
class Reader {
  public:
    explicit Reader(std::string_view in) : in_(in) {}

    Reader& str(std::string& s) {
        std::string_view v;
        if (ok_ && read_lp(in_, v)) {
            s.assign(v);
        } else {
            ok_ = false;
        }
        return *this;
    }
    Reader& u64(std::uint64_t& v) {
        ok_ = ok_ && read_be64(in_, v);
        return *this;
    }
    Reader& i64(std::int64_t& v) {
        std::uint64_t u = 0;
        u64(u);
        v = static_cast<std::int64_t>(u);
        return *this;
    }
    template <class Small>
    Reader& small(Small& v) {
        std::uint64_t u = 0;
        ok_ = ok_ && read_varint(in_, u) && u <= static_cast<std::uint64_t>(Small(~Small(0)));
        v = static_cast<Small>(u);
        return *this;
    }
    // Accepts versions first..last; returns the one read (0 on failure).
    std::uint8_t version(std::uint8_t first = kRecordVersion, std::uint8_t last = kRecordVersion) {
        const auto v = in_.empty() ? 0 : static_cast<std::uint8_t>(in_.front());
        ok_ = ok_ && v >= first && v <= last;
        if (!ok_) return 0;
        in_.remove_prefix(1);
        return v;
    }
    bool done() const { return ok_ && in_.empty(); }

  private:
    std::string_view in_;
    bool ok_ = true;
};

void append_i64(std::string& out, std::int64_t v) {
    append_be64(out, static_cast<std::uint64_t>(v));
}

}  // namespace

void append_lp(std::string& out, std::string_view bytes) {
    append_varint(out, bytes.size());
    out.append(bytes);
}

void append_be64(std::string& out, std::uint64_t v) {
    // One append of eight octets, not eight push_backs (each with its own capacity check):
    // every push's keys and record take about a dozen of these.
    char be[8];
    for (int i = 0; i < 8; ++i) be[i] = static_cast<char>((v >> (56 - 8 * i)) & 0xff);
    out.append(be, sizeof be);
}

bool read_lp(std::string_view& in, std::string_view& out) {
    std::uint64_t n = 0;
    if (!read_varint(in, n) || n > in.size()) return false;
    out = in.substr(0, n);
    in.remove_prefix(n);
    return true;
}

bool read_be64(std::string_view& in, std::uint64_t& out) {
    if (in.size() < 8) return false;
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) {
        v = (v << 8) | static_cast<std::uint8_t>(in[i]);
    }
    in.remove_prefix(8);
    out = v;
    return true;
}

std::string encode(const UserAgentRecord& r) {
    std::string out(1, static_cast<char>(kUserAgentVersion));
    append_lp(out, r.uaid);
    append_i64(out, r.created_ms);
    append_i64(out, r.last_seen_ms);
    append_varint(out, static_cast<std::uint8_t>(r.kind));
    return out;
}

std::string encode(const SubscriptionRecord& r) {
    std::string out(1, static_cast<char>(kSubscriptionVersion));
    append_lp(out, r.id);
    append_lp(out, r.uaid);
    append_lp(out, r.channel_id);
    append_lp(out, r.app_server_key);
    append_i64(out, r.created_ms);
    return out;
}

namespace {

std::string encode_message(const MessageRecord& r, std::uint8_t version, std::string_view body) {
    std::string out(1, static_cast<char>(version));
    out.reserve(64 + r.id.size() + r.uaid.size() + r.subscription_id.size() + r.topic.size() +
                r.encryption.size() + r.crypto_key.size() + r.receipt_id.size() + body.size());
    append_lp(out, r.id);
    append_lp(out, r.uaid);
    append_lp(out, r.subscription_id);
    append_be64(out, r.seq);
    append_i64(out, r.received_ms);
    append_i64(out, r.expires_ms);
    append_varint(out, r.ttl_s);
    append_varint(out, r.urgency);
    append_lp(out, r.topic);
    append_lp(out, r.content_encoding);
    append_lp(out, r.encryption);
    append_lp(out, r.crypto_key);
    append_lp(out, r.receipt_id);
    append_varint(out, r.receipt_status);
    append_lp(out, body);
    append_varint(out, r.delivered ? 1 : 0);
    return out;
}

}  // namespace

std::string encode(const MessageRecord& r) { return encode_message(r, kMessageVersion, r.body); }

std::string encode_with_body_ref(const MessageRecord& r, std::string_view body_ref) {
    return encode_message(r, kMessageBodyRefVersion, body_ref);
}

bool decode(std::string_view in, UserAgentRecord& r) {
    Reader rd(in);
    const std::uint8_t version = rd.version(kRecordVersion, kUserAgentVersion);
    if (version == 0) return false;
    rd.str(r.uaid).i64(r.created_ms).i64(r.last_seen_ms);
    std::uint8_t kind = 0;
    if (version >= 2) rd.small(kind);
    if (kind > static_cast<std::uint8_t>(AgentKind::receipts)) return false;
    r.kind = static_cast<AgentKind>(kind);
    return rd.done();
}

bool decode(std::string_view in, SubscriptionRecord& r) {
    Reader rd(in);
    const std::uint8_t version = rd.version(kRecordVersion, kSubscriptionVersion);
    if (version == 0) return false;
    rd.str(r.id).str(r.uaid).str(r.channel_id).str(r.app_server_key);
    if (version == 1) {
        std::string set_id;  // version 1 stored it; nothing ever read it
        rd.str(set_id);
    }
    rd.i64(r.created_ms);
    return rd.done();
}

bool decode(std::string_view in, MessageRecord& r, std::string* body_ref) {
    Reader rd(in);
    const std::uint8_t version = rd.version(kRecordVersion, kMessageBodyRefVersion);
    if (version == 0) return false;
    rd.str(r.id).str(r.uaid).str(r.subscription_id).u64(r.seq);
    rd.i64(r.received_ms).i64(r.expires_ms).small(r.ttl_s).small(r.urgency);
    rd.str(r.topic).str(r.content_encoding).str(r.encryption).str(r.crypto_key);
    rd.str(r.receipt_id).small(r.receipt_status).str(r.body);
    r.delivered = false;
    if (version >= 2) {
        std::uint8_t delivered = 0;
        rd.small(delivered);
        r.delivered = delivered != 0;
    }
    if (body_ref != nullptr) body_ref->clear();
    if (version == kMessageBodyRefVersion) {
        if (r.body.size() != kBodyRefSize) return false;
        if (body_ref != nullptr) body_ref->swap(r.body);
        r.body.clear();
    }
    return rd.done();
}

}  // namespace pushsvc::store::codec
