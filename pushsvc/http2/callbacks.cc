#include "pushsvc/http2/callbacks.h"

#include <cstdlib>

#include "pushsvc/http2/engine.h"

namespace pushsvc::http2 {

namespace {

Engine& engine(void* user_data) noexcept { return *static_cast<Engine*>(user_data); }

int on_begin_headers(nghttp2_session*, const nghttp2_frame* frame, void* user_data) noexcept {
    return engine(user_data).on_begin_headers(frame);
}

int on_header(nghttp2_session*, const nghttp2_frame* frame, const std::uint8_t* name,
              std::size_t namelen, const std::uint8_t* value, std::size_t valuelen,
              std::uint8_t /*flags*/, void* user_data) noexcept {
    return engine(user_data).on_header(frame, name, namelen, value, valuelen);
}

int on_frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* user_data) noexcept {
    return engine(user_data).on_frame_recv(frame);
}

int on_frame_send(nghttp2_session*, const nghttp2_frame* frame, void* user_data) noexcept {
    return engine(user_data).on_frame_send(frame);
}

int on_frame_not_send(nghttp2_session*, const nghttp2_frame* frame, int error_code,
                      void* user_data) noexcept {
    return engine(user_data).on_frame_not_send(frame, error_code);
}

int on_data_chunk_recv(nghttp2_session*, std::uint8_t /*flags*/, std::int32_t stream_id,
                       const std::uint8_t* data, std::size_t len, void* user_data) noexcept {
    return engine(user_data).on_data_chunk(stream_id, data, len);
}

int on_stream_close(nghttp2_session*, std::int32_t stream_id, std::uint32_t error_code,
                    void* user_data) noexcept {
    return engine(user_data).on_stream_close(stream_id, error_code);
}

struct CallbackTable {
    nghttp2_session_callbacks* cbs = nullptr;

    CallbackTable() {
        if (nghttp2_session_callbacks_new(&cbs) != 0) std::abort();  // allocation at startup
        nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, on_begin_headers);
        nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
        nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame_recv);
        nghttp2_session_callbacks_set_on_frame_send_callback(cbs, on_frame_send);
        nghttp2_session_callbacks_set_on_frame_not_send_callback(cbs, on_frame_not_send);
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data_chunk_recv);
        nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_stream_close);
    }
    ~CallbackTable() { nghttp2_session_callbacks_del(cbs); }
};

}  // namespace

const nghttp2_session_callbacks* server_callbacks() {
    static const CallbackTable table;
    return table.cbs;
}

ssize_t read_body_callback(nghttp2_session*, std::int32_t stream_id, std::uint8_t* buf,
                           std::size_t length, std::uint32_t* data_flags, nghttp2_data_source*,
                           void* user_data) noexcept {
    return engine(user_data).read_body(stream_id, buf, length, data_flags);
}

}  // namespace pushsvc::http2
