#pragma once
#include <sqlite3.h>

#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "fieldgate/config/config.hpp"
#include "fieldgate/store/record.hpp"
#include "fieldgate/util/log.hpp"

namespace fieldgate::store {

/// A failure to open or to use the database that the daemon cannot work around.
class StoreError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

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
class SqliteStore final : public RecordStore {
public:
    /// Opens (creating if needed) the database and applies the schema. Throws StoreError.
    explicit SqliteStore(const config::Store& cfg);
    ~SqliteStore() override;
    SqliteStore(const SqliteStore&) = delete;
    SqliteStore& operator=(const SqliteStore&) = delete;

    /// Queues a record for the next commit. While commits fail (disk full, I/O error) at most
    /// kMaxPending readings wait in memory; beyond that the reading is dropped and counted
    /// ("commit_failing"), so a broken disk cannot exhaust the memory too.
    void append(NewRecord record);
    /// Writes every queued record in one transaction. Returns how many were written; on a
    /// failure (disk full, I/O error) keeps them queued, logs, and returns 0. With
    /// overflow = drop_newest and the store at max_bytes, the queued readings are dropped and
    /// counted ("store_full") instead.
    std::size_t commit();
    std::size_t pending() const { return pending_.size(); }

    std::vector<Record> fetch(const FetchRange& range) override;
    std::int64_t first_id_at_or_after(std::int64_t time_ms) override;
    std::int64_t last_id() override;
    void remove(const std::vector<std::int64_t>& ids) override;
    void dead_letter(const std::vector<std::int64_t>& ids, const std::string& reason, int code) override;

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

private:
    struct Statements;
    sqlite3* db_ = nullptr;
    std::unique_ptr<Statements> st_;
    config::Store cfg_;
    std::vector<NewRecord> pending_;
    std::uint64_t records_ = 0;
    std::uint64_t bytes_ = 0;

    std::int64_t page_size_ = 4096;
    std::uint64_t dropped_pending_ = 0;
    std::map<std::string, std::uint64_t> dead_counts_;  ///< dead letters by reason
    util::RateLimit full_log_{60'000};

    void exec(const char* sql);
    void count_drop(const char* reason, std::uint64_t n);
    void count_dead_letters();
    std::uint64_t evict_oldest(const char* table, std::size_t rows, std::uint64_t& bytes);
    bool delete_record(std::int64_t id, std::uint64_t& count, std::uint64_t& bytes);
    [[noreturn]] void fail(const std::string& what, int rc) const;
};

}  // namespace fieldgate::store
