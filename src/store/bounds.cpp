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

}  // namespace

void SqliteStore::count_drop(const char* reason, std::uint64_t n) {
    // Inside the caller's transaction: the counter lands with the deletion it counts, or not at all.
    if (n == 0) return;
    Stmt& s = st_->add_drop;
    Stmt::Scope use(s);
    s.bind(1, std::string_view(reason)).bind(2, static_cast<std::int64_t>(n)).run();
}

std::uint64_t SqliteStore::used_bytes() {
    const std::int64_t pages = query_int(db_, "PRAGMA page_count") - query_int(db_, "PRAGMA freelist_count");
    return static_cast<std::uint64_t>(std::max<std::int64_t>(0, pages) * page_size_);
}

std::uint64_t SqliteStore::expire(std::int64_t now_ms) {
    if (!on_disk_) return 0;  // a read-only stand-in for the file: nothing can move
    const std::int64_t cutoff = now_ms - cfg_.max_age_ms;
    std::uint64_t n = 0;
    std::uint64_t bytes = 0;
    std::uint64_t expired_dead = 0;
    try {
        Transaction tx(db_);
        // A full scan: records are not indexed by time (an index would cost every insert), and a
        // sweep runs every few minutes.
        {
            Stmt s(db_, "SELECT count(*), coalesce(sum(length(body)), 0) FROM records WHERE time_ms < ?1");
            s.bind(1, cutoff);
            if (s.step()) {
                n = static_cast<std::uint64_t>(s.int64(0));
                bytes = static_cast<std::uint64_t>(s.int64(1));
            }
        }
        {
            Stmt s(db_, "DELETE FROM dead_letters WHERE time_ms < ?1");
            s.bind(1, cutoff).run();
            expired_dead = static_cast<std::uint64_t>(sqlite3_changes(db_));
        }
        if (n > 0) {
            Stmt move(db_,
                      "INSERT INTO dead_letters(record_id, device, time_ms, reason, code, dead_ms, body) "
                      "SELECT id, device, time_ms, 'max_age', 0, ?2, body FROM records WHERE time_ms < ?1");
            move.bind(1, cutoff).bind(2, now_wall_ms()).run();
            Stmt del(db_, "DELETE FROM records WHERE time_ms < ?1");
            del.bind(1, cutoff).run();
        }
        count_drop("dead_letter_expired", expired_dead);
        tx.commit();
        if (n > 0 || expired_dead > 0) count_dead_letters();
    } catch (const SqliteError& e) {
        util::log_error("store " + cfg_.path + ": expiring old records failed: " + e.what());
        return 0;
    }
    records_ -= std::min(records_, n);
    bytes_ -= std::min(bytes_, bytes);
    if (n > 0)
        util::log_warning("store " + cfg_.path + ": " + std::to_string(n) + " records older than max_age (" +
                          util::format_duration_ms(cfg_.max_age_ms) + ") moved to the dead letters");
    return n;
}

std::uint64_t SqliteStore::evict_oldest(const char* table, std::size_t rows, std::uint64_t& bytes) {
    const std::string sql = std::string("DELETE FROM ") + table + " WHERE id IN (SELECT id FROM " + table +
                            " ORDER BY id LIMIT ?1) RETURNING length(body)";
    Stmt s(db_, sql);
    s.bind(1, static_cast<std::int64_t>(rows));
    std::uint64_t n = 0;
    while (s.step()) {  // a RETURNING statement runs to SQLITE_DONE
        ++n;
        bytes += static_cast<std::uint64_t>(s.int64(0));
    }
    return n;
}

std::uint64_t SqliteStore::enforce_max_bytes() {
    std::uint64_t evicted = 0;
    std::uint64_t evicted_bytes = 0;
    std::uint64_t dead_evicted = 0;
    if (!on_disk_) return 0;
    try {
        if (cfg_.overflow != config::Overflow::DropOldest || used_bytes() <= cfg_.max_bytes) return 0;
        const std::uint64_t target = cfg_.max_bytes / 20 * 19;
        while (used_bytes() > target) {
            Transaction tx(db_);
            std::uint64_t bytes = 0;
            // Dead letters go first: they were already given up on.
            const auto dead = static_cast<std::uint64_t>(query_int(db_, "SELECT count(*) FROM dead_letters"));
            const std::uint64_t d = dead > 0 ? evict_oldest("dead_letters", evict_chunk(dead), bytes) : 0;
            std::uint64_t r = 0;
            if (d == 0) r = evict_oldest("records", evict_chunk(records_ - std::min(records_, evicted)), bytes);
            if (d == 0 && r == 0) break;  // nothing left to evict
            count_drop("dead_letter_evicted", d);
            count_drop("evicted", r);
            tx.commit();  // the counters move with the deletions, once they land
            dead_evicted += d;
            evicted += r;
            if (r > 0) evicted_bytes += bytes;
        }
        if (dead_evicted > 0) count_dead_letters();
    } catch (const SqliteError& e) {
        util::log_error("store " + cfg_.path + ": evicting at max_bytes failed: " + e.what());
    }
    records_ -= std::min(records_, evicted);
    bytes_ -= std::min(bytes_, evicted_bytes);
    if (evicted > 0 || dead_evicted > 0)
        util::log_warning("store " + cfg_.path + ": at max_bytes (" + std::to_string(cfg_.max_bytes) +
                          "); evicted the oldest " + std::to_string(evicted) + " records and " +
                          std::to_string(dead_evicted) + " dead letters (overflow = drop_oldest)");
    return evicted;
}

}  // namespace fieldgate::store
