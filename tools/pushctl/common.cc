#include "tools/pushctl/common.h"

#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "tools/client/base64url.h"

namespace pushctl {
using namespace webpush_client;

std::string read_file(const std::string& path) {
    if (path == "-") {
        return std::string(std::istreambuf_iterator<char>(std::cin), {});
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) throw CommandError("cannot read " + path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string value_or_file(const std::string& arg) {
    if (!arg.empty() && arg[0] == '@') return read_file(arg.substr(1));
    return arg;
}

std::string json_or_file(const std::string& arg) {
    std::size_t first = arg.find_first_not_of(" \t\r\n");
    if (first != std::string::npos && arg[first] == '{') return arg;
    return read_file(arg);
}

P256Key load_private_key(const std::string& arg) {
    if (arg.find('/') == std::string::npos && arg.find('.') == std::string::npos) {
        if (auto bytes = base64url_decode(arg); bytes && bytes->size() == 32) {
            return check(P256Key::from_private_bytes(*bytes), "--vapid-key");
        }
    }
    return check(P256Key::from_pem(read_file(arg)), arg);
}

void NetOptions::add_to(CLI::App& app, bool with_version) {
    if (with_version) {
        auto* h1 = app.add_flag("--http1", http1, "Use HTTP/1.1 (default)");
        auto* h2 = app.add_flag("--http2", http2,
                                "Use HTTP/2 (ALPN h2 over TLS, prior knowledge over cleartext)");
        h1->excludes(h2);
    }
    app.add_flag("--insecure,-k", insecure, "Do not verify the server's TLS certificate");
    app.add_option("--cacert", cacert, "PEM file with the CA that signed the server certificate")
        ->check(CLI::ExistingFile);
    app.add_option("--timeout", timeout, "Seconds to wait for each network step")
        ->capture_default_str();
}

ClientOptions NetOptions::client_options() const {
    ClientOptions o;
    o.tls.insecure = insecure;
    o.tls.ca_file = cacert;
    o.timeout = std::chrono::milliseconds(static_cast<long long>(timeout * 1000));
    return o;
}

}  // namespace pushctl
