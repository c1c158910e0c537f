// Power cuts, simulated by a crash VFS (crash_vfs.hpp): the store appends, commits and deletes
// until the power goes at a random write or sync; unsynced writes are then lost or torn sector by
// sector, and the store is opened again. durability = full must lose no reading whose commit
// returned; normal may lose only the commits after the last sync (the WAL's sync window);
// integrity_check is always ok. FG_CRASH_CUTS sets the number of cuts per setting (`make soak-vfs`).
#include <sqlite3.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "crash_vfs.hpp"
#include "fieldgate/store/sqlite_store.hpp"
#include "fieldgate/util/log.hpp"

// CppUTest's leak detector redefines new: it comes after every other header.
#include <CppUTest/TestHarness.h>

using namespace fieldgate;

namespace {

constexpr const char* kPath = "/crash/buffer.db";

std::string integrity() {
    sqlite3* db = nullptr;
    std::string verdict = "cannot open";
    if (sqlite3_open_v2(kPath, &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK) {
        sqlite3_stmt* s = nullptr;
        if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, nullptr) == SQLITE_OK) {
            const int rc = sqlite3_step(s);
            verdict = rc == SQLITE_ROW ? reinterpret_cast<const char*>(sqlite3_column_text(s, 0))
                                       : std::string("step: ") + sqlite3_errmsg(db);
        } else {
            verdict = std::string("prepare: ") + sqlite3_errmsg(db);
        }
        sqlite3_finalize(s);
    }
    sqlite3_close(db);
    return verdict;
}

struct Figures {
    long cuts = 0;
    long commits = 0;
    long readings_committed = 0;
    long lost_in_window = 0;  ///< committed, lost, no sync after the commit (allowed for normal)
    long lost_synced = 0;     ///< committed, lost although synced after (never allowed)
    long integrity_failures = 0;
    std::uint64_t torn = 0, dropped = 0;
};

long cuts_per_setting() {
    const char* env = std::getenv("FG_CRASH_CUTS");
    return env ? std::max(1L, std::atol(env)) : 300;
}

Figures run_cuts(config::Durability durability, std::uint64_t seed) {
    config::Store cfg;
    cfg.path = kPath;
    cfg.durability = durability;
    cfg.max_bytes = 1 << 20;  // a small WAL: checkpoints (and cuts inside them) come often
    test::CrashVfs vfs(seed);
    std::mt19937_64& rng = vfs.rng;
    Figures fig;
    // time_ms is a unique reading number; for each committed reading, the sync count when its
    // commit returned.
    std::map<std::int64_t, std::uint64_t> committed;
    std::int64_t next = 1;
    const long cuts = cuts_per_setting();
    std::uint64_t syncs_at_cut = 0;
    for (long cut = 0; cut <= cuts; ++cut) {
        // After a cut: the file is intact, the store opens (no quarantine: that would be
        // damage), and nothing that had to survive is missing.
        const std::string verdict = cut == 0 ? "ok" : integrity();
        if (verdict != "ok") {
            ++fig.integrity_failures;
            std::printf("cut %ld: integrity_check: %s\n", cut, verdict.c_str());
        }
        std::unique_ptr<store::SqliteStore> s;
        try {
            s = std::make_unique<store::SqliteStore>(cfg);
        } catch (const store::StoreError& e) {
            ++fig.integrity_failures;
            std::printf("cut %ld: cannot open the store: %s\n", cut, e.what());
            break;
        }
        const auto st = s->stats();
        CHECK_TEXT(st.quarantined.empty(), "a power cut damaged the store");
        CHECK_TEXT(!st.memory_mode, st.write_error.c_str());
        store::FetchRange all;
        all.max_records = 1'000'000;
        all.max_bytes = std::size_t{1} << 30;
        std::set<std::int64_t> present;
        for (const auto& r : s->fetch(all))
            present.insert(r.time_ms);
        for (const auto& [t, syncs_at_commit] : committed) {
            if (present.count(t)) continue;
            if (syncs_at_commit == syncs_at_cut)
                ++fig.lost_in_window;  // no sync between its commit and the cut
            else
                ++fig.lost_synced;
        }
        committed.clear();
        if (cut == cuts) break;

        // Work until the power goes: commits of 1..40 readings, deliveries of the oldest.
        vfs.countdown = std::uniform_int_distribution<long>(0, 400)(rng);
        while (!vfs.cut) {
            const int n = std::uniform_int_distribution<int>(1, 40)(rng);
            std::vector<std::int64_t> batch;
            for (int i = 0; i < n; ++i) {
                const std::int64_t t = next++;
                const std::size_t pad = std::uniform_int_distribution<std::size_t>(10, 600)(rng);
                s->append({"d" + std::to_string(t % 7), t, std::string(pad, static_cast<char>('a' + t % 26))});
                batch.push_back(t);
            }
            if (s->commit() > 0) {
                ++fig.commits;
                fig.readings_committed += n;
                for (auto t : batch)
                    committed[t] = vfs.syncs;
            }
            if (!vfs.cut) {
                store::FetchRange oldest;  // about as many as arrive: the store stays small
                oldest.max_records = static_cast<std::size_t>(std::uniform_int_distribution<int>(1, 50)(rng));
                std::vector<std::int64_t> ids;
                std::vector<std::int64_t> times;
                for (const auto& r : s->fetch(oldest)) {
                    ids.push_back(r.id);
                    times.push_back(r.time_ms);
                }
                // Delivered: they may come back (at-least-once) and need not. A remove the cut
                // made fail may still have landed (its write went out, only the sync failed).
                (void)s->remove(ids);
                for (auto t : times)
                    committed.erase(t);
            }
        }
        syncs_at_cut = vfs.syncs;
        ++fig.cuts;
        s.reset();  // closes against the dead medium: every call fails
        vfs.power_cut();
    }
    fig.torn = vfs.torn;
    fig.dropped = vfs.lost;
    return fig;
}

void report(const char* setting, const Figures& f) {
    std::printf(
        "\npower cuts (%s): %ld cuts, %ld commits of %ld readings; lost after their commit: %ld in the last sync "
        "window, %ld synced; integrity failures %ld; unsynced sectors lost %llu, torn %llu\n",
        setting, f.cuts, f.commits, f.readings_committed, f.lost_in_window, f.lost_synced, f.integrity_failures,
        static_cast<unsigned long long>(f.dropped), static_cast<unsigned long long>(f.torn));
}

}  // namespace

TEST_GROUP(StoreCrash){// Every cut makes the store log its failed commits: keep the output to the figures.
                       void setup() override{util::set_log_level(static_cast<util::Level>(0));
}
void teardown() override {
    util::set_log_level(util::Level::Info);
}
}
;

TEST(StoreCrash, durability_full_loses_no_committed_reading) {
    const Figures f = run_cuts(config::Durability::Full, 20261130);
    report("durability = full", f);
    LONGS_EQUAL(0, f.integrity_failures);
    LONGS_EQUAL(0, f.lost_in_window + f.lost_synced);
    CHECK(f.commits > f.cuts);  // the cuts came at all sorts of points, not only at the first write
}

TEST(StoreCrash, durability_normal_loses_at_most_the_last_sync_window) {
    const Figures f = run_cuts(config::Durability::Normal, 1130);
    report("durability = normal", f);
    LONGS_EQUAL(0, f.integrity_failures);
    LONGS_EQUAL(0, f.lost_synced);
    CHECK(f.commits > f.cuts);
}
