// Endpoint tokens (webpush::EndpointCodec): decode() of arbitrary path segments, and the
// round trip of arbitrary tokens. Two keys are configured, as during a key rotation, so that
// both the current and the older key's paths are reached. Invariants: a decoded token
// re-encodes to a token that decodes to the same content; key_hash is empty or 32 octets;
// encode() of any token decodes back to it; an old-key token decodes under the new list.
#include <string>

#include "fuzz/harness/fuzz_check.h"
#include "pushsvc/webpush/endpoint_codec.h"

namespace {

using namespace pushsvc;

const webpush::EndpointCodec& codec() {
    static const webpush::EndpointCodec c({std::string(32, 'n'), std::string(32, 'k')});
    return c;
}
const webpush::EndpointCodec& old_codec() {
    static const webpush::EndpointCodec c({std::string(32, 'k')});
    return c;
}

bool same(const webpush::EndpointToken& a, const webpush::EndpointToken& b) {
    return a.subscription_id == b.subscription_id && a.key_hash == b.key_hash;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text = fuzz::as_text(data, size);
    if (auto t = codec().decode(text)) {
        FUZZ_CHECK(t->key_hash.empty() || t->key_hash.size() == 32);
        auto again = codec().decode(codec().encode(*t));
        FUZZ_CHECK(again && same(*again, *t));
    } else {
        FUZZ_CHECK(t.error() == errc::token_invalid);
    }
    // The input as token content: id = the bytes, restricted when there are at least 32 more.
    // Ids are at most 64 octets here: the service mints 16-octet ids, and decode() refuses
    // texts over 256 characters, which ids over ~128 octets would need.
    if (size > 0 && size <= 64 + 32) {
        webpush::EndpointToken token;
        const std::size_t id_len = size > 32 ? size - 32 : size;
        token.subscription_id = std::string(text.substr(0, id_len));
        if (size > 32) token.key_hash = std::string(text.substr(id_len));
        const std::string minted = old_codec().encode(token);
        auto back = codec().decode(minted);
        FUZZ_CHECK(back && same(*back, token));
        FUZZ_CHECK(codec().encode(token) != minted);  // the first key encrypts
    }
    return 0;
}
