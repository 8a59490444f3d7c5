#include "pushsvc/net/connection.h"

#include <boost/asio/post.hpp>

#include <utility>
#include <vector>

namespace pushsvc::net {

void ConnectionRegistry::add(const Connection* key, std::weak_ptr<Connection> conn) {
    std::lock_guard lock(mutex_);
    conns_[key] = std::move(conn);
}

void ConnectionRegistry::remove(const Connection* key) {
    std::function<void()> fire;
    boost::asio::any_io_executor ex;
    {
        std::lock_guard lock(mutex_);
        conns_.erase(key);
        if (conns_.empty() && on_empty_) {
            fire = std::exchange(on_empty_, nullptr);
            ex = watcher_ex_;
        }
    }
    if (fire) boost::asio::post(ex, std::move(fire));
}

std::size_t ConnectionRegistry::size() const {
    std::lock_guard lock(mutex_);
    return conns_.size();
}

std::vector<std::shared_ptr<Connection>> ConnectionRegistry::snapshot() const {
    std::vector<std::shared_ptr<Connection>> out;
    std::lock_guard lock(mutex_);
    out.reserve(conns_.size());
    for (const auto& [key, weak] : conns_) {
        if (auto c = weak.lock()) out.push_back(std::move(c));
    }
    return out;
}

void ConnectionRegistry::drain_all() {
    for (const auto& c : snapshot()) c->drain();
}

void ConnectionRegistry::close_all() {
    for (const auto& c : snapshot()) c->close();
}

void ConnectionRegistry::notify_when_empty(boost::asio::any_io_executor ex,
                                           std::function<void()> on_empty) {
    {
        std::lock_guard lock(mutex_);
        if (!conns_.empty()) {
            watcher_ex_ = std::move(ex);
            on_empty_ = std::move(on_empty);
            return;
        }
    }
    boost::asio::post(ex, std::move(on_empty));
}

}  // namespace pushsvc::net
