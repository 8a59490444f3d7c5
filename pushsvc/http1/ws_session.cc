#include "pushsvc/http1/ws_session.h"

#include "pushsvc/http1/ws_session_impl.h"

namespace pushsvc::http1 {

namespace beast = boost::beast;

UpgradeHandler make_ws_upgrade_handler(WsOptions options) {
    UpgradeHandler handler;
    handler.plain = [options](BeastRequest& req, beast::tcp_stream& stream,
                              beast::flat_buffer& buffer, const net::SessionContext& ctx) {
        return detail::take_over(options, req, stream, buffer, ctx);
    };
    handler.tls = [options](BeastRequest& req, TlsStream& stream, beast::flat_buffer& buffer,
                            const net::SessionContext& ctx) {
        return detail::take_over(options, req, stream, buffer, ctx);
    };
    return handler;
}

}  // namespace pushsvc::http1
