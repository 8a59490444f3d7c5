// pushctl vapid-keygen: a new P-256 application server key pair (RFC 8292 §3.2: the public key
// is the uncompressed point, base64url). The only command that prints a private key.

#include <sys/stat.h>

#include <boost/json.hpp>
#include <fstream>
#include <iostream>

#include "tools/client/base64url.h"
#include "tools/pushctl/common.h"

namespace pushctl {
using namespace webpush_client;

void setup_vapid_keygen(CLI::App& parent) {
    struct Opts {
        std::string pem;
        bool json = false;
    };
    auto opts = std::make_shared<Opts>();
    auto* app = parent.add_subcommand(
        "vapid-keygen", "Generate a VAPID key pair; print the public and private keys");
    app->add_option("--pem", opts->pem, "Also write the private key as PEM (mode 0600)");
    app->add_flag("--json", opts->json, "Print {\"publicKey\",\"privateKey\"} as JSON");
    app->callback([opts] {
        P256Key key = P256Key::generate();
        if (!opts->pem.empty()) {
            std::string pem = key.private_pem();
            std::ofstream out(opts->pem, std::ios::binary | std::ios::trunc);
            if (!out) throw CommandError("cannot write " + opts->pem);
            ::chmod(opts->pem.c_str(), 0600);
            out << pem;
            if (!out.flush()) throw CommandError("cannot write " + opts->pem);
        }
        std::string pub = key.public_base64url();
        std::string priv = base64url_encode(key.private_bytes());
        if (opts->json) {
            boost::json::object o{{"publicKey", pub}, {"privateKey", priv}};
            std::cout << boost::json::serialize(o) << "\n";
        } else {
            std::cout << "Public Key: " << pub << "\nPrivate Key: " << priv << "\n";
        }
    });
}

}  // namespace pushctl
