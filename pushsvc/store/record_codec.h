#pragma once
// Compact binary encoding of store records and key fragments, used by RocksStore only.
//
// Record format: one version byte (kRecordVersion), then the fields in declaration order;
// strings as LEB128 length + bytes, integers as fixed 8-byte big-endian (seq, times) or LEB128
// (ttl, urgency). Decoding rejects unknown versions, truncation and trailing bytes.
// Pure functions; thread-safe.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "pushsvc/store/records.h"

namespace pushsvc::store::codec {

// Each decoder also reads every earlier version of its record.
inline constexpr std::uint8_t kRecordVersion = 1;  // the first version of every record
// Message records are version 2 (MessageRecord::delivered appended); version 1 messages,
// written before it existed, still decode (as not delivered). Version 3 is version 2 with a
// reference in place of the body, which is held elsewhere (RocksStore's body log).
inline constexpr std::uint8_t kMessageVersion = 2;
inline constexpr std::uint8_t kMessageBodyRefVersion = 3;
inline constexpr std::size_t kBodyRefSize = 24;  // what a version 3 record holds instead
// User agents are version 2 (UserAgentRecord::kind appended; version 1: a user agent).
inline constexpr std::uint8_t kUserAgentVersion = 2;
// Subscriptions are version 2 (set_id, which nothing read, dropped; version 1 still decodes).
inline constexpr std::uint8_t kSubscriptionVersion = 2;

// Key fragments. append_lp() is prefix-free: two different strings never produce encodings
// where one is a prefix of the other, so `lp(a) + b` keys cannot collide or overlap.
void append_lp(std::string& out, std::string_view bytes);
void append_be64(std::string& out, std::uint64_t v);
// Reads an lp() field from the front of `in` and advances it; false if malformed.
bool read_lp(std::string_view& in, std::string_view& out);
// Reads 8 big-endian bytes from the front of `in` and advances it; false if too short.
bool read_be64(std::string_view& in, std::uint64_t& out);

std::string encode(const UserAgentRecord& r);
std::string encode(const SubscriptionRecord& r);
std::string encode(const MessageRecord& r);
// Version 3: `body_ref` stands in the record for r.body (which is not written).
std::string encode_with_body_ref(const MessageRecord& r, std::string_view body_ref);

bool decode(std::string_view in, UserAgentRecord& r);
bool decode(std::string_view in, SubscriptionRecord& r);
// A version 3 record leaves r.body empty and, with `body_ref`, puts its reference there (""
// for a record that holds its body).
bool decode(std::string_view in, MessageRecord& r, std::string* body_ref = nullptr);

}  // namespace pushsvc::store::codec
