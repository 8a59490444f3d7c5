// pushsvc with store.backend = "postgres" against a real PostgreSQL 15 the test starts
// (tests/support/pg_instance.sh): WebSocket delivery through the database, messages that
// outlive a restart of pushsvc, a database outage answered 503 + Retry-After (and recovered
// from without restarting pushsvc), and startup refused with one line when the database is
// wrong or unreachable.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "pushsvc/store/pg_conn.h"
#include "tests/integration/pushsvc_process.h"
#include "tests/support/pg_instance.h"
#include "tools/client/http1_client.h"
#include "tools/client/push_request.h"
#include "tools/client/user_agent.h"

namespace pushsvc::testing {
namespace {

namespace wc = webpush_client;
using std::chrono::milliseconds;

class PostgresStore : public ::testing::Test {
  protected:
    static void SetUpTestSuite() { pg_ = new PgInstance(); }
    static void TearDownTestSuite() {
        delete pg_;
        pg_ = nullptr;
    }

    void SetUp() override {
        // A schema of its own per test: an empty database that pushsvc sets up itself.
        static int counter = 0;
        const std::string schema = "it_" + std::to_string(++counter);
        std::string error;
        auto admin = store::pg::PgConn::connect(pg_->dsn(), 10'000, 10'000, error);
        ASSERT_TRUE(admin) << error;
        store::pg::PgError err;
        ASSERT_TRUE(admin->exec_script("CREATE SCHEMA " + schema, err)) << err.message;
        dsn_ = pg_->dsn() + " options='-c search_path=" + schema + "'";
        ProcessOptions po;
        po.env["PUSHSVC__STORE__BACKEND"] = "postgres";
        po.env["PUSHSVC__STORE__POSTGRES__DSN"] = dsn_;
        po.env["PUSHSVC__STORE__POSTGRES__CONNECT_TIMEOUT_MS"] = "2000";
        server_ = std::make_unique<PushsvcProcess>(po);
        server_->start();
        opts_.timeout = std::chrono::seconds(10);
    }

    std::string ws_url() const { return "ws://" + server_->cleartext() + "/"; }

    // Sends an encrypted push to the channel over the cleartext listener (the endpoint names
    // the origin of the process that made it, whose port may be gone after a restart).
    wc::HttpResponse send(const wc::UaChannel& ch, const std::string& text) {
        wc::PushOptions po;
        po.ttl = 600;
        auto req = wc::build_push_request(ch.subscription(), wc::to_bytes(text), po);
        EXPECT_TRUE(req);
        req->url = server_->on_cleartext(req->url);
        wc::Http1Client client(opts_);
        auto r = client.request(*req);
        EXPECT_TRUE(r) << (r ? "" : r.error().message);
        return r ? *r : wc::HttpResponse{};
    }

    std::string receive_text(wc::UserAgent& ua) {
        auto m = ua.receive(milliseconds(5000), true);
        if (!m) {
            ADD_FAILURE() << "no notification: " << m.error().message;
            return "";
        }
        return m->plaintext ? wc::to_string(*m->plaintext) : "";
    }

