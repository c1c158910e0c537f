#include "fieldgate/store/sqlite_store.hpp"

#include <algorithm>
#include <ctime>
#include <string_view>

#include "fieldgate/util/log.hpp"
#include "sqlite_support.hpp"

namespace fieldgate::store {

using namespace sqlite_support;

namespace {

// Record ids are AUTOINCREMENT: the uplink reads by id cursor, and a plain rowid would hand
// a deleted newest id to the next insert, behind the cursor, never to be sent.
// Bump with a migration step in SqliteStore's constructor whenever the schema changes.
constexpr int kSchemaVersion = 1;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS records(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  device TEXT NOT NULL,
  time_ms INTEGER NOT NULL,
  body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS drops(
  reason TEXT PRIMARY KEY,
  count INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS dead_letters(
  id INTEGER PRIMARY KEY,
  record_id INTEGER NOT NULL,
  device TEXT NOT NULL,
  time_ms INTEGER NOT NULL,
  reason TEXT NOT NULL,
  code INTEGER NOT NULL,
  dead_ms INTEGER NOT NULL,
  body TEXT NOT NULL);
)sql";

}  // namespace

struct SqliteStore::Statements {
    StmtPtr insert, fetch, first_at, last_id, remove, move_dead;
};

SqliteStore::SqliteStore(const config::Store& cfg) : st_(std::make_unique<Statements>()), cfg_(cfg) {
    const int rc = sqlite3_open_v2(cfg_.path.c_str(), &db_,
                                   SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
        const std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
        sqlite3_close(db_);
        db_ = nullptr;
        throw StoreError("store " + cfg_.path + ": cannot open: " + msg);
    }
    try {
        sqlite3_busy_timeout(db_, 5000);
        exec("PRAGMA journal_mode=WAL");
        exec(cfg_.durability == config::Durability::Full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
        // A small page cache keeps the daemon's RSS low; the access pattern is append at one end
        // and read-delete at the other, which needs few hot pages.
        exec("PRAGMA cache_size=-1024");
        exec("PRAGMA foreign_keys=OFF");
        // The WAL counts against the disk too: checkpoint and trim it at a sixteenth of max_bytes
        // (at most SQLite's default of 1000 pages), so database + WAL stay near the bound.
        const std::uint64_t wal_pages = std::clamp<std::uint64_t>(cfg_.max_bytes / 16 / 4096, 16, 1000);
        exec(("PRAGMA wal_autocheckpoint=" + std::to_string(wal_pages)).c_str());
        exec(("PRAGMA journal_size_limit=" + std::to_string(wal_pages * 4096)).c_str());
        exec(kSchema);
        exec(("PRAGMA user_version=" + std::to_string(kSchemaVersion)).c_str());

        auto prepare = [this](const char* sql) {
            sqlite3_stmt* s = nullptr;
            const int prc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr);
            if (prc != SQLITE_OK) fail(std::string("prepare ") + sql, prc);
            return StmtPtr(s);
        };
        st_->insert = prepare("INSERT INTO records(device, time_ms, body) VALUES(?1, ?2, ?3)");
        st_->fetch =
            prepare("SELECT id, device, time_ms, body FROM records WHERE id > ?1 AND id < ?2 ORDER BY id LIMIT ?3");
        st_->first_at = prepare("SELECT id FROM records WHERE time_ms >= ?1 ORDER BY id LIMIT 1");
        st_->last_id = prepare("SELECT max(id) FROM records");
        st_->remove = prepare("DELETE FROM records WHERE id = ?1 RETURNING length(body)");
        st_->move_dead = prepare(
            "INSERT INTO dead_letters(record_id, device, time_ms, reason, code, dead_ms, body) "
            "SELECT id, device, time_ms, ?2, ?3, ?4, body FROM records WHERE id = ?1");

        sqlite3_stmt* page = nullptr;
        if (sqlite3_prepare_v2(db_, "PRAGMA page_size", -1, &page, nullptr) == SQLITE_OK &&
            sqlite3_step(page) == SQLITE_ROW)
            page_size_ = sqlite3_column_int64(page, 0);
        sqlite3_finalize(page);

        count_dead_letters();
        sqlite3_stmt* count = nullptr;
        if (sqlite3_prepare_v2(db_, "SELECT count(*), coalesce(sum(length(body)), 0) FROM records", -1, &count,
                               nullptr) == SQLITE_OK &&
            sqlite3_step(count) == SQLITE_ROW) {
            records_ = static_cast<std::uint64_t>(sqlite3_column_int64(count, 0));
            bytes_ = static_cast<std::uint64_t>(sqlite3_column_int64(count, 1));
        }
        sqlite3_finalize(count);
    } catch (...) {
        st_.reset();
        sqlite3_close(db_);
        db_ = nullptr;
        throw;
    }
}

SqliteStore::~SqliteStore() {
    st_.reset();  // statements first: sqlite3_close refuses while any is open
    if (db_) sqlite3_close(db_);
}

void SqliteStore::fail(const std::string& what, int rc) const {
    throw StoreError("store " + cfg_.path + ": " + what + ": " + (db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc)));
}

void SqliteStore::exec(const char* sql) {
    char* err = nullptr;
    const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
        const std::string msg = err ? err : sqlite3_errstr(rc);
        sqlite3_free(err);
        throw StoreError("store " + cfg_.path + ": " + msg);
    }
}

