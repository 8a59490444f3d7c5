#pragma once
// Running the io_context on the network threads, with the failure boundary of last resort.
// Handlers guard their own work (base/guard.h) and close one connection on failure; whatever
// still escapes io_context::run() is caught on the thread it happened on, the io_context is
// stopped so every other thread returns too, and all threads are joined before returning, so
// a joinable std::thread is never destroyed (that is std::terminate, with no log and the
// store not closed).

#include <boost/asio/io_context.hpp>

#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "pushsvc/base/guard.h"

namespace pushsvc::app {

// Runs `ioc` on `threads` threads (the calling one included) until it stops. Returns the text
// of the first exception that escaped a handler, or nullopt when the io_context was stopped
// or ran out of work.
inline std::optional<std::string> run_io_threads(boost::asio::io_context& ioc, int threads) {
    std::mutex mu;
    std::optional<std::string> failure;
    auto body = [&] {
        try {
            ioc.run();
        } catch (...) {
            std::string what = base::current_exception_text();
            {
                std::lock_guard lock(mu);
                if (!failure) failure = std::move(what);
            }
            ioc.stop();
        }
    };
    std::vector<std::thread> pool;
    pool.reserve(threads > 1 ? std::size_t(threads - 1) : 0);
    try {
        for (int i = 1; i < threads; ++i) pool.emplace_back(body);
    } catch (...) {  // a thread could not be started: run on the ones that were
        std::lock_guard lock(mu);
        failure = "cannot start network thread: " + base::current_exception_text();
        ioc.stop();
    }
    body();
    for (auto& t : pool) t.join();
    return failure;
}

}  // namespace pushsvc::app
