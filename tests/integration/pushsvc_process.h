#pragma once
// Runs the built pushsvc binary as a child process for integration tests: a fresh data folder,
// listeners on 127.0.0.1 port 0, the bound addresses read from --ready-file. Every wait is
// bounded. Only the child this object started is ever signalled, by its PID.

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <string>

namespace pushsvc::testing {

struct ProcessOptions {
    std::string profile = "compat";
    bool tls = false;  // also listen on TLS (certificate made with tools/dev-cert.sh)
    bool sync = false;
    std::map<std::string, std::string> env;  // extra PUSHSVC__* overrides
};

class PushsvcProcess {
  public:
    explicit PushsvcProcess(ProcessOptions options = {});
    ~PushsvcProcess();  // SIGKILLs the child if still running, removes the data folder

    PushsvcProcess(const PushsvcProcess&) = delete;
    PushsvcProcess& operator=(const PushsvcProcess&) = delete;

    // Starts the binary on the (possibly existing) data folder and waits until it is ready.
    void start();
    // SIGTERM and wait for exit (graceful drain); returns the exit status.
    int stop();
    // SIGKILL and reap: the crash case.
    void kill9();
    // Waits (bounded) for the child to exit on its own; returns its exit status, or -1 when it
    // was killed by a signal (e.g. SIGABRT from std::terminate) or is still running (it is
    // then SIGKILLed).
    int wait_exit(std::chrono::milliseconds timeout);

    const std::string& origin() const { return origin_; }
    const std::string& cleartext() const { return cleartext_; }  // "127.0.0.1:port"
    // `url` (one the service minted, naming its origin) with the same path on the cleartext
    // listener.
    std::string on_cleartext(const std::string& url) const;
    const std::string& tls() const { return tls_; }
    int cleartext_port() const;
    int tls_port() const;
    const std::filesystem::path& dir() const { return dir_; }
    std::filesystem::path ca_file() const { return dir_ / "tls" / "ca.pem"; }
    pid_t pid() const { return pid_; }
    // A string field of the ready file of the last start ("" when absent), e.g. "cluster" (the
    // internal listener's host:port) and "node_id" in cluster mode.
    std::string ready_field(const std::string& name) const;
    std::string log() const;  // the child's stdout+stderr so far

  private:
    // Waits for the child's exit until `deadline` (woken by a pidfd); its exit code, or -1
    // after SIGKILL when it did not exit in time.
    int reap(std::chrono::steady_clock::time_point deadline);

    ProcessOptions options_;
    std::filesystem::path dir_;
    pid_t pid_ = -1;
    std::string origin_, cleartext_, tls_;
    std::map<std::string, std::string> ready_;
};

}  // namespace pushsvc::testing