void SqliteStore::append(NewRecord record) {
    if (pending_.size() >= kMaxPending) {
        ++dropped_pending_;
        return;
    }
    pending_.push_back(std::move(record));
}

std::size_t SqliteStore::commit() {
    if (dropped_pending_ > 0) {
        util::log_error("store " + cfg_.path + ": commits keep failing; " + std::to_string(dropped_pending_) +
                        " readings dropped beyond the " + std::to_string(kMaxPending) + " waiting in memory");
        count_drop("commit_failing", dropped_pending_);
        dropped_pending_ = 0;
    }
    if (pending_.empty()) return 0;
    if (cfg_.overflow == config::Overflow::DropNewest && used_bytes() >= cfg_.max_bytes) {
        // drop_newest: what is stored stays; what arrives while the store is full does not.
        if (full_log_.allow(now_wall_ms()))
            util::log_warning("store " + cfg_.path + ": full (max_bytes " + std::to_string(cfg_.max_bytes) +
                              ", overflow = drop_newest); dropping new readings until the uplink frees space");
        count_drop("store_full", pending_.size());
        pending_.clear();
        return 0;
    }
    Transaction tx(db_);
    if (!tx.begun()) {
        util::log_error("store " + cfg_.path + ": cannot begin a transaction: " + sqlite3_errmsg(db_));
        return 0;
    }
    std::uint64_t bytes = 0;
    sqlite3_stmt* s = st_->insert.get();
    for (const auto& r : pending_) {
        Reset reset(s);
        bind_text(s, 1, r.device);
        sqlite3_bind_int64(s, 2, r.time_ms);
        bind_text(s, 3, r.body);
        const int rc = sqlite3_step(s);
        if (rc != SQLITE_DONE) {
            util::log_error("store " + cfg_.path + ": insert failed: " + sqlite3_errmsg(db_) + "; " +
                            std::to_string(pending_.size()) + " readings kept in memory for the next commit");
            return 0;
        }
        bytes += r.body.size();
    }
    const int rc = tx.commit();
    if (rc != SQLITE_OK) {
        util::log_error("store " + cfg_.path + ": commit failed: " + sqlite3_errmsg(db_));
        return 0;
    }
    const std::size_t n = pending_.size();
    records_ += n;
    bytes_ += bytes;
    pending_.clear();
    return n;
}

std::vector<Record> SqliteStore::fetch(const FetchRange& range) {
    std::vector<Record> out;
    sqlite3_stmt* s = st_->fetch.get();
    Reset reset(s);
    sqlite3_bind_int64(s, 1, range.after_id);
    sqlite3_bind_int64(s, 2, range.before_id);
    sqlite3_bind_int64(s, 3, static_cast<sqlite3_int64>(range.max_records));
    std::size_t bytes = 0;
    while (sqlite3_step(s) == SQLITE_ROW) {
        const auto len = static_cast<std::size_t>(sqlite3_column_bytes(s, 3));
        if (!out.empty() && bytes + len > range.max_bytes) break;
        Record r;
        r.id = sqlite3_column_int64(s, 0);
        r.device = column_text(s, 1);
        r.time_ms = sqlite3_column_int64(s, 2);
        r.body = column_text(s, 3);
        bytes += len;
        out.push_back(std::move(r));
    }
    return out;
}

std::int64_t SqliteStore::first_id_at_or_after(std::int64_t time_ms) {
    sqlite3_stmt* s = st_->first_at.get();
    Reset reset(s);
    sqlite3_bind_int64(s, 1, time_ms);
    return sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
}

std::int64_t SqliteStore::last_id() {
    sqlite3_stmt* s = st_->last_id.get();
    Reset reset(s);
    return sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
}

bool SqliteStore::delete_record(std::int64_t id, std::uint64_t& count, std::uint64_t& bytes) {
    // A RETURNING statement must be stepped to SQLITE_DONE: reset earlier, it is rolled back.
    sqlite3_stmt* s = st_->remove.get();
    Reset reset(s);
    sqlite3_bind_int64(s, 1, id);
    int rc = SQLITE_ROW;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        ++count;
        bytes += static_cast<std::uint64_t>(sqlite3_column_int64(s, 0));
    }
    if (rc != SQLITE_DONE) {
        util::log_error("store " + cfg_.path + ": delete failed: " + sqlite3_errmsg(db_));
        return false;
    }
    return true;
}

