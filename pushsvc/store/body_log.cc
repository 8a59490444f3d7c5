#include "pushsvc/store/body_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <climits>
#include <filesystem>
#include <limits>
#include <system_error>

#include "pushsvc/store/record_codec.h"

// RocksDB's CRC32C; the store's link redirects it to the CPU's crc32 instruction where there
// is one (crc32c.cc).
namespace rocksdb::crc32c {
std::uint32_t Extend(std::uint32_t init_crc, const char* data, std::size_t n);
}

namespace pushsvc::store {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kSuffix = ".log";

std::uint32_t crc_of(std::string_view body) {
    return rocksdb::crc32c::Extend(0, body.data(), body.size());
}

void append_be32(std::string& out, std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}

std::uint32_t be32(std::string_view in) {
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(in[i]);
    return v;
}

struct Ref {
    std::uint64_t segment = 0;
    std::uint64_t offset = 0;
    std::uint32_t length = 0;
    std::uint32_t crc = 0;
};

std::optional<Ref> parse(std::string_view ref) {
    if (ref.size() != BodyLog::kRefSize) return std::nullopt;
    Ref r;
    if (!codec::read_be64(ref, r.segment) || !codec::read_be64(ref, r.offset)) return std::nullopt;
    r.length = be32(ref);
    r.crc = be32(ref.substr(4));
    return r;
}

std::string file_name(std::uint64_t id) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string name(16, '0');
    for (int i = 15; i >= 0; --i, id >>= 4) name[static_cast<std::size_t>(i)] = kHex[id & 15];
    return name + std::string(kSuffix);
}

std::optional<std::uint64_t> id_of(const fs::path& p) {
    const std::string name = p.filename().string();
    if (name.size() != 16 + kSuffix.size() || !name.ends_with(kSuffix)) return std::nullopt;
    std::uint64_t id = 0;
    const auto [end, ec] = std::from_chars(name.data(), name.data() + 16, id, 16);
    if (ec != std::errc() || end != name.data() + 16) return std::nullopt;
    return id;
}

}  // namespace

struct BodyLog::File {
    int fd = -1;
    explicit File(int f) : fd(f) {}
    ~File() { ::close(fd); }
};

struct BodyLog::Segment {
    std::uint64_t id = 0;
    std::string path;
    std::shared_ptr<File> file;  // under files_mu_; null while closed
};

BodyLog::BodyLog(std::string dir, std::uint64_t segment_bytes, bool synced)
    : dir_(std::move(dir)), segment_bytes_(segment_bytes), synced_(synced) {}

BodyLog::~BodyLog() {
    {
        std::lock_guard lk(advice_mu_);
        advice_stop_ = true;
    }
    advice_cv_.notify_all();
    if (advisor_.joinable()) advisor_.join();
}

void BodyLog::advise(std::string sealed, std::string drop) noexcept {
    // Advice only: if it cannot be queued or its thread cannot start, it is not given (and
    // nothing is left queued for settle_advice() to wait on).
    try {
        std::lock_guard lk(advice_mu_);
        advice_.emplace_back(std::move(sealed), std::move(drop));
        try {
            if (!advisor_.joinable()) advisor_ = std::thread([this] { advise_loop(); });
        } catch (...) {
            advice_.pop_back();
            return;
        }
        ++advice_queued_;
    } catch (...) {
        return;
    }
    advice_cv_.notify_all();
}

void BodyLog::advise_loop() {
    std::unique_lock lk(advice_mu_);
    while (true) {
        advice_cv_.wait(lk, [&] { return advice_stop_ || !advice_.empty(); });
        if (advice_stop_) return;  // advice only: what is left may go ungiven
        auto [sealed, drop] = std::move(advice_.front());
        advice_.pop_front();
        lk.unlock();
        // Advice only: a segment collected meanwhile does not open, and no failure counts.
        if (const int fd = ::open(sealed.c_str(), O_RDONLY | O_CLOEXEC); fd >= 0) {
            ::sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
            ::close(fd);
        }
        if (!drop.empty()) {
            if (const int fd = ::open(drop.c_str(), O_RDONLY | O_CLOEXEC); fd >= 0) {
                ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
                ::close(fd);
            }
        }
        lk.lock();
        ++advice_done_;
        advice_cv_.notify_all();
    }
}

