#pragma once
// Small RAII helpers over SQLite's C API, private to the store module. Every SQLite call goes
// through check(): a result code that is not OK, ROW or DONE throws SqliteError, so a failed
// step is never taken for the end of the rows and a failed write never for a done one. Also
// what more than one of the store's files does the same way: the settings pragmas and the
// read-only open of a file that cannot be written.
#include <sqlite3.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <memory>
#include <string>
#include <string_view>

#include "fieldgate/store/record.hpp"
#include "fieldgate/store/sqlite_store.hpp"

namespace fieldgate::store::sqlite_support {

/// An SQLite call that failed; rc is its (extended) result code.
class SqliteError : public StoreError {
public:
    SqliteError(const std::string& what, int rc) : StoreError(what), rc_(rc) {}
    int rc() const { return rc_; }

private:
    int rc_;
};

/// Returns rc when it is SQLITE_OK, SQLITE_ROW or SQLITE_DONE; throws SqliteError otherwise,
/// naming `what` and SQLite's message for the connection.
inline int check(int rc, sqlite3* db, std::string_view what) {
    if (rc == SQLITE_OK || rc == SQLITE_ROW || rc == SQLITE_DONE) return rc;
    throw SqliteError(std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)), rc);
}

/// One prepared statement, finalized with its owner. Persistent statements are prepared once
/// and reused: a Scope resets them (and clears the bindings) whatever way a use ends, so an
/// unfinished read never holds a WAL snapshot open.
class Stmt {
public:
    Stmt() = default;
    Stmt(sqlite3* db, std::string_view sql, bool persistent = false) : db_(db) {
        sqlite3_stmt* s = nullptr;
        const int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                                          persistent ? SQLITE_PREPARE_PERSISTENT : 0, &s, nullptr);
        s_.reset(s);
        check(rc, db, std::string("prepare ") + std::string(sql));
    }

    Stmt& bind(int col, std::int64_t v) {
        check(sqlite3_bind_int64(s_.get(), col, static_cast<sqlite3_int64>(v)), db_, "bind");
        return *this;
    }
    Stmt& bind(int col, std::string_view text) {
        check(sqlite3_bind_text(s_.get(), col, text.data(), static_cast<int>(text.size()), SQLITE_STATIC), db_, "bind");
        return *this;
    }
    /// True with a row to read, false at the end of the rows; throws on any error.
    bool step() { return check(sqlite3_step(s_.get()), db_, "step") == SQLITE_ROW; }
    /// Runs a statement that returns no rows (or whose rows are not wanted) to its end.
    void run() {
        while (step()) {
        }
    }
    std::int64_t int64(int col) const { return sqlite3_column_int64(s_.get(), col); }
    std::size_t bytes(int col) const { return static_cast<std::size_t>(sqlite3_column_bytes(s_.get(), col)); }
    std::string text(int col) const {
        const auto* p = sqlite3_column_text(s_.get(), col);
        return p ? std::string(reinterpret_cast<const char*>(p), bytes(col)) : std::string();
    }
    void reset() {
        sqlite3_reset(s_.get());  // repeats the last step's error, already reported
        sqlite3_clear_bindings(s_.get());
    }
    sqlite3* db() const { return db_; }

    /// One use of a (persistent) statement: reset when the scope ends.
    class Scope {
    public:
        explicit Scope(Stmt& s) : s_(s) {}
        ~Scope() { s_.reset(); }
        Scope(const Scope&) = delete;
        Scope& operator=(const Scope&) = delete;

    private:
        Stmt& s_;
    };

private:
    struct Finalize {
        void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
    };
    sqlite3* db_ = nullptr;
    std::unique_ptr<sqlite3_stmt, Finalize> s_;
};

/// Runs SQL without results (pragmas, schema); throws SqliteError.
inline void exec(sqlite3* db, const std::string& sql) {
    char* err = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
        const std::string msg = err ? err : sqlite3_errstr(rc);
        sqlite3_free(err);
        throw SqliteError(sql.substr(0, 40) + ": " + msg, sqlite3_extended_errcode(db));
    }
}

/// The first column of the first row of a one-off query (0 when there is no row); throws.
inline std::int64_t query_int(sqlite3* db, std::string_view sql) {
    Stmt s(db, sql);
    return s.step() ? s.int64(0) : 0;
}

/// Sets synchronous for `durability`; throws SqliteError.
inline void apply_durability(sqlite3* db, config::Durability durability) {
    exec(db, durability == config::Durability::Full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
}

/// The WAL counts against the disk too: checkpoints and trims it at a sixteenth of max_bytes
/// (at most SQLite's default of 1000 pages), so database + WAL stay near the bound; throws.
inline void apply_wal_limit(sqlite3* db, std::uint64_t max_bytes) {
    const std::uint64_t wal_pages = std::clamp<std::uint64_t>(max_bytes / 16 / 4096, 16, 1000);
    exec(db, "PRAGMA wal_autocheckpoint=" + std::to_string(wal_pages));
    exec(db, "PRAGMA journal_size_limit=" + std::to_string(wal_pages * 4096));
}

/// The URI parameters to read a store file that cannot be written, tried in order: as a
/// reader (mode=ro), then as immutable (immutable=1: no locks and no -shm, which a medium
/// that refuses writes cannot give).
constexpr const char* kReadOnlyModes[] = {"mode=ro", "immutable=1"};

/// A file name as an SQLite URI path ('%', '?' and '#' escaped), with `params`.
inline std::string uri_of(const std::string& path, const char* params) {
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

/// Opens `path` read-only with the URI `params` (one of kReadOnlyModes), extended result codes
/// on; nullptr when SQLite refuses.
inline sqlite3* open_read_only(const std::string& path, const char* params) {
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(uri_of(path, params).c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK) {
        sqlite3_close(db);  // SQLite hands out a connection even when opening fails
        return nullptr;
    }
    sqlite3_extended_result_codes(db, 1);
    return db;
}

inline std::int64_t now_wall_ms() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

inline std::int64_t now_mono_ms() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

/// A write transaction that rolls back unless committed; begin and commit throw SqliteError,
/// the destructor never throws.
class Transaction {
public:
    explicit Transaction(sqlite3* db) : db_(db) { exec(db_, "BEGIN IMMEDIATE"); }
    ~Transaction() {
        // A failed COMMIT may or may not have ended the transaction (I/O errors roll back).
        if (!sqlite3_get_autocommit(db_)) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    }
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    void commit() { exec(db_, "COMMIT"); }

private:
    sqlite3* db_;
};

}  // namespace fieldgate::store::sqlite_support

namespace fieldgate::store {

/// The store's persistent statements, prepared once per database.
struct SqliteStore::Statements {
    sqlite_support::Stmt insert, fetch, first_at, last_id, remove, move_dead, insert_dead, add_drop;
};

}  // namespace fieldgate::store
