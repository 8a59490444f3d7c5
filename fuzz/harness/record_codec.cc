// Stored-record decoding (store::codec), what RocksStore reads back from disk: a corrupt or
// foreign value must be refused, never read out of bounds. Every input is tried as each
// record type. Invariant: whatever decodes re-encodes (in the current version) to bytes that
// decode to the same record; the key-fragment readers never advance past their input.
#include <string>

#include "fuzz/harness/fuzz_check.h"
#include "pushsvc/store/record_codec.h"

namespace {

using namespace pushsvc::store;

bool operator_eq(const UserAgentRecord& a, const UserAgentRecord& b) {
    return a.uaid == b.uaid && a.created_ms == b.created_ms && a.last_seen_ms == b.last_seen_ms &&
           a.kind == b.kind;
}
bool operator_eq(const SubscriptionRecord& a, const SubscriptionRecord& b) {
    return a.id == b.id && a.uaid == b.uaid && a.channel_id == b.channel_id &&
           a.app_server_key == b.app_server_key && a.created_ms == b.created_ms;
}
bool operator_eq(const MessageRecord& a, const MessageRecord& b) {
    return a.id == b.id && a.uaid == b.uaid && a.subscription_id == b.subscription_id &&
           a.seq == b.seq && a.received_ms == b.received_ms && a.expires_ms == b.expires_ms &&
           a.ttl_s == b.ttl_s && a.urgency == b.urgency && a.topic == b.topic &&
           a.content_encoding == b.content_encoding && a.encryption == b.encryption &&
           a.crypto_key == b.crypto_key && a.receipt_id == b.receipt_id &&
           a.receipt_status == b.receipt_status && a.delivered == b.delivered && a.body == b.body;
}

template <class Record>
void round_trip(std::string_view in) {
    Record r;
    if (!codec::decode(in, r)) return;
    const std::string bytes = codec::encode(r);
    Record again;
    FUZZ_CHECK(codec::decode(bytes, again));
    FUZZ_CHECK(operator_eq(r, again));
    FUZZ_CHECK(codec::encode(again) == bytes);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in = pushsvc::fuzz::as_text(data, size);
    round_trip<UserAgentRecord>(in);
    round_trip<SubscriptionRecord>(in);
    round_trip<MessageRecord>(in);

    // Key fragments: a sequence of lp() fields, each re-encoding to the bytes it came from.
    std::string_view rest = in;
    for (int i = 0; i < 64 && !rest.empty(); ++i) {
        const std::string_view before = rest;
        std::string_view field;
        if (!codec::read_lp(rest, field)) break;
        FUZZ_CHECK(rest.size() < before.size() && field.size() <= before.size());
        std::string enc;
        codec::append_lp(enc, field);
        FUZZ_CHECK(before.substr(0, before.size() - rest.size()) == enc ||
                   before.size() - rest.size() > enc.size());  // a longer (non-minimal) length
    }
    std::string_view be = in;
    std::uint64_t v = 0;
    if (codec::read_be64(be, v)) {
        std::string enc;
        codec::append_be64(enc, v);
        FUZZ_CHECK(enc == in.substr(0, 8) && be.size() == in.size() - 8);
    }
    return 0;
}
