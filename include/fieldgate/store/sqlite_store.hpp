#pragma once
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "fieldgate/config/config.hpp"
#include "fieldgate/store/record.hpp"
#include "fieldgate/util/log.hpp"

struct sqlite3;  // <sqlite3.h> stays inside the store module (cmake/modules.cmake)

namespace fieldgate::store {

/// A dead-lettered record, for `fieldgatectl dead-letters`.
struct DeadLetter {
    std::int64_t id = 0;
    std::string device;
    std::int64_t time_ms = 0;
    std::string reason;
    int code = 0;
    std::int64_t dead_ms = 0;
    std::string body;
};

/// The durable buffer: SQLite in WAL mode. Appends are kept in memory and written by commit()
/// in one transaction (group commit); a reading is durable once its commit lands. Only the main
/// thread may use an instance.
///
/// Faults (DESIGN.md "The worst day"): a damaged file found at start is moved aside and its
/// readable records carried over into a fresh store; a store that cannot be written (full disk,
/// I/O error, read-only medium) keeps the readings in memory (bounded) and retries, and while it
/// stays so ("memory mode") fetch() serves those readings too, so the uplink sends them straight
/// from memory. Every record gets its id when appended, so an id means the same reading whether
/// it is in memory or on disk.
class SqliteStore final : public RecordStore {
public:
    /// Opens (creating if needed) the database and applies the schema. Throws StoreError when
    /// the path is simply wrong (missing parent, no permission); a damaged file is quarantined
    /// and a medium that refuses writes starts memory mode instead.
    explicit SqliteStore(const config::Store& cfg);
    ~SqliteStore() override;
    SqliteStore(const SqliteStore&) = delete;
    SqliteStore& operator=(const SqliteStore&) = delete;

    /// Queues a record for the next commit. While commits fail at most memory_bound() readings
    /// wait in memory; beyond that the overflow policy drops the oldest waiting (drop_oldest) or
    /// the new one (drop_newest), counted as "disk_full".
    void append(NewRecord record);
    /// Writes every queued record in one transaction. Returns how many were written; on a
    /// failure (disk full, I/O error) keeps them queued, enters memory mode, logs, and returns
    /// 0; the next attempts back off up to a few seconds. With overflow = drop_newest and the
    /// store at max_bytes, the queued readings are dropped and counted ("store_full") instead.
    std::size_t commit();
    std::size_t pending() const { return pending_.size(); }
    /// Readings cannot be committed now: fetch() serves the queued ones.
    bool memory_mode() const { return memory_mode_; }

    std::vector<Record> fetch(const FetchRange& range) override;
    std::int64_t first_id_at_or_after(std::int64_t time_ms) override;
    std::int64_t last_id() override;
    bool remove(const std::vector<std::int64_t>& ids) override;
    bool dead_letter(const std::vector<std::int64_t>& ids, const std::string& reason, int code) override;

    StoreStats stats();
    std::vector<DeadLetter> dead_letters(std::size_t limit);

    /// Moves records older than max_age to the dead letters (reason "max_age") and deletes dead
    /// letters older than max_age (counted, "dead_letter_expired"). Returns the records moved.
    std::uint64_t expire(std::int64_t now_ms);
    /// Bytes of the database in use: pages in use (not free) times the page size. The file
    /// keeps its high-water mark; freed pages are reused before it grows again.
    std::uint64_t used_bytes();
    /// With overflow = drop_oldest, keeps used_bytes() under max_bytes: deletes the oldest dead
    /// letters first, then the oldest records, down to 95 % of max_bytes, counting each
    /// ("dead_letter_evicted", "evicted"). Returns the records evicted. Cheap when under.
    std::uint64_t enforce_max_bytes();

    /// A reload: takes every setting of `cfg` but the path (which needs a restart) at once:
    /// bounds and overflow from the next commit or sweep, durability from the next commit.
    void reconfigure(const config::Store& cfg);

    static constexpr std::size_t kMaxPending = 100'000;
    std::size_t memory_bound() const { return max_pending_; }
    void set_memory_bound(std::size_t n) { max_pending_ = n; }  ///< for tests
    void retry_now() { retry_at_mono_ = 0; }                    ///< for tests: no back-off wait

private:
    struct Statements;
    struct DeadPending {
        std::int64_t id;
        NewRecord record;
        std::string reason;
        int code;
        std::int64_t dead_ms;
    };
    sqlite3* db_ = nullptr;
    std::unique_ptr<Statements> st_;
    config::Store cfg_;
    std::map<std::int64_t, NewRecord> pending_;           ///< by id, not yet committed
    std::vector<DeadPending> pending_dead_;               ///< dead letters of uncommitted readings
    std::map<std::string, std::uint64_t> unsaved_drops_;  ///< counted, not yet committed
    std::int64_t next_id_ = 1;
    std::int64_t disk_next_id_ = 1;  ///< the file's own next id, when last opened
    std::size_t max_pending_ = kMaxPending;
    std::uint64_t records_ = 0;
    std::uint64_t bytes_ = 0;

    std::int64_t page_size_ = 4096;
    std::map<std::string, std::uint64_t> dead_counts_;  ///< dead letters by reason
    util::RateLimit full_log_{60'000};
    util::RateLimit fail_log_{60'000};
    util::RateLimit read_log_{60'000};

    bool on_disk_ = true;  ///< false: the file could not be opened for writing at start
    bool memory_mode_ = false;
    std::string write_error_;
    std::int64_t retry_at_mono_ = 0;
    std::int64_t retry_delay_ms_ = 0;
    std::vector<std::string> quarantined_;

    // Opening and its fall-backs (src/store/open.cpp).
    enum class Opened { Ok, Damaged, Unwritable };
    Opened open_file(std::string& why);
    /// Memory mode from the start: the file read-only when `read_file` and it can be read, else
    /// an empty database in memory; `why` is the write error status shows.
    void open_memory(bool read_file, const std::string& why);
    void prepare();
    void close();
    bool reopen_disk();
    // A damaged file (src/store/quarantine.cpp).
    void quarantine(const std::string& why);
    std::uint64_t carry_over(const std::string& damaged);
    // The queue (src/store/sqlite_store.cpp) and its bounds (src/store/bounds.cpp).
    void write_pending();
    void commit_failed(const std::string& what);
    void count_drop(const char* reason, std::uint64_t n);
    void count_dead_letters();
    std::uint64_t evict_oldest(const char* table, std::size_t rows, std::uint64_t& bytes);
    void delete_record(std::int64_t id, std::uint64_t& count, std::uint64_t& bytes);
};

}  // namespace fieldgate::store
