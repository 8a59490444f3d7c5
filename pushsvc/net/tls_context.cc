#include "pushsvc/net/tls_context.h"

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

namespace pushsvc::net {

namespace {

// Wire format of the server's ALPN preference list: length-prefixed names.
constexpr unsigned char kAlpnServer[] = {2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

// TLS 1.2 suites: ECDHE + AEAD only. TLS 1.3 suites keep OpenSSL's defaults (all AEAD).
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                unsigned int inlen, void*) {
    unsigned char* selected = nullptr;
    // Server preference order: the first of ours the client also offers.
    if (SSL_select_next_proto(&selected, outlen, kAlpnServer, sizeof kAlpnServer, in, inlen) !=
        OPENSSL_NPN_NEGOTIATED) {
        return SSL_TLSEXT_ERR_NOACK;  // no overlap: continue without ALPN (HTTP/1.1)
    }
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
}

boost::system::error_code last_ssl_error() {
    const unsigned long err = ERR_get_error();
    ERR_clear_error();
    return {static_cast<int>(err ? err : 1), boost::asio::error::get_ssl_category()};
}

}  // namespace

result<std::shared_ptr<boost::asio::ssl::context>> make_server_tls_context(
    const std::string& cert_path, const std::string& key_path) {
    namespace ssl = boost::asio::ssl;
    std::shared_ptr<ssl::context> ctx;
    try {
        ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
    } catch (const boost::system::system_error& e) {
        return e.code();
    }
    SSL_CTX* native = ctx->native_handle();
    if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1) return last_ssl_error();
    SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                    SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_SSLv3 |
                                    SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1);
    if (SSL_CTX_set_cipher_list(native, kTls12Ciphers) != 1) return last_ssl_error();

    boost::system::error_code ec;
    ctx->use_certificate_chain_file(cert_path, ec);
    if (ec) return ec;
    ctx->use_private_key_file(key_path, ssl::context::pem, ec);
    if (ec) return ec;
    if (SSL_CTX_check_private_key(native) != 1) return last_ssl_error();

    SSL_CTX_set_alpn_select_cb(native, select_alpn, nullptr);
    return ctx;
}

std::string describe_certificate(boost::asio::ssl::context& ctx) {
    X509* cert = SSL_CTX_get0_certificate(ctx.native_handle());
    if (!cert) return "no certificate";
    std::string out;
    char name[256];
    if (X509_NAME_oneline(X509_get_subject_name(cert), name, sizeof name)) {
        out += "subject ";
        out += name;
    }
    if (BIO* bio = BIO_new(BIO_s_mem())) {
        if (ASN1_TIME_print(bio, X509_get0_notAfter(cert)) == 1) {
            char* data = nullptr;
            long n = BIO_get_mem_data(bio, &data);
            out += ", expires " + std::string(data, static_cast<std::size_t>(n));
        }
        BIO_free(bio);
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (X509_digest(cert, EVP_sha256(), md, &len) == 1) {
        static constexpr char kHex[] = "0123456789ABCDEF";
        out += ", sha256 ";
        for (unsigned int i = 0; i < len; ++i) {
            if (i) out += ':';
            out += kHex[md[i] >> 4];
            out += kHex[md[i] & 15];
        }
    }
    return out;
}

AppProtocol negotiated_protocol(SSL* ssl) noexcept {
    const unsigned char* data = nullptr;
    unsigned int len = 0;
    SSL_get0_alpn_selected(ssl, &data, &len);
    if (len == 2 && data[0] == 'h' && data[1] == '2') return AppProtocol::http2;
    return AppProtocol::http1;
}

}  // namespace pushsvc::net
