// TLS listener: protocol versions, ALPN selection (h2 before http/1.1) and both protocols over
// TLS, with an OpenSSL client written here and curl/nghttp as independent clients.
#include "pushsvc/net/server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

#include "tests/unit/net/test_support.h"

namespace pushsvc::test {
namespace {

// A blocking TLS client with a 5 s socket timeout.
class TlsClient {
  public:
    TlsClient(unsigned short port, int version, const std::string& alpn_wire) {
        ctx_ = SSL_CTX_new(TLS_client_method());
        SSL_CTX_set_security_level(ctx_, 0);  // let the client offer TLS 1.1 at all
        SSL_CTX_set_cipher_list(ctx_, "DEFAULT:@SECLEVEL=0");
        SSL_CTX_set_min_proto_version(ctx_, version);
        SSL_CTX_set_max_proto_version(ctx_, version);
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        timeval tv{5, 0};
        setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return;
        ssl_ = SSL_new(ctx_);
        SSL_set_fd(ssl_, fd_);
        if (!alpn_wire.empty()) {
            SSL_set_alpn_protos(ssl_, reinterpret_cast<const unsigned char*>(alpn_wire.data()),
                                static_cast<unsigned>(alpn_wire.size()));
        }
        handshake_ok_ = SSL_connect(ssl_) == 1;
    }
    ~TlsClient() {
        if (ssl_) SSL_free(ssl_);
        if (fd_ >= 0) ::close(fd_);
        SSL_CTX_free(ctx_);
    }
    bool handshake_ok() const { return handshake_ok_; }
    std::string alpn() const {
        const unsigned char* p = nullptr;
        unsigned len = 0;
        SSL_get0_alpn_selected(ssl_, &p, &len);
        return std::string(reinterpret_cast<const char*>(p), len);
    }
    std::string version() const { return SSL_get_version(ssl_); }
    std::string exchange(const std::string& request) {
        SSL_write(ssl_, request.data(), static_cast<int>(request.size()));
        std::string out;
        char buf[4096];
        while (parse_responses(out).empty()) {
            const int n = SSL_read(ssl_, buf, sizeof buf);
            if (n <= 0) break;
            out.append(buf, static_cast<std::size_t>(n));
        }
        return out;
    }

  private:
    SSL_CTX* ctx_ = nullptr;
    SSL* ssl_ = nullptr;
    int fd_ = -1;
    bool handshake_ok_ = false;
};

const std::string kAlpnH2AndHttp11("\x02h2\x08http/1.1", 12);
const std::string kAlpnHttp11("\x08http/1.1", 9);

TEST(TlsServer, RefusesTls11) {
    TestServer ts(TestServer::default_config(), true);
    TlsClient old(ts.tls_port(), TLS1_1_VERSION, "");
    EXPECT_FALSE(old.handshake_ok());
}

TEST(TlsServer, AcceptsTls12AndTls13) {
    TestServer ts(TestServer::default_config(), true);
    TlsClient v12(ts.tls_port(), TLS1_2_VERSION, "");
    EXPECT_TRUE(v12.handshake_ok());
    TlsClient v13(ts.tls_port(), TLS1_3_VERSION, "");
    EXPECT_TRUE(v13.handshake_ok());
}

TEST(TlsServer, SelectsH2WhenTheClientOffersBoth) {
    TestServer ts(TestServer::default_config(), true);
    TlsClient c(ts.tls_port(), TLS1_3_VERSION, kAlpnH2AndHttp11);
    ASSERT_TRUE(c.handshake_ok());
    EXPECT_EQ(c.alpn(), "h2");
}

TEST(TlsServer, ServesHttp11WhenAlpnChoosesIt) {
    TestServer ts(TestServer::default_config(), true);
    TlsClient c(ts.tls_port(), TLS1_2_VERSION, kAlpnHttp11);
    ASSERT_TRUE(c.handshake_ok());
    EXPECT_EQ(c.alpn(), "http/1.1");
    auto rs = parse_responses(c.exchange("GET /t HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    ASSERT_EQ(rs.size(), 1u);
    EXPECT_NE(rs[0].body.find("protocol=http1\n"), std::string::npos);
}

TEST(TlsServer, ServesHttp11WithoutAlpn) {
    TestServer ts(TestServer::default_config(), true);
    TlsClient c(ts.tls_port(), TLS1_3_VERSION, "");
    ASSERT_TRUE(c.handshake_ok());
    EXPECT_EQ(c.alpn(), "");
    auto rs = parse_responses(c.exchange("GET /t HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    ASSERT_EQ(rs.size(), 1u);
    EXPECT_NE(rs[0].body.find("protocol=http1\n"), std::string::npos);
}

TEST(TlsServer, RefusesANeverEndingChunkExtensionWithoutWaitingForTheReadTimeout) {
    // The attack run held 3 GB with four such connections over TLS (issue 14).
    TestServer ts(TestServer::default_config(), true);  // read timeout 5 s
    TlsClient c(ts.tls_port(), TLS1_3_VERSION, kAlpnHttp11);
    ASSERT_TRUE(c.handshake_ok());
    const auto started = std::chrono::steady_clock::now();
    const std::string head =
        "POST /p HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n";
    auto rs = parse_responses(c.exchange(head + "1;e=" + std::string(64 * 1024, 'e')));
    ASSERT_EQ(rs.size(), 1u);
    EXPECT_EQ(rs[0].status, 400);
    EXPECT_NE(rs[0].body.find("\"reason\":\"chunk_metadata\""), std::string::npos);
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(4));
    EXPECT_EQ(ts.handler().calls(), 0);
}

TEST(TlsServer, ServesCurlOverH2) {
    TestServer ts(TestServer::default_config(), true);
    auto r = run_command("curl -sS -k --http2 --data-binary tls-body https://127.0.0.1:" +
                         std::to_string(ts.tls_port()) + "/s");
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.output.find("protocol=http2\n"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("body=tls-body"), std::string::npos);
}

TEST(TlsServer, ServesNghttpOverH2) {
    TestServer ts(TestServer::default_config(), true);
    auto r = run_command("nghttp https://127.0.0.1:" + std::to_string(ts.tls_port()) + "/n");
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.output.find("protocol=http2\n"), std::string::npos) << r.output;
}

TEST(TlsServer, ServesCurlOverHttp11) {
    TestServer ts(TestServer::default_config(), true);
    auto r = run_command(
        "curl -sS -k --http1.1 https://127.0.0.1:" + std::to_string(ts.tls_port()) + "/s");
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.output.find("protocol=http1\n"), std::string::npos) << r.output;
}

TEST(TlsServer, FailsToStartWithAMissingCertificate) {
    boost::asio::io_context ioc;
    auto cfg = TestServer::default_config();
    cfg.server.tls_listen = "127.0.0.1:0";
    cfg.server.tls_cert = "/nonexistent/cert.pem";
    cfg.server.tls_key = "/nonexistent/key.pem";
    net::Server s(ioc, cfg);
    EXPECT_FALSE(s.start());
}

}  // namespace
}  // namespace pushsvc::test
