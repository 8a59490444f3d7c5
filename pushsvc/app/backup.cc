#include "pushsvc/app/backup.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <system_error>

#include "pushsvc/app/control.h"
#include "pushsvc/store/rocks_store.h"

namespace pushsvc::app {

namespace fs = std::filesystem;

std::string control_socket_path(const config::Config& c) {
    return (fs::path(c.store.path) / "control.sock").string();
}

std::string staging_root(const config::Config& c) {
    return (fs::path(c.store.path) / "backups").string();
}

namespace {

// Checkpoint of `store` into `dir`/db plus the token key file (endpoints cannot be decoded
// without it, so a backup without it would be useless). "" or the reason.
std::string checkpoint_with_keys(const config::Config& c, store::RocksStore& store,
                                 const fs::path& dir) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return "cannot create " + dir.string() + ": " + ec.message();
    if (auto why = store.checkpoint((dir / "db").string()); !why.empty()) return why;
    const fs::path keys = fs::path(c.store.path) / "token_keys";
    if (fs::exists(keys, ec)) {
        fs::copy_file(keys, dir / "token_keys", ec);
        if (ec) return "cannot copy " + keys.string() + ": " + ec.message();
        fs::permissions(dir / "token_keys", fs::perms::owner_read | fs::perms::owner_write, ec);
    }
    return {};
}

}  // namespace

std::string stage_backup(const config::Config& c, store::RocksStore& store) {
    const auto id = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
    static std::atomic<unsigned> counter{0};
    const fs::path dir = fs::path(staging_root(c)) /
                         (std::to_string(id) + "-" + std::to_string(counter.fetch_add(1)));
    if (auto why = checkpoint_with_keys(c, store, dir); !why.empty()) {
        std::error_code ignored;
        fs::remove_all(dir, ignored);
        return "error " + why;
    }
    return "ok " + dir.string();
}

int backup_command(const config::Config& c, const std::string& dir_text) {
    if (c.store.backend != "rocksdb")
        throw std::runtime_error(
            "backup: copies a RocksDB store; back up a PostgreSQL store with the database's own "
            "tools (pg_basebackup, or Patroni's replicas)");
    const fs::path dir = fs::absolute(dir_text);
    std::error_code ec;
    if (fs::exists(dir, ec) && !fs::is_empty(dir, ec))
        throw std::runtime_error("backup: " + dir.string() + " exists and is not empty");

    std::string how;
    bool served = false;
    try {
        // Generous: the checkpoint flushes a memtable (up to 64 MiB) on a busy disk.
        const auto reply =
            control_request(control_socket_path(c), "backup", std::chrono::seconds(600));
        served = true;
        if (reply.rfind("ok ", 0) != 0)
            throw std::runtime_error("backup: the service answered: " + reply);
        const fs::path staged = reply.substr(3);
        // Copied, not moved: DIR may be on another file system (and should be).
        fs::create_directories(dir);
        fs::copy(staged, dir, fs::copy_options::recursive);
        fs::remove_all(staged);
        how = "from the running service";
    } catch (const std::system_error& e) {
        if (served) throw;
        const int err = e.code().value();
        if (err != ENOENT && err != ECONNREFUSED) throw std::runtime_error(e.what());
        // No service: the store is ours to open (RocksDB's LOCK refuses it when a service
        // runs without its control socket).
        if (!fs::exists(fs::path(c.store.path) / "db" / "CURRENT"))
            throw std::runtime_error("backup: no store under " + c.store.path);
        // Opening the store writes files into it (RocksDB's LOG, MANIFEST, WAL): as another user
        // (root) they would end up owned by that user, and the service could not open its
        // store any more.
        struct stat db {};
        if (::stat((fs::path(c.store.path) / "db").c_str(), &db) == 0 && db.st_uid != ::geteuid())
            throw std::runtime_error(
                "backup: the service is stopped and the store belongs to uid " +
                std::to_string(db.st_uid) +
                "; run the backup as that user (sudo -u <user> pushsvc backup ...)");
        auto store = store::RocksStore::open((fs::path(c.store.path) / "db").string(), {});
        if (!store)
            throw std::runtime_error("backup: no service answers on " + control_socket_path(c) +
                                     " and the store under " + c.store.path + " cannot be opened");
        if (auto why = checkpoint_with_keys(c, **store, dir); !why.empty())
            throw std::runtime_error("backup: " + why);
        how = "with the service stopped";
    }
    auto verified = store::RocksStore::verify_copy((dir / "db").string());
    if (!verified.error.empty())
        throw std::runtime_error("backup: the copy in " + dir.string() +
                                 " does not verify: " + verified.error);
    std::cout << "backup: " << dir.string() << " (" << how << "): " << verified.records
              << " records, every checksum verified\n";
    return 0;
}

}  // namespace pushsvc::app
