#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace fieldgate::store {

/// A failure to open or to use the database (a read or write that SQLite refused).
class StoreError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// One device at one acquisition time. `body` is the batch element text (see
/// enos::encode_record), kept compact so a batch is built by concatenation.
struct Record {
    std::int64_t id = 0;  ///< insertion order; oldest first
    std::string device;   ///< the [device.*] name
    std::int64_t time_ms = 0;
    std::string body;
};

struct NewRecord {
    std::string device;
    std::int64_t time_ms = 0;
    std::string body;
};

/// Which records a fetch may return: ids in (after_id, before_id), oldest first, at most
/// max_records of them and at most max_bytes of bodies (always at least one record when any).
struct FetchRange {
    std::int64_t after_id = 0;
    std::int64_t before_id = INT64_MAX;
    std::size_t max_records = 1000;
    std::size_t max_bytes = std::size_t{256} * 1024;
};

struct StoreStats {
    std::uint64_t records = 0;
    std::uint64_t bytes = 0;                            ///< bytes of record bodies
    std::uint64_t file_bytes = 0;                       ///< the database file (pages in use and free)
    std::int64_t oldest_ms = 0;                         ///< 0 when empty
    std::uint64_t pending = 0;                          ///< appended, not yet committed
    std::map<std::string, std::uint64_t> dead_letters;  ///< by reason
    std::map<std::string, std::uint64_t> dropped;       ///< deleted without a dead letter, by reason
    bool memory_mode = false;                           ///< readings cannot be committed: served from memory
    std::string write_error;                            ///< the last failed commit's error; empty once one lands
    std::vector<std::string> quarantined;               ///< damaged store files moved aside at start
};

/// What the uplink needs of the store; a fake implements it in unit tests.
class RecordStore {
public:
    virtual ~RecordStore() = default;
    /// Throws StoreError when the records cannot be read (never mistakes that for the end).
    virtual std::vector<Record> fetch(const FetchRange& range) = 0;
    /// The first committed record id whose time is at or after `time_ms` (by id order); 0 if none.
    virtual std::int64_t first_id_at_or_after(std::int64_t time_ms) = 0;
    /// The highest committed id (0 when empty).
    virtual std::int64_t last_id() = 0;
    /// Deletes records the cloud has confirmed, in one transaction. False when the store could
    /// not write that: the records are still there, not yet done (the caller tries again later).
    [[nodiscard]] virtual bool remove(const std::vector<std::int64_t>& ids) = 0;
    /// Moves records to the dead-letter table with a reason ("code_1204", "max_age", ...).
    /// False when the store could not write that: the records stay, not yet done.
    [[nodiscard]] virtual bool dead_letter(const std::vector<std::int64_t>& ids, const std::string& reason,
                                           int code) = 0;
};

}  // namespace fieldgate::store