void SqliteStore::remove(const std::vector<std::int64_t>& ids) {
    if (ids.empty()) return;
    Transaction tx(db_);
    if (!tx.begun()) {
        util::log_error("store " + cfg_.path + ": cannot begin a transaction: " + sqlite3_errmsg(db_));
        return;
    }
    std::uint64_t n = 0;
    std::uint64_t bytes = 0;
    for (auto id : ids) {
        if (!delete_record(id, n, bytes)) return;
    }
    if (tx.commit() != SQLITE_OK) {
        // The records stay and will be sent again: a duplicate in the cloud, never a loss.
        util::log_error("store " + cfg_.path + ": delete failed: " + sqlite3_errmsg(db_));
        return;
    }
    records_ -= std::min(records_, n);
    bytes_ -= std::min(bytes_, bytes);
}

void SqliteStore::dead_letter(const std::vector<std::int64_t>& ids, const std::string& reason, int code) {
    if (ids.empty()) return;
    Transaction tx(db_);
    if (!tx.begun()) {
        util::log_error("store " + cfg_.path + ": cannot begin a transaction: " + sqlite3_errmsg(db_));
        return;
    }
    const std::int64_t now = now_wall_ms();
    std::uint64_t n = 0;
    std::uint64_t bytes = 0;
    for (auto id : ids) {
        sqlite3_stmt* m = st_->move_dead.get();
        {
            Reset reset(m);
            sqlite3_bind_int64(m, 1, id);
            bind_text(m, 2, reason);
            sqlite3_bind_int(m, 3, code);
            sqlite3_bind_int64(m, 4, now);
            if (sqlite3_step(m) != SQLITE_DONE) {
                util::log_error("store " + cfg_.path + ": dead-letter failed: " + sqlite3_errmsg(db_));
                return;
            }
        }
        if (!delete_record(id, n, bytes)) return;
    }
    if (tx.commit() != SQLITE_OK) {
        util::log_error("store " + cfg_.path + ": dead-letter commit failed: " + sqlite3_errmsg(db_));
        return;
    }
    records_ -= std::min(records_, n);
    bytes_ -= std::min(bytes_, bytes);
    dead_counts_[reason] += n;
}

void SqliteStore::count_dead_letters() {
    // Counted once here and kept up to date in memory: status runs every few seconds, and a
    // GROUP BY over a large dead-letter table each time would cost a scan.
    dead_counts_.clear();
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, "SELECT reason, count(*) FROM dead_letters GROUP BY reason", -1, &s, nullptr) ==
        SQLITE_OK)
        while (sqlite3_step(s) == SQLITE_ROW)
            dead_counts_[column_text(s, 0)] = static_cast<std::uint64_t>(sqlite3_column_int64(s, 1));
    sqlite3_finalize(s);
}

StoreStats SqliteStore::stats() {
    StoreStats st;
    st.records = records_;
    st.bytes = bytes_;
    st.pending = pending_.size();
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, "SELECT time_ms FROM records ORDER BY id LIMIT 1", -1, &s, nullptr) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
        st.oldest_ms = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    s = nullptr;
    for (const auto& [reason, n] : dead_counts_)
        if (n > 0) st.dead_letters[reason] = n;
    if (sqlite3_prepare_v2(db_, "SELECT reason, count FROM drops", -1, &s, nullptr) == SQLITE_OK)
        while (sqlite3_step(s) == SQLITE_ROW)
            st.dropped[column_text(s, 0)] = static_cast<std::uint64_t>(sqlite3_column_int64(s, 1));
    sqlite3_finalize(s);
    s = nullptr;
    if (sqlite3_prepare_v2(db_, "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()", -1, &s,
                           nullptr) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
        st.file_bytes = static_cast<std::uint64_t>(sqlite3_column_int64(s, 0));
    sqlite3_finalize(s);
    return st;
}

std::vector<DeadLetter> SqliteStore::dead_letters(std::size_t limit) {
    std::vector<DeadLetter> out;
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_,
                           "SELECT record_id, device, time_ms, reason, code, dead_ms, body FROM dead_letters "
                           "ORDER BY id LIMIT ?1",
                           -1, &s, nullptr) != SQLITE_OK)
        return out;
    sqlite3_bind_int64(s, 1, static_cast<sqlite3_int64>(limit));
    while (sqlite3_step(s) == SQLITE_ROW) {
        DeadLetter d;
        d.id = sqlite3_column_int64(s, 0);
        d.device = column_text(s, 1);
        d.time_ms = sqlite3_column_int64(s, 2);
        d.reason = column_text(s, 3);
        d.code = sqlite3_column_int(s, 4);
        d.dead_ms = sqlite3_column_int64(s, 5);
        d.body = column_text(s, 6);
        out.push_back(std::move(d));
    }
    sqlite3_finalize(s);
    return out;
}

}  // namespace fieldgate::store
