#pragma once
// PgInstance: a throwaway PostgreSQL 15 server for a test (tests/support/pg_instance.sh does
// the work: initdb into a fresh /tmp folder, postgres on 127.0.0.1 and a free port, run as the
// `postgres` user when the test runs as root). Started by the constructor, removed with its
// folder by the destructor; stop()/restart() take the database away and bring it back, for
// tests of a store outage.
//
// Needs PUSHSVC_SOURCE_DIR (defined for every pushsvc_test) to find the script.

#include <cstdio>
#include <sstream>
#include <stdexcept>
#include <string>

namespace pushsvc::testing {

class PgInstance {
  public:
    PgInstance() {
        std::istringstream out(run("start"));
        out >> dir_ >> port_;
        if (dir_.empty() || port_ <= 0)
            throw std::runtime_error("pg_instance.sh start printed no folder and port");
    }
    ~PgInstance() {
        try {
            run("destroy " + dir_);
        } catch (...) {  // nothing more to do; the folder is in /tmp
        }
    }
    PgInstance(const PgInstance&) = delete;
    PgInstance& operator=(const PgInstance&) = delete;

    int port() const { return port_; }
    const std::string& dir() const { return dir_; }
    // A libpq connection string for `dbname` (the superuser, trust authentication).
    std::string dsn(const std::string& dbname = "postgres") const {
        return "host=127.0.0.1 port=" + std::to_string(port_) + " dbname=" + dbname +
               " user=postgres";
    }
    void stop() { run("stop " + dir_); }        // fast shutdown; returns once it is gone
    void restart() { run("restart " + dir_); }  // returns once it accepts connections
    void kill() { run("kill " + dir_); }        // SIGKILL of the postmaster

  private:
    static std::string run(const std::string& args) {
        const std::string cmd =
            std::string(PUSHSVC_SOURCE_DIR) + "/tests/support/pg_instance.sh " + args;
        FILE* p = ::popen(cmd.c_str(), "r");
        if (p == nullptr) throw std::runtime_error("cannot run " + cmd);
        std::string out;
        char buf[256];
        while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
        if (::pclose(p) != 0) throw std::runtime_error(cmd + " failed");
        return out;
    }

    std::string dir_;
    int port_ = 0;
};

// One server per test binary, started on first use (initdb takes seconds) and removed at exit:
// tests that only need a database give each test its own schema in it.
inline PgInstance& shared_pg_instance() {
    static PgInstance instance;
    return instance;
}

}  // namespace pushsvc::testing