    static PgInstance* pg_;
    std::string dsn_;
    std::unique_ptr<PushsvcProcess> server_;
    wc::ClientOptions opts_;
};
PgInstance* PostgresStore::pg_ = nullptr;

TEST_F(PostgresStore, DeliversOverWebSocketAndKeepsQueuedMessagesAcrossARestart) {
    wc::UaState state;
    {
        wc::UserAgent ua({}, opts_);
        ASSERT_TRUE(ua.connect(ws_url()));
        auto ch = ua.subscribe();
        ASSERT_TRUE(ch) << ch.error().message;
        EXPECT_EQ(send(*ch, "online").status, 201);
        EXPECT_EQ(receive_text(ua), "online");
        state = ua.state();
    }
    // Offline: stored in PostgreSQL only.
    EXPECT_EQ(send(state.channels[0], "queued-1").status, 201);
    EXPECT_EQ(send(state.channels[0], "queued-2").status, 201);
    EXPECT_EQ(server_->stop(), 0);
    server_->start();  // a new process: nothing of the old one's memory remains

    wc::UserAgent ua(state, opts_);
    ASSERT_TRUE(ua.connect(ws_url()));
    EXPECT_FALSE(ua.subscriptions_dropped());  // the user agent and its channel are stored
    EXPECT_EQ(ua.state().uaid, state.uaid);
    EXPECT_EQ(receive_text(ua), "queued-1");
    EXPECT_EQ(receive_text(ua), "queued-2");
}

TEST_F(PostgresStore, DatabaseOutageIs503WithRetryAfterAndRecoversWithoutRestart) {
    wc::UaState state;
    {
        wc::UserAgent ua({}, opts_);
        ASSERT_TRUE(ua.connect(ws_url()));
        ASSERT_TRUE(ua.subscribe());
        state = ua.state();
    }
    ASSERT_EQ(send(state.channels[0], "before").status, 201);

    pg_->stop();
    for (int i = 0; i < 3; ++i) {  // the broken pooled connection, then failed reconnections
        auto r = send(state.channels[0], "during");
        EXPECT_EQ(r.status, 503) << r.body;
        EXPECT_TRUE(r.headers.get("retry-after").has_value());
        EXPECT_EQ(r.headers.get("content-type").value_or(""), "application/json");
        boost::system::error_code ec;
        auto body = boost::json::parse(r.body, ec);
        ASSERT_FALSE(ec) << r.body;
        EXPECT_EQ(body.at("code").as_int64(), 503);
        EXPECT_EQ(body.at("reason").as_string(), "store_failure");
    }

    pg_->restart();
    EXPECT_EQ(send(state.channels[0], "after").status, 201);  // same pushsvc process
    wc::UserAgent ua(state, opts_);
    ASSERT_TRUE(ua.connect(ws_url()));
    EXPECT_EQ(receive_text(ua), "before");
    EXPECT_EQ(receive_text(ua), "after");  // nothing of the outage was stored
}

// Runs pushsvc on a config that points the store at `dsn`; returns its exit status and
// output (bounded by `timeout 30`).
std::pair<int, std::string> run_with_dsn(const std::string& dsn) {
    namespace fs = std::filesystem;
    fs::path dir = fs::temp_directory_path() / ("pushsvc-pgdsn-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    std::ofstream(dir / "pushsvc.toml")
        << "[server]\nlisten = \"127.0.0.1:0\"\n[store]\npath = \"" << (dir / "data").string()
        << "\"\nbackend = \"postgres\"\n[store.postgres]\ndsn = \"" << dsn
        << "\"\nconnect_timeout_ms = 1000\n";
    const std::string cmd = "timeout 30 " + std::string(PUSHSVC_BIN_DIR) + "/pushsvc --config " +
                            (dir / "pushsvc.toml").string() + " >" + (dir / "out").string() +
                            " 2>&1";
    int status = std::system(cmd.c_str());
    std::stringstream out;
    out << std::ifstream(dir / "out").rdbuf();
    fs::remove_all(dir);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out.str()};
}

TEST_F(PostgresStore, WrongOrUnreachableDatabaseEndsStartupWithOneLine) {
    // Nothing listens on a port just released.
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    const int closed_port = ntohs(addr.sin_port);
    ::close(fd);

    // A listener that never answers: the connection attempt must give up at
    // connect_timeout_ms, not hang.
    int silent = ::socket(AF_INET, SOCK_STREAM, 0);
    addr.sin_port = 0;
    ASSERT_EQ(::bind(silent, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(::listen(silent, 8), 0);
    len = sizeof addr;
    ::getsockname(silent, reinterpret_cast<sockaddr*>(&addr), &len);
    const int silent_port = ntohs(addr.sin_port);

    for (const std::string& dsn :
         {"host=127.0.0.1 port=" + std::to_string(closed_port) + " user=postgres",
          "host=127.0.0.1 port=" + std::to_string(silent_port) + " user=postgres",
          pg_->dsn("no_such_database"), std::string("host=127.0.0.1 port=notaport")}) {
        const auto start = std::chrono::steady_clock::now();
        auto [status, out] = run_with_dsn(dsn);
        const auto took = std::chrono::steady_clock::now() - start;
        EXPECT_EQ(status, 1) << dsn << ": " << out;
        EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << dsn << ": " << out;
        EXPECT_NE(out.find("cannot open the PostgreSQL store"), std::string::npos) << out;
        EXPECT_LT(took, std::chrono::seconds(20)) << dsn;  // far from the 30 s bound
    }
    ::close(silent);
}

}  // namespace
}  // namespace pushsvc::testing
