#pragma once
// Hot backup of the store (`pushsvc backup --config FILE DIR`) while the service runs.
//
// RocksDB allows one process to open a database read-write, and a read-only or secondary
// instance opened by another process cannot stop the service's compactions from deleting the
// files it is copying, so a copy made from outside is not reliably consistent. The service
// therefore makes the copy itself when asked over its control socket (app/control.h): a
// RocksDB checkpoint (store::RocksStore::checkpoint: hard links, one consistent point) into
// `<store.path>/backups/<id>/db`, plus the token key file; the command then copies that to DIR
// (any file system), removes the staging folder and verifies the copy (every checksum, every
// record read). When no service runs, the command opens the store itself and does the same.

#include <string>

#include "pushsvc/config/config.h"

namespace pushsvc::store {
class RocksStore;
}

namespace pushsvc::app {

// `<store.path>/control.sock` and `<store.path>/backups`.
std::string control_socket_path(const config::Config& config);
std::string staging_root(const config::Config& config);

// Service side of the "backup" command: a checkpoint of `store` and a copy of the token key
// file in a new folder under staging_root(). Returns the reply line: "ok <folder>" or
// "error <reason>". Blocks for the flush and the links: run it on the store executor.
std::string stage_backup(const config::Config& config, store::RocksStore& store);

// The command: DIR must not exist or be empty. Prints one line on success; returns the exit
// code (throws std::runtime_error with a one-line reason on failure).
int backup_command(const config::Config& config, const std::string& dir);

}  // namespace pushsvc::app
