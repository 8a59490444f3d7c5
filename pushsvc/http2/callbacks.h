#pragma once
// The nghttp2 callback table for server sessions whose user_data is an http2::Engine.
// Every callback is a noexcept file-local function in callbacks.cc that forwards to the
// Engine's on_* method; none of them performs I/O or submits a write directly (the connection
// flushes after nghttp2_session_mem_recv returns), so nothing re-enters nghttp2.

#include <nghttp2/nghttp2.h>

#include <cstddef>
#include <cstdint>

namespace pushsvc::http2 {

// Shared, immutable callback table (nghttp2 copies it into each session). Any thread.
const nghttp2_session_callbacks* server_callbacks();

// The data-provider read callback for response bodies (source is unused; the body lives in
// the stream the id names).
ssize_t read_body_callback(nghttp2_session* session, std::int32_t stream_id, std::uint8_t* buf,
                           std::size_t length, std::uint32_t* data_flags,
                           nghttp2_data_source* source, void* user_data) noexcept;

}  // namespace pushsvc::http2
