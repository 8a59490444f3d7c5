#pragma once
// BodyLog: where RocksStore keeps message bodies, so that a body is written once and RocksDB
// holds only the record and a 24-octet reference to it. In RocksDB a 3 KB body went into the
// WAL, the memtable, a blob file at flush and again whenever blob garbage collection moved it;
// that was a quarter of the CPU of a push (BENCHMARKS.md, "Fourth round").
//
// The log is a folder of segment files, `<16 hex digits>.log`, each a run of bodies back to
// back with no framing: the reference (segment, offset, length, CRC32C) says where a body is
// and checks what is read there. Appends go to the newest segment (the active one), a new
// one after `segment_bytes`; a process that opens the log starts a new segment, so a segment
// that was active when a process died is never appended to again (what its tail holds past
// the last reference is garbage). Nothing in a segment is ever overwritten.
//
// Space comes back by whole segments. RocksStore knows which references are live (its
// records); collect() is told the segments they name and removes the others, and RocksStore
// moves the few live bodies out of mostly dead segments first (rocks_bodies.cc).
//
// Durability: appends are pwritev(2) into the page cache, like RocksDB's WAL writes without
// sync, so a body survives kill -9 once append() returned; sync() makes every body appended
// before it durable (fdatasync of each segment written since the last sync).
//
// Thread-safety: every method may be called from any thread; appends are serialised among
// themselves, reads run beside them and beside each other.

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "pushsvc/store/record_codec.h"

namespace pushsvc::store {

class BodyLog {
  public:
    static constexpr std::size_t kRefSize = codec::kBodyRefSize;
    // Sealed segments whose files stay open for reads (others are opened when read).
    static constexpr std::size_t kMaxOpenSealed = 32;
    static constexpr std::uint64_t kDefaultSegmentBytes = 64u << 20;
    // Sealed segments whose pages are left in the page cache; older ones are dropped from it
    // (drop-behind, start_segment()).
    static constexpr std::size_t kCachedSealed = 4;

    // Opens (creating it if missing) the log in `dir` and starts a new active segment.
    // `synced`: sync() will be called (store.sync), so sealed segments are remembered until
    // it runs (without it they would stay open, and so on disk, after their removal).
    // nullptr when the folder or the segment cannot be made.
    static std::unique_ptr<BodyLog> open(const std::string& dir,
                                         std::uint64_t segment_bytes = kDefaultSegmentBytes,
                                         bool synced = false);
    // Opens the log in `dir` for read() alone, writing nothing (a backup being verified).
    static std::unique_ptr<BodyLog> open_read_only(const std::string& dir);
    ~BodyLog();
    BodyLog(const BodyLog&) = delete;
    BodyLog& operator=(const BodyLog&) = delete;

    // Held from an append until the records naming its bodies are written (or given up on):
    // seal_and_drain() waits for it.
    class Pin {
      public:
        Pin() = default;
        ~Pin() { release(); }
        Pin(Pin&& o) noexcept : log_(std::exchange(o.log_, nullptr)), segment_(o.segment_) {}
        Pin& operator=(Pin&& o) noexcept {
            if (this != &o) {
                release();
                log_ = std::exchange(o.log_, nullptr);
                segment_ = o.segment_;
            }
            return *this;
        }
        void release();

      private:
        friend class BodyLog;
        BodyLog* log_ = nullptr;
        std::uint64_t segment_ = 0;
    };

