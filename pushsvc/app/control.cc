#include "pushsvc/app/control.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <filesystem>
#include <istream>
#include <stdexcept>
#include <system_error>

namespace pushsvc::app {

namespace asio = boost::asio;
using local = asio::local::stream_protocol;

namespace {

// One client: read a line (at most 256 bytes), hand it to the handler, write its reply, close.
class ControlConnection : public std::enable_shared_from_this<ControlConnection> {
  public:
    ControlConnection(local::socket socket, ControlSocket::Handler handler)
        : socket_(std::move(socket)), handler_(std::move(handler)), buffer_(256) {}

    void start() {
        asio::async_read_until(
            socket_, buffer_, '\n',
            [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                if (ec) return;  // closed early or a line over 256 bytes: nothing to answer
                std::istream in(&self->buffer_);
                std::string command;
                std::getline(in, command);
                auto ex = self->socket_.get_executor();
                self->handler_(command, [self, ex](std::string reply) {
                    asio::post(ex, [self, reply = std::move(reply) + "\n"]() mutable {
                        self->reply_ = std::move(reply);
                        asio::async_write(self->socket_, asio::buffer(self->reply_),
                                          [self](boost::system::error_code, std::size_t) {});
                    });
                });
            });
    }

  private:
    local::socket socket_;
    ControlSocket::Handler handler_;
    asio::streambuf buffer_;
    std::string reply_;
};

}  // namespace

struct ControlSocket::State : std::enable_shared_from_this<ControlSocket::State> {
    State(asio::io_context& ioc, Handler h)
        : acceptor(asio::make_strand(ioc)), handler(std::move(h)) {}
    local::acceptor acceptor;
    Handler handler;

    void accept() {
        acceptor.async_accept(
            [self = shared_from_this()](boost::system::error_code ec, local::socket socket) {
                if (ec == asio::error::operation_aborted || !self->acceptor.is_open()) return;
                if (!ec)
                    std::make_shared<ControlConnection>(std::move(socket), self->handler)->start();
                self->accept();
            });
    }
};

ControlSocket::ControlSocket(asio::io_context& ioc, std::string path, Handler handler)
    : state_(std::make_shared<State>(ioc, std::move(handler))), path_(std::move(path)) {
    std::error_code ignored;
    std::filesystem::remove(path_, ignored);  // left by a process that was killed
    boost::system::error_code ec;
    local::endpoint ep(path_);
    state_->acceptor.open(ep.protocol(), ec);
    // Created with no permission for group and others before anyone can connect.
    const mode_t old = ::umask(0077);
    if (!ec) state_->acceptor.bind(ep, ec);
    ::umask(old);
    if (!ec) state_->acceptor.listen(4, ec);
    if (ec) throw std::runtime_error("control socket " + path_ + ": " + ec.message());
    asio::post(state_->acceptor.get_executor(), [s = state_] { s->accept(); });
}

ControlSocket::~ControlSocket() { close(); }

void ControlSocket::close() {
    asio::post(state_->acceptor.get_executor(), [s = state_] {
        boost::system::error_code ignored;
        s->acceptor.close(ignored);
    });
    std::error_code ignored;
    std::filesystem::remove(path_, ignored);
}

std::string control_request(const std::string& path, const std::string& command,
                            std::chrono::seconds timeout) {
    asio::io_context ioc;
    local::socket socket(ioc);
    boost::system::error_code ec;
    socket.connect(local::endpoint(path), ec);
    if (ec) throw std::system_error(ec.value(), std::generic_category(), "control socket " + path);
    const std::string line = command + "\n";
    asio::write(socket, asio::buffer(line), ec);
    if (ec) throw std::system_error(ec.value(), std::generic_category(), "control socket " + path);
    asio::streambuf buffer(64 * 1024);
    bool timed_out = false;
    asio::steady_timer timer(ioc, timeout);
    timer.async_wait([&](boost::system::error_code e) {
        if (e) return;
        timed_out = true;
        socket.close();
    });
    boost::system::error_code read_ec;
    asio::async_read_until(socket, buffer, '\n', [&](boost::system::error_code e, std::size_t) {
        read_ec = e;
        timer.cancel();
    });
    ioc.run();
    if (timed_out) throw std::runtime_error("no answer on " + path + " within the timeout");
    if (read_ec) throw std::runtime_error("control socket " + path + ": " + read_ec.message());
    std::istream in(&buffer);
    std::string reply;
    std::getline(in, reply);
    return reply;
}

}  // namespace pushsvc::app
