// Http1Client against a scripted loopback server (port 0, one thread): request shape,
// keep-alive reuse, reconnect after the server closed an idle connection, and timeouts.
#include "tools/client/http1_client.h"

#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <functional>
#include <future>
#include <thread>

namespace webpush_client {
namespace {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// Reads one request (headers + Content-Length body) from a blocking socket.
std::string read_request(tcp::socket& s) {
    std::string data;
    char buf[4096];
    boost::system::error_code ec;
    while (data.find("\r\n\r\n") == std::string::npos) {
        std::size_t n = s.read_some(asio::buffer(buf), ec);
        if (ec) return data;
        data.append(buf, n);
    }
    std::size_t header_end = data.find("\r\n\r\n") + 4;
    std::size_t length = 0;
    auto pos = data.find("Content-Length: ");
    if (pos != std::string::npos) length = std::stoul(data.substr(pos + 16));
    while (data.size() < header_end + length) {
        std::size_t n = s.read_some(asio::buffer(buf), ec);
        if (ec) break;
        data.append(buf, n);
    }
    return data;
}

struct ScriptedServer {
    asio::io_context ioc;
    tcp::acceptor acceptor{ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
    std::thread thread;
    std::vector<std::string> requests;
    int connections = 0;
    std::promise<void> first_closed;

    // Each connection: serve `per_connection` requests, then close.
    void start(int total_connections, int per_connection) {
        thread = std::thread([this, total_connections, per_connection] {
            for (int c = 0; c < total_connections; ++c) {
                tcp::socket s(ioc);
                acceptor.accept(s);
                ++connections;
                for (int r = 0; r < per_connection; ++r) {
                    std::string req = read_request(s);
                    if (req.empty()) break;
                    requests.push_back(req);
                    std::string res = "HTTP/1.1 201 Created\r\nLocation: /m/" +
                                      std::to_string(requests.size()) +
                                      "\r\nContent-Length: 2\r\n\r\nok";
                    asio::write(s, asio::buffer(res));
                }
                s.close();
                if (c == 0) first_closed.set_value();
            }
        });
    }
    std::string url(const std::string& path) const {
        return "http://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()) + path;
    }
    ~ScriptedServer() {
        if (thread.joinable()) thread.join();
    }
};

HttpRequest post(const std::string& url, std::string body) {
    HttpRequest r;
    r.method = "POST";
    r.url = url;
    r.headers.add("TTL", "60");
    r.body = std::move(body);
    return r;
}

TEST(Http1Client, SendsHeadersBodyAndReadsTheResponse) {
    ScriptedServer server;
    server.start(1, 1);
    Http1Client client;
    auto res = client.request(post(server.url("/push/a?x=1"), "hello"));
    ASSERT_TRUE(res) << res.error().message;
    EXPECT_EQ(res->status, 201);
    EXPECT_EQ(res->headers.get("location"), "/m/1");
    EXPECT_EQ(res->body, "ok");
    client.close();
    server.thread.join();
    const std::string& req = server.requests.at(0);
    EXPECT_EQ(req.rfind("POST /push/a?x=1 HTTP/1.1\r\n", 0), 0u) << req;
    EXPECT_NE(req.find("TTL: 60\r\n"), std::string::npos);
    EXPECT_NE(req.find("Host: 127.0.0.1:"), std::string::npos);
    EXPECT_NE(req.find("Content-Length: 5\r\n"), std::string::npos);
    EXPECT_EQ(req.substr(req.size() - 5), "hello");
}

TEST(Http1Client, ReusesAKeptAliveConnection) {
    ScriptedServer server;
    server.start(1, 2);
    Http1Client client;
    ASSERT_TRUE(client.request(post(server.url("/p"), "1")));
    ASSERT_TRUE(client.request(post(server.url("/p"), "2")));
    client.close();
    server.thread.join();
    EXPECT_EQ(server.connections, 1);
    EXPECT_EQ(server.requests.size(), 2u);
}

TEST(Http1Client, ReconnectsWhenTheServerClosedTheIdleConnection) {
    ScriptedServer server;
    server.start(2, 1);  // closes after every request
    Http1Client client;
    ASSERT_TRUE(client.request(post(server.url("/p"), "1")));
    server.first_closed.get_future().wait();  // the idle connection is now closed
    auto second = client.request(post(server.url("/p"), "2"));
    ASSERT_TRUE(second) << second.error().message;
    client.close();
    server.thread.join();
    EXPECT_EQ(server.connections, 2);
    EXPECT_EQ(server.requests.size(), 2u);  // the POST was not sent twice
}

TEST(Http1Client, TimesOutOnASilentServer) {
    asio::io_context ioc;
    tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    ClientOptions o;
    o.timeout = std::chrono::milliseconds(200);
    Http1Client client(o);
    auto res = client.request(
        post("http://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()) + "/", "x"));
    ASSERT_FALSE(res);
    EXPECT_EQ(res.error().code, Errc::timeout);
}

TEST(Http1Client, ConnectionRefusedIsAnIoError) {
    std::uint16_t port;
    {
        asio::io_context ioc;
        tcp::acceptor a(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
        port = a.local_endpoint().port();
    }
    Http1Client client;
    auto res = client.request(post("http://127.0.0.1:" + std::to_string(port) + "/", "x"));
    ASSERT_FALSE(res);
    EXPECT_EQ(res.error().code, Errc::io);
    EXPECT_NE(res.error().message.find("connect"), std::string::npos);
}

}  // namespace
}  // namespace webpush_client
