#include "fieldgate/store/sqlite_store.hpp"

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string_view>

#include "fieldgate/util/log.hpp"
#include "sqlite_support.hpp"

namespace fieldgate::store {

using namespace sqlite_support;

namespace {

// Record ids are AUTOINCREMENT: the uplink reads by id cursor, and a plain rowid would hand
// a deleted newest id to the next insert, behind the cursor, never to be sent. The store gives
// each reading its id when it is appended (so one sent from memory keeps it when it is
// committed later) and inserts it explicitly.
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

// Commits that fail are tried again after 1 s, doubling up to this.
constexpr std::int64_t kRetryMaxMs = 4000;
// Rows read per transaction when carrying records over from a damaged file.
constexpr std::int64_t kCarryChunk = 1000;

bool exists(const std::string& path) {
    return ::access(path.c_str(), F_OK) == 0;
}

std::string dir_of(const std::string& path) {
    const auto slash = path.rfind('/');
    return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}

// True when the medium under `path` refuses writes (read-only mount, I/O errors), as opposed
// to a path that is simply wrong (missing parent, no permission).
bool medium_refuses_writes(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd >= 0) {
        ::close(fd);
    } else if (errno == EROFS || errno == EIO) {
        return true;
    }
    struct statvfs sv {};
    return ::statvfs(dir_of(path).c_str(), &sv) == 0 && (sv.f_flag & ST_RDONLY) != 0;
}

bool damaged_code(int rc) {
    const int primary = rc & 0xff;
    return primary == SQLITE_NOTADB || primary == SQLITE_CORRUPT;
}

bool unwritable_code(int rc) {
    const int primary = rc & 0xff;
    return primary == SQLITE_FULL || primary == SQLITE_IOERR || primary == SQLITE_READONLY;
}

std::string utc_stamp() {
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
    return buf;
}

// A file name as an SQLite URI path ('%', '?' and '#' escaped).
std::string uri_of(const std::string& path, const char* params) {
    std::string out = "file:";
    for (char c : path) {
        if (c == '%' || c == '?' || c == '#') {
            char buf[4];
            std::snprintf(buf, sizeof buf, "%%%02X", static_cast<unsigned char>(c));
            out += buf;
        } else {
            out += c;
        }
    }
    return out + "?" + params;
}

struct Db {
    sqlite3* db = nullptr;
    ~Db() { sqlite3_close(db); }
};

}  // namespace

SqliteStore::SqliteStore(const config::Store& cfg) : st_(std::make_unique<Statements>()), cfg_(cfg) {
    std::string why;
    switch (open_file(why)) {
        case Opened::Ok:
            break;
        case Opened::Damaged:
            quarantine(why);
            break;
        case Opened::Unwritable:
            util::log_error("store " + cfg_.path + ": the medium refuses writes (" + why +
                            "); running in MEMORY MODE: readings are not durable, they wait in memory (at most " +
                            std::to_string(max_pending_) + ") and go to the cloud from there; retrying the store");
            open_memory(true);
            memory_mode_ = true;
            write_error_ = why;
            break;
    }
}

SqliteStore::~SqliteStore() {
    if (!pending_.empty() || !pending_dead_.empty()) {
        retry_at_mono_ = 0;  // a last try, whatever the back-off
        commit();
        if (!pending_.empty())
            util::log_error("store " + cfg_.path + ": " + std::to_string(pending_.size()) +
                            " readings could not be committed (" + write_error_ + ") and are lost");
    }
    close();
}

void SqliteStore::close() {
    *st_ = Statements{};  // statements first: sqlite3_close refuses while any is open
    if (db_) sqlite3_close(db_);
    db_ = nullptr;
}

