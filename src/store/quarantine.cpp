// A damaged store file found at start: moved aside (never deleted), a fresh store created in
// its place, and the records that can still be read carried over into it.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "fieldgate/store/sqlite_store.hpp"
#include "fieldgate/util/log.hpp"
#include "sqlite_support.hpp"

namespace fieldgate::store {

using namespace sqlite_support;

namespace {

// Rows read per transaction when carrying records over from a damaged file.
constexpr std::int64_t kCarryChunk = 1000;

bool exists(const std::string& path) {
    return ::access(path.c_str(), F_OK) == 0;
}

std::string utc_stamp() {
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
    return buf;
}

struct Db {
    sqlite3* db = nullptr;
    ~Db() { sqlite3_close(db); }
};

}  // namespace

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
                open_memory(false, "damaged store on a read-only medium");
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
            open_memory(false, why_fresh);
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
    for (const char* params : kReadOnlyModes) {
        old.db = open_read_only(damaged, params);
        if (!old.db) continue;
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

}  // namespace fieldgate::store
