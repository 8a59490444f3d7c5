#include "pushsvc/http1/ws_session.h"

#include "pushsvc/http1/ws_session_impl.h"

namespace pushsvc::http1 {

namespace beast = boost::beast;

UpgradeHandler make_ws_upgrade_handler(WsOptions ws_options) {
    // One copy shared by every session (an idle connection should not carry its own).
    auto options = std::make_shared<const WsOptions>(std::move(ws_options));
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
