// Opening the store: the file, checked and given the schema, or what stands in for it when it
// cannot be used (read-only, or an empty database in memory: memory mode), and the way back to
// the file. A damaged file is moved aside by quarantine.cpp; the live queue is sqlite_store.cpp.
#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>

#include "fieldgate/store/sqlite_store.hpp"
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
            open_memory(true, why);
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
        apply_durability(db_, cfg_.durability);
        // A small page cache keeps the daemon's RSS low; the access pattern is append at one end
        // and read-delete at the other, which needs few hot pages.
        exec(db_, "PRAGMA cache_size=-1024");
        exec(db_, "PRAGMA foreign_keys=OFF");
        apply_wal_limit(db_, cfg_.max_bytes);
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

void SqliteStore::open_memory(bool read_file, const std::string& why) {
    on_disk_ = false;
    memory_mode_ = true;
    write_error_ = why;
    // The store file cannot be written. If it can still be read, it stands in read-only: its
    // records are sent (the cloud's confirmations cannot delete them until it can be written)
    // and new readings wait in memory with ids that continue the file's.
    if (read_file) {
        for (const char* params : kReadOnlyModes) {
            db_ = open_read_only(cfg_.path, params);
            if (!db_) continue;
            try {
                query_int(db_, "SELECT count(*) FROM records");
                prepare();
                util::log_error("store " + cfg_.path + ": read-only; its " + std::to_string(records_) +
                                " records are sent from it, and stay in it until it can be written");
                return;
            } catch (const SqliteError&) {
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

}  // namespace fieldgate::store