SqliteStore::Opened SqliteStore::open_file(std::string& why) {
    close();
    const int rc = sqlite3_open_v2(cfg_.path.c_str(), &db_,
                                   SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (db_) sqlite3_extended_result_codes(db_, 1);
    try {
        check(rc, db_, "open");
        sqlite3_busy_timeout(db_, 5000);
        exec(db_, "PRAGMA journal_mode=WAL");
        exec(db_,
             cfg_.durability == config::Durability::Full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
        // A small page cache keeps the daemon's RSS low; the access pattern is append at one end
        // and read-delete at the other, which needs few hot pages.
        exec(db_, "PRAGMA cache_size=-1024");
        exec(db_, "PRAGMA foreign_keys=OFF");
        // The WAL counts against the disk too: checkpoint and trim it at a sixteenth of max_bytes
        // (at most SQLite's default of 1000 pages), so database + WAL stay near the bound.
        const std::uint64_t wal_pages = std::clamp<std::uint64_t>(cfg_.max_bytes / 16 / 4096, 16, 1000);
        exec(db_, "PRAGMA wal_autocheckpoint=" + std::to_string(wal_pages));
        exec(db_, "PRAGMA journal_size_limit=" + std::to_string(wal_pages * 4096));
        std::string verdict;
        {
            Stmt q(db_, "PRAGMA quick_check(1)");
            verdict = q.step() ? q.text(0) : std::string("no answer");
        }  // finalized before close(): sqlite3_close refuses (and leaks the connection) while a statement is open
        if (verdict != "ok") {
            why = "quick_check: " + verdict;
            close();
            return Opened::Damaged;
        }
        exec(db_, kSchema);
        exec(db_, "PRAGMA user_version=" + std::to_string(kSchemaVersion));
        prepare();
        return Opened::Ok;
    } catch (const SqliteError& e) {
        why = e.what();
        close();
        if (damaged_code(e.rc())) return Opened::Damaged;
        if (medium_refuses_writes(cfg_.path) || ((e.rc() & 0xff) != SQLITE_READONLY && unwritable_code(e.rc())))
            return Opened::Unwritable;
        throw StoreError("store " + cfg_.path + ": cannot open: " + why);
    }
}

void SqliteStore::open_memory(bool read_file) {
    on_disk_ = false;
    // The store file cannot be written. If it can still be read, it stands in read-only: its
    // records are sent (the cloud's confirmations cannot delete them until it can be written)
    // and new readings wait in memory with ids that continue the file's.
    if (read_file) {
        for (const char* params : {"mode=ro", "immutable=1"}) {
            if (sqlite3_open_v2(uri_of(cfg_.path, params).c_str(), &db_,
                                SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, nullptr) == SQLITE_OK) {
                sqlite3_extended_result_codes(db_, 1);
                try {
                    query_int(db_, "SELECT count(*) FROM records");
                    prepare();
                    util::log_error("store " + cfg_.path + ": read-only; its " + std::to_string(records_) +
                                    " records are sent from it, and stay in it until it can be written");
                    return;
                } catch (const SqliteError&) {
                }
            }
            close();
        }
    }
    // Not readable either (or damaged): an empty in-memory database stands in for it, so every
    // query works; commit() keeps trying the file.
    check(sqlite3_open_v2(":memory:", &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr),
          db_, "open memory");
    sqlite3_extended_result_codes(db_, 1);
    exec(db_, kSchema);
    prepare();
}

void SqliteStore::prepare() {
    st_->insert = Stmt(db_, "INSERT INTO records(id, device, time_ms, body) VALUES(?1, ?2, ?3, ?4)", true);
    st_->fetch =
        Stmt(db_, "SELECT id, device, time_ms, body FROM records WHERE id > ?1 AND id < ?2 ORDER BY id LIMIT ?3", true);
    st_->first_at = Stmt(db_, "SELECT id FROM records WHERE time_ms >= ?1 ORDER BY id LIMIT 1", true);
    st_->last_id = Stmt(db_, "SELECT max(id) FROM records", true);
    st_->remove = Stmt(db_, "DELETE FROM records WHERE id = ?1 RETURNING length(body)", true);
    st_->move_dead = Stmt(db_,
                          "INSERT INTO dead_letters(record_id, device, time_ms, reason, code, dead_ms, body) "
                          "SELECT id, device, time_ms, ?2, ?3, ?4, body FROM records WHERE id = ?1",
                          true);
    st_->insert_dead = Stmt(db_,
                            "INSERT INTO dead_letters(record_id, device, time_ms, reason, code, dead_ms, body) "
                            "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                            true);
    st_->add_drop = Stmt(db_,
                         "INSERT INTO drops(reason, count) VALUES(?1, ?2) "
                         "ON CONFLICT(reason) DO UPDATE SET count = count + excluded.count",
                         true);
    page_size_ = query_int(db_, "PRAGMA page_size");
    count_dead_letters();
    Stmt count(db_, "SELECT count(*), coalesce(sum(length(body)), 0) FROM records");
    if (count.step()) {
        records_ = static_cast<std::uint64_t>(count.int64(0));
        bytes_ = static_cast<std::uint64_t>(count.int64(1));
    }
    const std::int64_t next = query_int(db_,
                                        "SELECT max(coalesce((SELECT max(id) FROM records), 0), "
                                        "coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'records'), 0))") +
                              1;
    disk_next_id_ = next;
    next_id_ = std::max(next_id_, next);
}

void SqliteStore::quarantine(const std::string& why) {
    // Moved aside, never deleted: the file may still hold what matters to someone.
    std::string base = cfg_.path + ".damaged-" + utc_stamp();
    for (int n = 1; exists(base) || exists(base + "-wal"); ++n)
        base = cfg_.path + ".damaged-" + utc_stamp() + "." + std::to_string(n);
    std::vector<std::string> moved;
    for (const char* suffix : {"", "-wal", "-shm"}) {
        const std::string from = cfg_.path + suffix;
        if (!exists(from)) continue;
        if (::rename(from.c_str(), (base + suffix).c_str()) != 0) {
            const int err = errno;
            if (err == EROFS || err == EIO) {
                util::log_error("store " + cfg_.path + " is damaged (" + why +
                                ") and cannot be moved aside on a medium that refuses writes; running in MEMORY MODE");
                open_memory(false);
                memory_mode_ = true;
                write_error_ = "damaged store on a read-only medium";
                quarantined_ = moved;
                return;
            }
            std::string msg = "store " + cfg_.path + " is damaged (" + why + ") and cannot be moved aside to ";
            msg += base;
            msg += suffix;
            msg += ": ";
            msg += std::strerror(err);
            throw StoreError(msg);
        }
        moved.push_back(base + suffix);
    }
    quarantined_ = moved;
    util::log_error("store " + cfg_.path + " is damaged (" + why + "); moved aside to " + base +
                    " (kept, never deleted); starting a fresh store");
    std::string why_fresh;
    switch (open_file(why_fresh)) {
        case Opened::Ok:
            break;
        case Opened::Damaged:
            throw StoreError("store " + cfg_.path + ": a fresh store is damaged too: " + why_fresh);
        case Opened::Unwritable:
            util::log_error("store " + cfg_.path + ": cannot create a fresh store (" + why_fresh +
                            "); running in MEMORY MODE");
            open_memory(false);
            memory_mode_ = true;
            write_error_ = why_fresh;
            return;
    }
    try {
        const std::uint64_t n = carry_over(base);
        util::log_error("store " + cfg_.path + ": carried over " + std::to_string(n) + " readable records from " +
                        base);
    } catch (const SqliteError& e) {
        util::log_error("store " + cfg_.path + ": carrying records over from " + base + " failed: " + e.what());
    }
    prepare();  // counts and ids again
}

std::uint64_t SqliteStore::carry_over(const std::string& damaged) {
    // Best effort: read the damaged file read-only, oldest first; where a page cannot be read,
    // jump ahead by growing steps of ids to the next part that can.
    Db old;
    for (const char* params : {"mode=ro", "immutable=1"}) {
        sqlite3_close(old.db);
        old.db = nullptr;
        if (sqlite3_open_v2(uri_of(damaged, params).c_str(), &old.db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI,
                            nullptr) != SQLITE_OK)
            continue;
        try {
            query_int(old.db, "SELECT count(*) FROM sqlite_schema");
            break;
        } catch (const SqliteError&) {
            sqlite3_close(old.db);
            old.db = nullptr;
        }
    }
    if (!old.db) return 0;  // not readable as a database at all (garbage)
    std::int64_t max_id = INT64_MAX / 2;
    try {
        max_id = query_int(old.db, "SELECT max(id) FROM records");
    } catch (const SqliteError&) {
    }
    std::uint64_t carried = 0;
    std::uint64_t skipped_regions = 0;
    std::int64_t after = 0;
    bool more = true;
    while (more) {
        std::vector<NewRecord> chunk;
        try {
            Stmt q(old.db, "SELECT id, device, time_ms, body FROM records WHERE id > ?1 ORDER BY id LIMIT ?2");
            q.bind(1, after).bind(2, kCarryChunk);
            while (q.step()) {
                after = q.int64(0);
                chunk.push_back({q.text(1), q.int64(2), q.text(3)});
            }
            more = static_cast<std::int64_t>(chunk.size()) == kCarryChunk;
        } catch (const SqliteError&) {
            // Find the next id past the damage that can be read.
            more = false;
            for (std::int64_t step = 1; step > 0 && step < (INT64_C(1) << 62) && after + step <= max_id; step *= 2) {
                try {
                    Stmt p(old.db, "SELECT id FROM records WHERE id > ?1 ORDER BY id LIMIT 1");
                    p.bind(1, after + step);
                    if (p.step()) {
                        after = p.int64(0) - 1;
                        more = true;
                        ++skipped_regions;
                    }
                    break;
                } catch (const SqliteError&) {
                }
            }
        }
        if (chunk.empty()) continue;
        Transaction tx(db_);
        Stmt ins(db_, "INSERT INTO records(device, time_ms, body) VALUES(?1, ?2, ?3)");
        for (const auto& r : chunk) {
            Stmt::Scope use(ins);
            ins.bind(1, r.device).bind(2, r.time_ms).bind(3, r.body).run();
        }
        tx.commit();
        carried += chunk.size();
    }
    if (skipped_regions > 0)
        util::log_error("store " + cfg_.path + ": " + std::to_string(skipped_regions) + " damaged regions of " +
                        damaged + " skipped");
    return carried;
}

bool SqliteStore::reopen_disk() {
    // Started in memory mode: try the file again; the readings in memory go there once it works.
    sqlite3* mem = db_;
    auto mem_st = std::move(st_);
    db_ = nullptr;
    st_ = std::make_unique<Statements>();
    std::string why;
    Opened r = Opened::Unwritable;
    try {
        r = open_file(why);
    } catch (const StoreError& e) {
        why = e.what();
    }
    if (r != Opened::Ok) {
        close();
        db_ = mem;
        st_ = std::move(mem_st);
        write_error_ = why;
        return false;
    }
    mem_st.reset();
    sqlite3_close(mem);
    on_disk_ = true;
    // A file that gained records meanwhile (another tool) would collide with ids given in
    // memory: those readings take new ids (the uplink reads everything again on reconnect).
    if (!pending_.empty() && pending_.begin()->first < disk_next_id_) {
        std::map<std::int64_t, NewRecord> renumbered;
        for (auto& [id, rec] : pending_)
            renumbered.emplace(next_id_++, std::move(rec));
        pending_ = std::move(renumbered);
    }
    util::log_notice("store " + cfg_.path + ": the file can be written now; leaving memory mode");
    return true;
}

void SqliteStore::append(NewRecord record) {
    if (pending_.size() >= max_pending_) {
        // The store cannot take them and memory is full: the overflow policy decides which goes.
        ++unsaved_drops_["disk_full"];
        if (full_log_.allow(now_wall_ms()))
            util::log_error("store " + cfg_.path + ": commits keep failing and " + std::to_string(max_pending_) +
                            " readings wait in memory; dropping the " +
                            (cfg_.overflow == config::Overflow::DropOldest ? "oldest" : "newest") +
                            " (counted as disk_full)");
        if (cfg_.overflow != config::Overflow::DropOldest || pending_.empty()) return;
        pending_.erase(pending_.begin());
    }
    pending_.emplace(next_id_++, std::move(record));
}

void SqliteStore::write_pending() {
    Statements& st = *st_;
    for (const auto& [id, r] : pending_) {
        Stmt::Scope use(st.insert);
        st.insert.bind(1, id).bind(2, r.device).bind(3, r.time_ms).bind(4, r.body).run();
    }
    for (const auto& d : pending_dead_) {
        Stmt::Scope use(st.insert_dead);
        st.insert_dead.bind(1, d.id)
            .bind(2, d.record.device)
            .bind(3, d.record.time_ms)
            .bind(4, d.reason)
            .bind(5, d.code)
            .bind(6, d.dead_ms)
            .bind(7, d.record.body)
            .run();
    }
    for (const auto& [reason, n] : unsaved_drops_)
        count_drop(reason.c_str(), n);
}

void SqliteStore::commit_failed(const std::string& what) {
    write_error_ = what;
    const std::int64_t now = now_mono_ms();
    retry_delay_ms_ = std::clamp<std::int64_t>(retry_delay_ms_ * 2, 1000, kRetryMaxMs);
    retry_at_mono_ = now + retry_delay_ms_;
    if (!memory_mode_) {
        memory_mode_ = true;
        util::log_error("store " + cfg_.path + ": commit failed (" + what + "); " + std::to_string(pending_.size()) +
                        " readings kept in memory (at most " + std::to_string(max_pending_) +
                        ") and sent from there while the link is up (MEMORY MODE, not durable); retrying");
        fail_log_.allow(now_wall_ms());
    } else if (fail_log_.allow(now_wall_ms())) {
        util::log_error("store " + cfg_.path + ": commits still failing (" + what + "); " +
                        std::to_string(pending_.size()) + " readings in memory");
    }
}

std::size_t SqliteStore::commit() {
    if (pending_.empty() && pending_dead_.empty() && unsaved_drops_.empty()) return 0;
    if (memory_mode_ && now_mono_ms() < retry_at_mono_) return 0;
    if (!on_disk_ && !reopen_disk()) {
        commit_failed(write_error_);
        return 0;
    }
    std::uint64_t bytes = 0;
    try {
        if (!pending_.empty() && cfg_.overflow == config::Overflow::DropNewest && used_bytes() >= cfg_.max_bytes) {
            // drop_newest: what is stored stays; what arrives while the store is full does not.
            if (full_log_.allow(now_wall_ms()))
                util::log_warning("store " + cfg_.path + ": full (max_bytes " + std::to_string(cfg_.max_bytes) +
                                  ", overflow = drop_newest); dropping new readings until the uplink frees space");
            unsaved_drops_["store_full"] += pending_.size();
            pending_.clear();
        }
        Transaction tx(db_);
        write_pending();
        tx.commit();
    } catch (const SqliteError& e) {
        commit_failed(e.what());
        return 0;
    }
    for (const auto& [id, r] : pending_)
        bytes += r.body.size();
    for (const auto& d : pending_dead_)
        ++dead_counts_[d.reason];
    const std::size_t n = pending_.size();
    records_ += n;
    bytes_ += bytes;
    pending_.clear();
    pending_dead_.clear();
    unsaved_drops_.clear();
    if (memory_mode_)
        util::log_notice("store " + cfg_.path + ": commits work again (" + std::to_string(n) +
                         " readings committed); leaving memory mode");
    memory_mode_ = false;
    write_error_.clear();
    retry_delay_ms_ = 0;
    retry_at_mono_ = 0;
    return n;
}

std::vector<Record> SqliteStore::fetch(const FetchRange& range) {
    std::vector<Record> out;
    std::size_t bytes = 0;
    bool full = false;
    try {
        Stmt& s = st_->fetch;
        Stmt::Scope use(s);
        s.bind(1, range.after_id).bind(2, range.before_id).bind(3, static_cast<std::int64_t>(range.max_records));
        while (s.step()) {
            const std::size_t len = s.bytes(3);
            if (!out.empty() && bytes + len > range.max_bytes) {
                full = true;
                break;
            }
            out.push_back({s.int64(0), s.text(1), s.int64(2), s.text(3)});
            bytes += len;
        }
    } catch (const SqliteError& e) {
        throw StoreError("store " + cfg_.path + ": reading records failed: " + e.what());
    }
    if (!memory_mode_ || full) return out;
    // Memory mode: the readings that could not be committed follow (their ids are all newer).
    for (auto it = pending_.upper_bound(range.after_id);
         it != pending_.end() && it->first < range.before_id && out.size() < range.max_records; ++it) {
        const std::size_t len = it->second.body.size();
        if (!out.empty() && bytes + len > range.max_bytes) break;
        out.push_back({it->first, it->second.device, it->second.time_ms, it->second.body});
        bytes += len;
    }
    return out;
}

std::int64_t SqliteStore::first_id_at_or_after(std::int64_t time_ms) {
    try {
        Stmt& s = st_->first_at;
        Stmt::Scope use(s);
        s.bind(1, time_ms);
        if (s.step()) return s.int64(0);
    } catch (const SqliteError& e) {
        if (read_log_.allow(now_wall_ms())) util::log_error("store " + cfg_.path + ": read failed: " + e.what());
    }
    if (memory_mode_)
        for (const auto& [id, r] : pending_)
            if (r.time_ms >= time_ms) return id;
    return 0;
}

std::int64_t SqliteStore::last_id() {
    std::int64_t last = 0;
    try {
        Stmt& s = st_->last_id;
        Stmt::Scope use(s);
        if (s.step()) last = s.int64(0);
    } catch (const SqliteError& e) {
        if (read_log_.allow(now_wall_ms())) util::log_error("store " + cfg_.path + ": read failed: " + e.what());
    }
    if (memory_mode_ && !pending_.empty()) last = std::max(last, pending_.rbegin()->first);
    return last;
}

void SqliteStore::delete_record(std::int64_t id, std::uint64_t& count, std::uint64_t& bytes) {
    // A RETURNING statement must be stepped to SQLITE_DONE: reset earlier, it is rolled back.
    Stmt& s = st_->remove;
    Stmt::Scope use(s);
    s.bind(1, id);
    while (s.step()) {
        ++count;
        bytes += static_cast<std::uint64_t>(s.int64(0));
    }
}

bool SqliteStore::remove(const std::vector<std::int64_t>& ids) {
    // Readings sent from memory are done once confirmed: they never need to reach the file.
    std::vector<std::int64_t> stored;
    for (auto id : ids)
        if (pending_.erase(id) == 0) stored.push_back(id);
    if (stored.empty()) return true;
    std::uint64_t n = 0;
    std::uint64_t bytes = 0;
    try {
        Transaction tx(db_);
        for (auto id : stored)
            delete_record(id, n, bytes);
        tx.commit();
    } catch (const SqliteError& e) {
        // The records stay and will be sent again: a duplicate in the cloud, never a loss.
        if (fail_log_.allow(now_wall_ms()))
            util::log_error("store " + cfg_.path + ": deleting delivered records failed: " + e.what() +
                            "; they stay in the store until a delete lands");
        return false;
    }
    records_ -= std::min(records_, n);
    bytes_ -= std::min(bytes_, bytes);
    return true;
}

bool SqliteStore::dead_letter(const std::vector<std::int64_t>& ids, const std::string& reason, int code) {
    const std::int64_t now = now_wall_ms();
    std::vector<std::int64_t> stored;
    for (auto id : ids) {
        auto it = pending_.find(id);
        if (it == pending_.end()) {
            stored.push_back(id);
            continue;
        }
        // Sent from memory and refused: a dead letter written with the next commit that lands.
        if (pending_dead_.size() >= max_pending_) {
            pending_dead_.erase(pending_dead_.begin());
            ++unsaved_drops_["dead_letter_evicted"];
        }
        pending_dead_.push_back({id, std::move(it->second), reason, code, now});
        pending_.erase(it);
    }
    if (stored.empty()) return true;
    std::uint64_t n = 0;
    std::uint64_t bytes = 0;
    try {
        Transaction tx(db_);
        for (auto id : stored) {
            {
                Stmt& m = st_->move_dead;
                Stmt::Scope use(m);
                m.bind(1, id).bind(2, reason).bind(3, code).bind(4, now).run();
            }
            delete_record(id, n, bytes);
        }
        tx.commit();
    } catch (const SqliteError& e) {
        if (fail_log_.allow(now_wall_ms()))
            util::log_error("store " + cfg_.path + ": moving records to the dead letters failed: " + e.what() +
                            "; they stay and are tried again");
        return false;
    }
    records_ -= std::min(records_, n);
    bytes_ -= std::min(bytes_, bytes);
    dead_counts_[reason] += n;
    return true;
}

void SqliteStore::count_dead_letters() {
    // Counted once here and kept up to date in memory: status runs every few seconds, and a
    // GROUP BY over a large dead-letter table each time would cost a scan.
    dead_counts_.clear();
    Stmt s(db_, "SELECT reason, count(*) FROM dead_letters GROUP BY reason");
    while (s.step())
        dead_counts_[s.text(0)] = static_cast<std::uint64_t>(s.int64(1));
}

StoreStats SqliteStore::stats() {
    StoreStats st;
    st.records = records_;
    st.bytes = bytes_;
    st.pending = pending_.size();
    for (const auto& [reason, n] : dead_counts_)
        if (n > 0) st.dead_letters[reason] = n;
    try {
        {
            Stmt s(db_, "SELECT time_ms FROM records ORDER BY id LIMIT 1");
            if (s.step()) st.oldest_ms = s.int64(0);
        }
        Stmt s(db_, "SELECT reason, count FROM drops");
        while (s.step())
            st.dropped[s.text(0)] = static_cast<std::uint64_t>(s.int64(1));
        st.file_bytes = static_cast<std::uint64_t>(
            query_int(db_, "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()"));
    } catch (const SqliteError& e) {
        if (read_log_.allow(now_wall_ms())) util::log_error("store " + cfg_.path + ": read failed: " + e.what());
    }
    // What is counted but not yet committed shows too: nothing is dropped out of sight.
    for (const auto& [reason, n] : unsaved_drops_)
        st.dropped[reason] += n;
    for (const auto& d : pending_dead_)
        ++st.dead_letters[d.reason];
    if (st.oldest_ms == 0 && !pending_.empty()) st.oldest_ms = pending_.begin()->second.time_ms;
    st.memory_mode = memory_mode_;
    st.write_error = write_error_;
    st.quarantined = quarantined_;
    return st;
}

std::vector<DeadLetter> SqliteStore::dead_letters(std::size_t limit) {
    std::vector<DeadLetter> out;
    Stmt s(db_,
           "SELECT record_id, device, time_ms, reason, code, dead_ms, body FROM dead_letters "
           "ORDER BY id LIMIT ?1");
    s.bind(1, static_cast<std::int64_t>(limit));
    while (s.step()) {
        DeadLetter d;
        d.id = s.int64(0);
        d.device = s.text(1);
        d.time_ms = s.int64(2);
        d.reason = s.text(3);
        d.code = static_cast<int>(s.int64(4));
        d.dead_ms = s.int64(5);
        d.body = s.text(6);
        out.push_back(std::move(d));
    }
    return out;
}

}  // namespace fieldgate::store