    // Appends the bodies with one write and puts the reference of bodies[i] in refs[i]
    // (resized to match); `pin` (empty) then pins the segment. False if the write failed
    // (nothing refers to what it left).
    bool append(std::span<const std::string_view> bodies, std::vector<std::string>& refs, Pin& pin);
    // fdatasync of every segment appended to since the last sync. False if one failed, and
    // from then on.
    bool sync();
    // Waits until the page-cache advice for the segments sealed so far has been given (so
    // that no file of the log is open for it): collection calls it before returning.
    void settle_advice();
    // The body `ref` names, into `body`: `missing` if the reference is malformed, its segment
    // is gone, or what is there does not match the reference's length and CRC; `failed` for
    // an I/O error (out of descriptors, say), which says nothing about the body.
    enum class Read { ok, missing, failed };
    Read read(std::string_view ref, std::string& body) const;
    // The same, nullopt unless `ok`.
    std::optional<std::string> read(std::string_view ref) const;
    // The segment a reference names (nullopt if malformed).
    static std::optional<std::uint64_t> segment_of(std::string_view ref);
    static std::optional<std::uint32_t> length_of(std::string_view ref);
    // The segment appends go to now; every segment below it is sealed.
    std::uint64_t active_segment() const;
    // Sealed segments and their sizes in octets.
    std::map<std::uint64_t, std::uint64_t> sealed_segments() const;
    // Ends the active segment if it holds at least `min_bytes` (and anything), and waits until
    // no append to a sealed segment is pinned. Returns the active segment: every body in a
    // segment below it is named by a record written by now, or by none ever.
    std::uint64_t seal_and_drain(std::uint64_t min_bytes = 1);
    // Removes every sealed segment below `below` that is not in `live`; returns how many.
    std::size_t collect(const std::set<std::uint64_t>& live, std::uint64_t below);
    // Copies every segment into `dir` (created), as hard links where it can (sealed ones never
    // change again) and as copies otherwise. "" or the reason it failed.
    std::string copy_to(const std::string& dir) const;
    std::uint64_t segment_bytes() const { return segment_bytes_; }
    // How many appends succeeded so far (the collector's sign of activity).
    std::uint64_t appends() const { return appends_.load(std::memory_order_relaxed); }

  private:
    struct File;
    struct Segment;
    BodyLog(std::string dir, std::uint64_t segment_bytes, bool synced);
    bool list_segments();                    // at open: the segments in dir_, files closed
    bool start_segment();                    // under append_mu_
    void keep_open(std::uint64_t id) const;  // under files_mu_ (exclusive): a sealed file opened
    // The open file of segment `id`; null with `gone` when there is no such segment.
    std::shared_ptr<File> file_of(std::uint64_t id, bool& gone) const;

    const std::string dir_;
    const std::uint64_t segment_bytes_;
    const bool synced_;
    mutable std::mutex append_mu_;                 // appends, and the choice of the active segment
    std::shared_ptr<Segment> active_;              // under append_mu_ (null: read-only)
    std::shared_ptr<File> active_file_;            // under append_mu_
    std::uint64_t active_size_ = 0;                // under append_mu_
    std::vector<std::shared_ptr<File>> unsynced_;  // under append_mu_: sealed, not synced
    std::deque<std::uint64_t> cached_;             // under append_mu_: sealed, still cached
    // Drop-behind's page-cache advice, given on a thread of its own (started at the first
    // seal): starting the writeback of a 64 MiB segment can block for tens of milliseconds,
    // which appends must not wait for. Each job: the segment just sealed (writeback starts)
    // and the path of one to drop from the page cache ("" for none).
    void advise(std::string sealed, std::string drop) noexcept;
    void advise_loop();
    std::mutex advice_mu_;
    std::condition_variable advice_cv_;
    std::deque<std::pair<std::string, std::string>> advice_;  // under advice_mu_
    std::uint64_t advice_queued_ = 0;                         // under advice_mu_
    std::uint64_t advice_done_ = 0;                           // under advice_mu_
    bool advice_stop_ = false;                                // under advice_mu_
    // Under advice_mu_, but for the destructor's join (nothing can advise() by then).
    std::thread advisor_;
    bool sync_failed_ = false;           // under append_mu_
    std::map<std::uint64_t, int> pins_;  // under append_mu_: segment, pins
    std::condition_variable unpinned_;
    std::atomic<std::uint64_t> appends_{0};
    mutable std::shared_mutex files_mu_;
    std::map<std::uint64_t, std::shared_ptr<Segment>> segments_;  // every segment, by id
    mutable std::deque<std::uint64_t> opened_;  // under files_mu_: sealed ones with open files
};

}  // namespace pushsvc::store