void BodyLog::settle_advice() {
    std::unique_lock lk(advice_mu_);
    // The advice queued until now; later seals' advice is not waited for.
    const std::uint64_t until = advice_queued_;
    advice_cv_.wait(lk,
                    [&] { return advice_stop_ || !advisor_.joinable() || advice_done_ >= until; });
}

std::unique_ptr<BodyLog> BodyLog::open(const std::string& dir, std::uint64_t segment_bytes,
                                       bool synced) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return nullptr;
    std::unique_ptr<BodyLog> log(new BodyLog(dir, segment_bytes, synced));
    if (!log->list_segments()) return nullptr;
    std::lock_guard lk(log->append_mu_);
    if (!log->start_segment()) return nullptr;
    return log;
}

std::unique_ptr<BodyLog> BodyLog::open_read_only(const std::string& dir) {
    std::unique_ptr<BodyLog> log(new BodyLog(dir, kDefaultSegmentBytes, false));
    std::error_code ec;
    if (fs::exists(dir, ec) && !log->list_segments()) return nullptr;
    return log;
}

bool BodyLog::list_segments() {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir_, ec)) {
        const auto id = id_of(entry.path());
        if (!id) continue;
        auto seg = std::make_shared<Segment>();
        seg->id = *id;
        seg->path = entry.path().string();
        segments_.emplace(*id, std::move(seg));
    }
    return !ec;
}

