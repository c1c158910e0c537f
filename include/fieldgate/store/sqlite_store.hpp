#pragma once
#include <sqlite3.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "fieldgate/config/config.hpp"
#include "fieldgate/store/record.hpp"

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

    /// Queues a record for the next commit.
    void append(NewRecord record);
    /// Writes every queued record in one transaction. Returns how many were written; on a
    /// failure (disk full, I/O error) keeps them queued, logs, and returns 0.
    std::size_t commit();
    std::size_t pending() const { return pending_.size(); }

    std::vector<Record> fetch(const FetchRange& range) override;
    std::int64_t first_id_at_or_after(std::int64_t time_ms) override;
    std::int64_t last_id() override;
    void remove(const std::vector<std::int64_t>& ids) override;
    void dead_letter(const std::vector<std::int64_t>& ids, const std::string& reason, int code) override;

    StoreStats stats();
    std::vector<DeadLetter> dead_letters(std::size_t limit);

private:
    struct Statements;
    sqlite3* db_ = nullptr;
    std::unique_ptr<Statements> st_;
    config::Store cfg_;
    std::vector<NewRecord> pending_;
    std::uint64_t records_ = 0;
    std::uint64_t bytes_ = 0;

    void exec(const char* sql);
    bool delete_record(std::int64_t id, std::uint64_t& count, std::uint64_t& bytes);
    [[noreturn]] void fail(const std::string& what, int rc) const;
};

}  // namespace fieldgate::store
