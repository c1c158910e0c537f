// The store's bounds: max_age (records too old to be worth sending) and max_bytes (the size
// of the database on a small SD card), with the overflow policy.
#include <algorithm>
#include <string>

#include "fieldgate/store/sqlite_store.hpp"
#include "fieldgate/util/log.hpp"
#include "fieldgate/util/units.hpp"
#include "sqlite_support.hpp"

namespace fieldgate::store {

using namespace sqlite_support;

namespace {

// Rows deleted per round while evicting: a fiftieth of what is stored, so a round frees about
// 2 % of the store (never everything on a small one), and at most 1000 to keep a commit short.
std::size_t evict_chunk(std::uint64_t rows) {
    return static_cast<std::size_t>(std::clamp<std::uint64_t>(rows / 50, 1, 1000));
}

std::int64_t query_int(sqlite3* db, const char* sql) {
    sqlite3_stmt* s = nullptr;
    std::int64_t v = 0;
    if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

}  // namespace

void SqliteStore::count_drop(const char* reason, std::uint64_t n) {
    if (n == 0) return;
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_,
                           "INSERT INTO drops(reason, count) VALUES(?1, ?2) "
                           "ON CONFLICT(reason) DO UPDATE SET count = count + excluded.count",
                           -1, &s, nullptr) == SQLITE_OK) {
        sqlite3_bind_text(s, 1, reason, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 2, static_cast<sqlite3_int64>(n));
        sqlite3_step(s);
    }
    sqlite3_finalize(s);
}

std::uint64_t SqliteStore::used_bytes() {
    const std::int64_t pages = query_int(db_, "PRAGMA page_count") - query_int(db_, "PRAGMA freelist_count");
    return static_cast<std::uint64_t>(std::max<std::int64_t>(0, pages) * page_size_);
}

std::uint64_t SqliteStore::expire(std::int64_t now_ms) {
    const std::int64_t cutoff = now_ms - cfg_.max_age_ms;
    Transaction tx(db_);
    if (!tx.begun()) return 0;
    // A full scan: records are not indexed by time (an index would cost every insert), and a
    // sweep runs every few minutes.
    sqlite3_stmt* s = nullptr;
    std::uint64_t n = 0;
    std::uint64_t bytes = 0;
    if (sqlite3_prepare_v2(db_, "SELECT count(*), coalesce(sum(length(body)), 0) FROM records WHERE time_ms < ?1", -1,
                           &s, nullptr) == SQLITE_OK) {
        sqlite3_bind_int64(s, 1, cutoff);
        if (sqlite3_step(s) == SQLITE_ROW) {
            n = static_cast<std::uint64_t>(sqlite3_column_int64(s, 0));
            bytes = static_cast<std::uint64_t>(sqlite3_column_int64(s, 1));
        }
    }
    sqlite3_finalize(s);
    std::uint64_t expired_dead = 0;
    auto run = [this, cutoff](const char* sql, std::int64_t now) {
        sqlite3_stmt* st = nullptr;
        bool ok = sqlite3_prepare_v2(db_, sql, -1, &st, nullptr) == SQLITE_OK;
        if (ok) {
            sqlite3_bind_int64(st, 1, cutoff);
            if (sqlite3_bind_parameter_count(st) >= 2) sqlite3_bind_int64(st, 2, now);
            ok = sqlite3_step(st) == SQLITE_DONE;
        }
        sqlite3_finalize(st);
        return ok;
    };
    const std::int64_t now = now_wall_ms();
    if (!run("DELETE FROM dead_letters WHERE time_ms < ?1", now)) return 0;
    expired_dead = static_cast<std::uint64_t>(sqlite3_changes(db_));
    if (n > 0 && (!run("INSERT INTO dead_letters(record_id, device, time_ms, reason, code, dead_ms, body) "
                       "SELECT id, device, time_ms, 'max_age', 0, ?2, body FROM records WHERE time_ms < ?1",
                       now) ||
                  !run("DELETE FROM records WHERE time_ms < ?1", now)))
        return 0;
    count_drop("dead_letter_expired", expired_dead);
    if (tx.commit() != SQLITE_OK) {
        util::log_error("store " + cfg_.path + ": expiring old records failed: " + sqlite3_errmsg(db_));
        return 0;
    }
    records_ -= std::min(records_, n);
    bytes_ -= std::min(bytes_, bytes);
    if (n > 0 || expired_dead > 0) count_dead_letters();
    if (n > 0)
        util::log_warning("store " + cfg_.path + ": " + std::to_string(n) + " records older than max_age (" +
                          util::format_duration_ms(cfg_.max_age_ms) + ") moved to the dead letters");
    return n;
}

std::uint64_t SqliteStore::evict_oldest(const char* table, std::size_t rows, std::uint64_t& bytes) {
    const std::string sql = std::string("DELETE FROM ") + table + " WHERE id IN (SELECT id FROM " + table +
                            " ORDER BY id LIMIT ?1) RETURNING length(body)";
    sqlite3_stmt* s = nullptr;
    std::uint64_t n = 0;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr) != SQLITE_OK) return 0;
    sqlite3_bind_int64(s, 1, static_cast<sqlite3_int64>(rows));
    while (sqlite3_step(s) == SQLITE_ROW) {  // a RETURNING statement runs to SQLITE_DONE
        ++n;
        bytes += static_cast<std::uint64_t>(sqlite3_column_int64(s, 0));
    }
    sqlite3_finalize(s);
    return n;
}

std::uint64_t SqliteStore::enforce_max_bytes() {
    if (cfg_.overflow != config::Overflow::DropOldest || used_bytes() <= cfg_.max_bytes) return 0;
    const std::uint64_t target = cfg_.max_bytes / 20 * 19;
    std::uint64_t evicted = 0;
    std::uint64_t evicted_bytes = 0;
    std::uint64_t dead_evicted = 0;
    while (used_bytes() > target) {
        Transaction tx(db_);
        if (!tx.begun()) break;
        std::uint64_t bytes = 0;
        // Dead letters go first: they were already given up on.
        const auto dead = static_cast<std::uint64_t>(query_int(db_, "SELECT count(*) FROM dead_letters"));
        std::uint64_t n = dead > 0 ? evict_oldest("dead_letters", evict_chunk(dead), bytes) : 0;
        dead_evicted += n;
        if (n == 0) {
            n = evict_oldest("records", evict_chunk(records_ - std::min(records_, evicted)), bytes);
            evicted += n;
            evicted_bytes += bytes;
        }
        if (n == 0 || tx.commit() != SQLITE_OK) break;  // nothing left to evict, or the disk refuses
    }
    count_drop("dead_letter_evicted", dead_evicted);
    if (dead_evicted > 0) count_dead_letters();
    count_drop("evicted", evicted);
    records_ -= std::min(records_, evicted);
    bytes_ -= std::min(bytes_, evicted_bytes);
    if (evicted > 0 || dead_evicted > 0)
        util::log_warning("store " + cfg_.path + ": at max_bytes (" + std::to_string(cfg_.max_bytes) +
                          "); evicted the oldest " + std::to_string(evicted) + " records and " +
                          std::to_string(dead_evicted) + " dead letters (overflow = drop_oldest)");
    return evicted;
}

}  // namespace fieldgate::store