bool BodyLog::start_segment() {
    const std::uint64_t id = [&] {
        std::shared_lock lk(files_mu_);
        return segments_.empty() ? 1 : segments_.rbegin()->first + 1;
    }();
    auto seg = std::make_shared<Segment>();
    seg->id = id;
    seg->path = (fs::path(dir_) / file_name(id)).string();
    const int fd = ::open(seg->path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return false;
    seg->file = std::make_shared<File>(fd);
    // The new file's name must outlive a crash before any reference to it does.
    const int dfd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
    std::string drop;  // the path of a sealed segment to drop from the page cache
    {
        std::unique_lock lk(files_mu_);
        if (active_) {
            if (synced_ && active_size_ > 0) unsynced_.push_back(active_file_);
            keep_open(active_->id);  // sealed: its file now counts among the open ones
            cached_.push_back(active_->id);
            if (cached_.size() > kCachedSealed) {
                if (const auto it = segments_.find(cached_.front()); it != segments_.end())
                    drop = it->second->path;  // not collected meanwhile
                cached_.pop_front();
            }
        }
        segments_.emplace(id, seg);
    }
    // Drop-behind. Bodies are written once and mostly read at once, from the newest segments,
    // or much later, so the page cache need not keep older ones: without this it grows by
    // every body written, and on a VM whose host takes back the guest's free memory each
    // newly cached page costs a fault in the host (measured: 3 s of CPU per GiB written once
    // ~3 GiB were cached, against 0.25-0.5 s). The writeback of the segment being sealed
    // starts, and the oldest one still cached, long written back, leaves the page cache (a
    // body of it is read from the disk when it is needed); both on the advice thread.
    if (active_) advise(active_->path, std::move(drop));
    active_file_ = seg->file;
    active_ = std::move(seg);
    active_size_ = 0;
    return true;
}

void BodyLog::keep_open(std::uint64_t id) const {
    opened_.push_back(id);
    while (opened_.size() > kMaxOpenSealed) {
        const auto it = segments_.find(opened_.front());
        opened_.pop_front();
        // Readers still holding the file keep it open until they are done (and unsynced_,
        // with `synced`, until the next sync).
        if (it != segments_.end()) it->second->file.reset();
    }
}

std::shared_ptr<BodyLog::File> BodyLog::file_of(std::uint64_t id, bool& gone) const {
    std::shared_ptr<Segment> seg;
    {
        std::shared_lock lk(files_mu_);
        const auto it = segments_.find(id);
        gone = it == segments_.end();
        if (gone) return nullptr;
        if (it->second->file) return it->second->file;
        seg = it->second;
    }
    const int fd = ::open(seg->path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        gone = errno == ENOENT;
        return nullptr;  // else out of descriptors, say: a failure, not a missing body
    }
    auto file = std::make_shared<File>(fd);
    std::unique_lock lk(files_mu_);
    if (seg->file) return seg->file;  // another reader opened it meanwhile
    gone = !segments_.contains(id);   // collected meanwhile
    if (gone) return nullptr;
    seg->file = file;
    keep_open(id);
    return file;
}

void BodyLog::Pin::release() {
    if (log_ == nullptr) return;
    {
        std::lock_guard lk(log_->append_mu_);
        if (auto it = log_->pins_.find(segment_); it != log_->pins_.end() && --it->second == 0)
            log_->pins_.erase(it);
    }
    log_->unpinned_.notify_all();
    log_ = nullptr;
}

bool BodyLog::append(std::span<const std::string_view> bodies, std::vector<std::string>& refs,
                     Pin& pin) {
    refs.resize(bodies.size());
    std::size_t total = 0;
    for (auto b : bodies) total += b.size();
    std::lock_guard lk(append_mu_);
    if (!active_file_) return false;  // read-only
    if (active_size_ > 0 && active_size_ + total > segment_bytes_ && !start_segment()) return false;
    const std::uint64_t start = active_size_;
    std::uint64_t offset = start;
    std::vector<iovec> iov;
    iov.reserve(bodies.size());
    for (std::size_t i = 0; i < bodies.size(); ++i) {
        const auto b = bodies[i];
        std::string& ref = refs[i];
        ref.clear();
        codec::append_be64(ref, active_->id);
        codec::append_be64(ref, offset);
        append_be32(ref, static_cast<std::uint32_t>(b.size()));
        append_be32(ref, crc_of(b));
        offset += b.size();
        if (!b.empty()) iov.push_back({const_cast<char*>(b.data()), b.size()});
    }
    // pwritev at our own offset: a write that failed leaves a stretch nothing refers to,
    // and the next append writes over it.
    std::size_t done = 0;   // octets written so far
    std::size_t first = 0;  // the first iovec not wholly written
    while (first < iov.size()) {
        const int n = static_cast<int>(std::min<std::size_t>(iov.size() - first, IOV_MAX));
        const ssize_t w =
            ::pwritev(active_file_->fd, iov.data() + first, n, static_cast<off_t>(start + done));
        if (w < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        if (w == 0) return false;
        done += static_cast<std::size_t>(w);
        for (auto left = static_cast<std::size_t>(w); left > 0;) {  // skip what was written
            if (left >= iov[first].iov_len) {
                left -= iov[first].iov_len;
                ++first;
            } else {
                iov[first].iov_base = static_cast<char*>(iov[first].iov_base) + left;
                iov[first].iov_len -= left;
                left = 0;
            }
        }
    }
    active_size_ = offset;
    ++pins_[active_->id];
    appends_.fetch_add(1, std::memory_order_relaxed);
    pin.log_ = this;
    pin.segment_ = active_->id;
    return true;
}

bool BodyLog::sync() {
    std::vector<std::shared_ptr<File>> todo;
    {
        std::lock_guard lk(append_mu_);
        if (sync_failed_) return false;
        todo.swap(unsynced_);
        if (active_size_ > 0) todo.push_back(active_file_);
    }
    for (const auto& file : todo) {
        if (::fdatasync(file->fd) == 0) continue;
        // After a failed fdatasync the kernel may have dropped the dirty pages: a later one
        // could succeed without them. Every later sync fails too, as PostgreSQL does.
        std::lock_guard lk(append_mu_);
        sync_failed_ = true;
        return false;
    }
    return true;
}

BodyLog::Read BodyLog::read(std::string_view ref, std::string& body) const {
    const auto r = parse(ref);
    if (!r) return Read::missing;
    body.clear();
    if (r->length == 0) return r->crc == crc_of({}) ? Read::ok : Read::missing;
    // The file stays open while read: a collect() meanwhile only drops the name.
    bool gone = false;
    const auto file = file_of(r->segment, gone);
    if (!file) return gone ? Read::missing : Read::failed;
    struct stat st {};
    if (::fstat(file->fd, &st) != 0) return Read::failed;
    if (r->offset > static_cast<std::uint64_t>(st.st_size) ||
        r->length > static_cast<std::uint64_t>(st.st_size) - r->offset)
        return Read::missing;  // not in the file: never allocated for
    body.resize(r->length);
    std::size_t got = 0;
    while (got < body.size()) {
        const ssize_t n = ::pread(file->fd, body.data() + got, body.size() - got,
                                  static_cast<off_t>(r->offset + got));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return Read::failed;
        if (n == 0) return Read::missing;
        got += static_cast<std::size_t>(n);
    }
    return crc_of(body) == r->crc ? Read::ok : Read::missing;
}

std::optional<std::string> BodyLog::read(std::string_view ref) const {
    std::string body;
    if (read(ref, body) != Read::ok) return std::nullopt;
    return body;
}

std::optional<std::uint64_t> BodyLog::segment_of(std::string_view ref) {
    const auto r = parse(ref);
    if (!r) return std::nullopt;
    return r->segment;
}

std::optional<std::uint32_t> BodyLog::length_of(std::string_view ref) {
    const auto r = parse(ref);
    if (!r) return std::nullopt;
    return r->length;
}

std::uint64_t BodyLog::active_segment() const {
    std::lock_guard lk(append_mu_);
    return active_ ? active_->id : std::numeric_limits<std::uint64_t>::max();
}

std::map<std::uint64_t, std::uint64_t> BodyLog::sealed_segments() const {
    const std::uint64_t active = active_segment();
    std::vector<std::shared_ptr<Segment>> segs;
    {
        std::shared_lock lk(files_mu_);
        for (const auto& [id, seg] : segments_)
            if (id < active) segs.push_back(seg);
    }
    std::map<std::uint64_t, std::uint64_t> out;
    for (const auto& seg : segs) {
        std::error_code ec;
        const auto size = fs::file_size(seg->path, ec);
        out.emplace(seg->id, ec ? 0 : size);
    }
    return out;
}

std::uint64_t BodyLog::seal_and_drain(std::uint64_t min_bytes) {
    std::unique_lock lk(append_mu_);
    if (!active_) return std::numeric_limits<std::uint64_t>::max();
    if (active_size_ > 0 && active_size_ >= min_bytes)
        start_segment();  // if it fails, appends go on where they were
    const std::uint64_t active = active_->id;
    // Appends pin only the active segment, so the pins below it only go.
    unpinned_.wait(lk, [&] { return pins_.empty() || pins_.begin()->first >= active; });
    return active;
}

std::size_t BodyLog::collect(const std::set<std::uint64_t>& live, std::uint64_t below) {
    below = std::min(below, active_segment());
    std::vector<std::string> gone;
    {
        std::unique_lock lk(files_mu_);
        for (auto it = segments_.begin(); it != segments_.end() && it->first < below;) {
            if (live.contains(it->first)) {
                ++it;
                continue;
            }
            gone.push_back(it->second->path);
            it = segments_.erase(it);  // a reader holding its file reads on until done
        }
    }
    for (const auto& path : gone) ::unlink(path.c_str());
    return gone.size();
}

std::string BodyLog::copy_to(const std::string& dir) const {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return "cannot create " + dir + ": " + ec.message();
    const std::uint64_t active = active_segment();
    std::vector<std::shared_ptr<Segment>> segs;
    {
        std::shared_lock lk(files_mu_);
        for (const auto& [id, seg] : segments_) segs.push_back(seg);
    }
    for (const auto& seg : segs) {
        const fs::path to = fs::path(dir) / fs::path(seg->path).filename();
        bool linked = false;
        if (seg->id < active) {  // sealed: never written again
            fs::create_hard_link(seg->path, to, ec);
            linked = !ec;
        }
        if (!linked) {
            fs::copy_file(seg->path, to, ec);
            if (ec) return "cannot copy " + seg->path + ": " + ec.message();
        }
        // Durable like the rest of the backup (RocksDB's checkpoint syncs what it writes); a
        // link too, whose data may be in the page cache alone (store.sync = false).
        const int fd = ::open(to.c_str(), O_RDONLY | O_CLOEXEC);
        const bool synced = fd >= 0 && ::fsync(fd) == 0;
        if (fd >= 0) ::close(fd);
        if (!synced) return "cannot sync " + to.string();
    }
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    const bool synced = dfd >= 0 && ::fsync(dfd) == 0;
    if (dfd >= 0) ::close(dfd);
    return synced ? std::string() : "cannot sync " + dir;
}

}  // namespace pushsvc::store
