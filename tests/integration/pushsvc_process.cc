#include "tests/integration/pushsvc_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

namespace pushsvc::testing {
namespace fs = std::filesystem;

namespace {

std::string read_file(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

int port_of(const std::string& hostport) {
    auto pos = hostport.rfind(':');
    return pos == std::string::npos ? 0 : std::stoi(hostport.substr(pos + 1));
}

}  // namespace

PushsvcProcess::PushsvcProcess(ProcessOptions options) : options_(std::move(options)) {
    std::random_device rd;
    dir_ = fs::temp_directory_path() /
           ("pushsvc-it-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    fs::create_directories(dir_);
    if (options_.tls) {
        std::string cmd = std::string(PUSHSVC_SOURCE_DIR) + "/tools/dev-cert.sh " +
                          (dir_ / "tls").string() + " >/dev/null";
        if (std::system(cmd.c_str()) != 0) throw std::runtime_error("dev-cert.sh failed");
    }
    std::ofstream cfg(dir_ / "pushsvc.toml");
    cfg << "profile = \"" << options_.profile << "\"\n"
        << "[server]\nlisten = \"127.0.0.1:0\"\nthreads = 2\n";
    if (options_.tls)
        cfg << "tls_listen = \"127.0.0.1:0\"\ntls_cert = \"" << (dir_ / "tls/cert.pem").string()
            << "\"\ntls_key = \"" << (dir_ / "tls/key.pem").string() << "\"\n";
    cfg << "[store]\npath = \"" << (dir_ / "data").string()
        << "\"\nsync = " << (options_.sync ? "true" : "false") << "\n[log]\nlevel = \"warn\"\n";
}

PushsvcProcess::~PushsvcProcess() {
    if (pid_ > 0) kill9();
    std::error_code ec;
    fs::remove_all(dir_, ec);
}

void PushsvcProcess::start() {
    fs::path ready = dir_ / "ready.json";
    fs::remove(ready);
    pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        int fd = ::open((dir_ / "pushsvc.log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        ::dup2(fd, 1);
        ::dup2(fd, 2);
        for (const auto& [k, v] : options_.env) ::setenv(k.c_str(), v.c_str(), 1);
        std::string bin = std::string(PUSHSVC_BIN_DIR) + "/pushsvc";
        std::string cfg = (dir_ / "pushsvc.toml").string();
        std::string ready_s = ready.string();
        ::execl(bin.c_str(), bin.c_str(), "--config", cfg.c_str(), "--ready-file", ready_s.c_str(),
                static_cast<char*>(nullptr));
        ::_exit(127);
    }
    pid_ = pid;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!fs::exists(ready)) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            throw std::runtime_error("pushsvc exited during startup:\n" + log());
        }
        if (std::chrono::steady_clock::now() > deadline)
            throw std::runtime_error("pushsvc not ready within 20 s:\n" + log());
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    auto info = boost::json::parse(read_file(ready)).as_object();
    origin_ = std::string(info.at("origin").as_string());
    cleartext_ = info.contains("cleartext") ? std::string(info.at("cleartext").as_string()) : "";
    tls_ = info.contains("tls") ? std::string(info.at("tls").as_string()) : "";
}

int PushsvcProcess::stop() {
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGTERM);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) != pid_) {
        if (std::chrono::steady_clock::now() > deadline) {
            kill9();
            return -1;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void PushsvcProcess::kill9() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
}

int PushsvcProcess::wait_exit(std::chrono::milliseconds timeout) {
    if (pid_ <= 0) return -1;
    // A pidfd becomes readable when the child exits: no polling loop.
    int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
    if (fd < 0) throw std::runtime_error("pidfd_open failed");
    pollfd pfd{fd, POLLIN, 0};
    int ready = ::poll(&pfd, 1, static_cast<int>(timeout.count()));
    ::close(fd);
    if (ready <= 0) {
        kill9();
        return -1;
    }
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int PushsvcProcess::cleartext_port() const { return port_of(cleartext_); }
int PushsvcProcess::tls_port() const { return port_of(tls_); }
std::string PushsvcProcess::log() const { return read_file(dir_ / "pushsvc.log"); }

}  // namespace pushsvc::testing
