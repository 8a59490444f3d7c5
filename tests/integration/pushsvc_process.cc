#include "tests/integration/pushsvc_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <random>
#include <sstream>
#include <stdexcept>
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

// A descriptor that becomes readable when the child exits (Linux 5.3+), or -1.
int open_pidfd(pid_t pid) {
#ifdef SYS_pidfd_open
    return int(::syscall(SYS_pidfd_open, pid, 0));
#else
    return -1;
#endif
}

struct Fd {
    int fd = -1;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

// Waits (poll) until one of `fds` is readable or `deadline` passes; without a descriptor
// (fd < 0) it wakes every 100 ms so the caller can look for itself.
void wait_for_event(std::initializer_list<int> fds,
                    std::chrono::steady_clock::time_point deadline) {
    std::vector<pollfd> p;
    for (int fd : fds)
        if (fd >= 0) p.push_back({fd, POLLIN, 0});
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (p.size() < fds.size()) left = std::min<long long>(left, 100);
    if (left > 0) ::poll(p.data(), p.size(), int(left));
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
    // The ready file appears by rename (app.cc writes ready.json.tmp first): watch the folder
    // for it before the child exists, so the event cannot be missed.
    Fd watch{::inotify_init1(IN_NONBLOCK | IN_CLOEXEC)};
    if (watch.fd >= 0 && ::inotify_add_watch(watch.fd, dir_.c_str(), IN_MOVED_TO | IN_CREATE) < 0) {
        ::close(watch.fd);
        watch.fd = -1;
    }
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
    Fd exited{open_pidfd(pid_)};
    // Event-driven: wakes when something is renamed into the folder or the child exits
    // (without inotify or pidfd, every 100 ms instead). Bounded by 20 s.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!fs::exists(ready)) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            throw std::runtime_error("pushsvc exited during startup:\n" + log());
        }
        if (std::chrono::steady_clock::now() > deadline)
            throw std::runtime_error("pushsvc not ready within 20 s:\n" + log());
        wait_for_event({watch.fd, exited.fd}, deadline);
        if (watch.fd >= 0) {  // consume the events; the loop looks at the folder itself
            alignas(inotify_event) char events[4096];
            while (::read(watch.fd, events, sizeof events) > 0) {
            }
        }
    }
    auto info = boost::json::parse(read_file(ready)).as_object();
    origin_ = std::string(info.at("origin").as_string());
    cleartext_ = info.contains("cleartext") ? std::string(info.at("cleartext").as_string()) : "";
    tls_ = info.contains("tls") ? std::string(info.at("tls").as_string()) : "";
    ready_.clear();
    for (const auto& [k, v] : info)
        if (v.is_string()) ready_[std::string(k)] = std::string(v.as_string());
}

std::string PushsvcProcess::ready_field(const std::string& name) const {
    auto it = ready_.find(name);
    return it == ready_.end() ? "" : it->second;
}

int PushsvcProcess::stop() {
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGTERM);
    return reap(std::chrono::steady_clock::now() + std::chrono::seconds(15));
}

int PushsvcProcess::reap(std::chrono::steady_clock::time_point deadline) {
    Fd exited{open_pidfd(pid_)};  // readable once the child has exited
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) != pid_) {
        if (std::chrono::steady_clock::now() > deadline) {
            kill9();
            return -1;
        }
        wait_for_event({exited.fd}, deadline);
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
    return reap(std::chrono::steady_clock::now() + timeout);
}

int PushsvcProcess::cleartext_port() const { return port_of(cleartext_); }
int PushsvcProcess::tls_port() const { return port_of(tls_); }
std::string PushsvcProcess::on_cleartext(const std::string& url) const {
    return "http://" + cleartext_ + url.substr(url.find('/', url.find("://") + 3));
}

std::string PushsvcProcess::log() const { return read_file(dir_ / "pushsvc.log"); }

}  // namespace pushsvc::testing
