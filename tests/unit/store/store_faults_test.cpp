// The store on its worst day: writes that fail (full disk, I/O errors), reads that fail, and a
// damaged file at start. Faults come from a fault-injecting VFS shim (fault_vfs.hpp).
#include <sqlite3.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

#include "fault_vfs.hpp"
#include "fieldgate/store/sqlite_store.hpp"

// CppUTest's leak detector redefines new: it comes after every other header.
#include <CppUTest/TestHarness.h>

using namespace fieldgate;

namespace {

std::string make_temp_dir() {
    char tmpl[] = "/tmp/fg-faults-XXXXXX";
    const char* dir = mkdtemp(tmpl);
    return dir ? dir : "/tmp";
}

store::NewRecord rec(const std::string& device, std::int64_t t, std::size_t pad = 0) {
    return {device, t,
            "{\"time\":" + std::to_string(t) + ",\"measurepoints\":{\"v\":\"" + std::string(pad, 'x') + "\"}}"};
}

store::FetchRange all() {
    store::FetchRange r;
    r.max_records = 100'000;
    r.max_bytes = std::size_t{1} << 30;
    return r;
}

std::string integrity(const std::string& path) {
    sqlite3* db = nullptr;
    std::string verdict = "cannot open";
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
        sqlite3_stmt* s = nullptr;
        if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, nullptr) == SQLITE_OK &&
            sqlite3_step(s) == SQLITE_ROW)
            verdict = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
        sqlite3_finalize(s);
    }
    sqlite3_close(db);
    return verdict;
}

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

TEST_GROUP(StoreFaults) {
    std::string dir;
    config::Store cfg;
    void setup() override {
        dir = make_temp_dir();
        cfg.path = dir + "/buffer.db";
    }
    void teardown() override {
        const std::string cmd = "rm -rf '" + dir + "'";
        CHECK_EQUAL(0, std::system(cmd.c_str()));
    }
};

TEST(StoreFaults, a_failed_commit_keeps_the_readings_and_counts_nothing) {
    test::FaultVfs vfs;
    store::SqliteStore s(cfg);
    s.append(rec("a", 1));
    s.append(rec("a", 2));
    test::FaultVfs::fail_writes = SQLITE_FULL;
    LONGS_EQUAL(0, s.commit());
    auto st = s.stats();
    LONGS_EQUAL(0, st.records);
    LONGS_EQUAL(2, st.pending);
    CHECK(st.memory_mode);
    CHECK(!st.write_error.empty());
    s.append(rec("a", 3));
    test::FaultVfs::fail_writes = 0;
    s.retry_now();
    LONGS_EQUAL(3, s.commit());
    st = s.stats();
    LONGS_EQUAL(3, st.records);
    LONGS_EQUAL(0, st.pending);
    CHECK(!st.memory_mode);
    CHECK(st.write_error.empty());
    LONGS_EQUAL(3, s.fetch(all()).size());
}

TEST(StoreFaults, a_remove_that_cannot_be_written_reports_failure_and_keeps_the_records) {
    test::FaultVfs vfs;
    store::SqliteStore s(cfg);
    for (int i = 0; i < 4; ++i)
        s.append(rec("a", i));
    LONGS_EQUAL(4, s.commit());
    test::FaultVfs::fail_writes = SQLITE_IOERR_WRITE;
    CHECK_FALSE(s.remove({1, 2}));
    LONGS_EQUAL(4, s.stats().records);
    test::FaultVfs::fail_writes = 0;
    LONGS_EQUAL(4, s.fetch(all()).size());  // still there, still to be sent
    CHECK(s.remove({1, 2}));
    LONGS_EQUAL(2, s.stats().records);
    LONGS_EQUAL(2, s.fetch(all()).size());
}

TEST(StoreFaults, a_dead_letter_that_cannot_be_written_reports_failure_and_counts_nothing) {
    test::FaultVfs vfs;
    store::SqliteStore s(cfg);
    s.append(rec("a", 1));
    s.commit();
    test::FaultVfs::fail_writes = SQLITE_FULL;
    CHECK_FALSE(s.dead_letter({1}, "code_1204", 1204));
    auto st = s.stats();
    CHECK(st.dead_letters.empty());
    LONGS_EQUAL(1, st.records);
    test::FaultVfs::fail_writes = 0;
    CHECK(s.dead_letter({1}, "code_1204", 1204));
    st = s.stats();
    LONGS_EQUAL(1, st.dead_letters.at("code_1204"));
    LONGS_EQUAL(0, st.records);
}

TEST(StoreFaults, a_read_error_is_not_the_end_of_the_records) {
    {
        store::SqliteStore s(cfg);
        for (int i = 0; i < 3000; ++i)  // 3 MB: more than the page cache holds
            s.append(rec("a", i, 1000));
        s.commit();
    }
    test::FaultVfs vfs;
    store::SqliteStore s(cfg);
    test::FaultVfs::fail_reads = true;
    CHECK_THROWS(store::StoreError, s.fetch(all()));
    test::FaultVfs::fail_reads = false;
    LONGS_EQUAL(3000, s.fetch(all()).size());
}

TEST(StoreFaults, eviction_that_cannot_be_written_counts_nothing) {
    cfg.max_bytes = 1 << 20;
    test::FaultVfs vfs;
    store::SqliteStore s(cfg);
    for (int i = 0; i < 2000; ++i)
        s.append(rec("a", i, 900));
    s.commit();
    test::FaultVfs::fail_writes = SQLITE_FULL;
    LONGS_EQUAL(0, s.enforce_max_bytes());
    auto st = s.stats();
    CHECK(st.dropped.count("evicted") == 0);
    LONGS_EQUAL(2000, st.records);
    test::FaultVfs::fail_writes = 0;
    const auto evicted = s.enforce_max_bytes();
    CHECK(evicted > 0);
    st = s.stats();
    LONGS_EQUAL(evicted, st.dropped.at("evicted"));
    LONGS_EQUAL(2000, st.records + evicted);
}

TEST(StoreFaults, expiry_that_cannot_be_written_moves_nothing) {
    cfg.max_age_ms = 1000;
    test::FaultVfs vfs;
    store::SqliteStore s(cfg);
    s.append(rec("a", 100));
    s.commit();
    test::FaultVfs::fail_writes = SQLITE_FULL;
    LONGS_EQUAL(0, s.expire(5000));
    CHECK(s.stats().dead_letters.empty());
    LONGS_EQUAL(1, s.stats().records);
    test::FaultVfs::fail_writes = 0;
    LONGS_EQUAL(1, s.expire(5000));
    LONGS_EQUAL(1, s.stats().dead_letters.at("max_age"));
}

TEST(StoreFaults, memory_mode_serves_the_readings_that_cannot_be_committed) {
    test::FaultVfs vfs;
    store::SqliteStore s(cfg);
    s.append(rec("a", 1));
    LONGS_EQUAL(1, s.commit());
    LONGS_EQUAL(0, s.fetch(all()).size() - 1);
    test::FaultVfs::fail_writes = SQLITE_FULL;
    for (int i = 2; i <= 6; ++i)
        s.append(rec("a", i));
    CHECK_FALSE(s.memory_mode());
    LONGS_EQUAL(1, s.fetch(all()).size());  // not committed, not failing yet: not served
    LONGS_EQUAL(0, s.commit());
    CHECK(s.memory_mode());
    auto got = s.fetch(all());
    LONGS_EQUAL(6, got.size());  // the stored one first, then memory, oldest first
    LONGS_EQUAL(1, got[0].time_ms);
    LONGS_EQUAL(2, got[1].time_ms);
    CHECK(got[1].id > got[0].id);
    LONGS_EQUAL(got[5].id, s.last_id());
    LONGS_EQUAL(got[3].id, s.first_id_at_or_after(4));
    store::FetchRange r = all();
    r.after_id = got[2].id;
    r.max_records = 2;
    LONGS_EQUAL(2, s.fetch(r).size());
    LONGS_EQUAL(got[3].id, s.fetch(r)[0].id);
    // The cloud confirmed two of the memory readings and refused one: they leave memory.
    CHECK(s.remove({got[1].id, got[2].id}));
    CHECK(s.dead_letter({got[3].id}, "code_1204", 1204));
    LONGS_EQUAL(2, s.pending());
    LONGS_EQUAL(1, s.stats().dead_letters.at("code_1204"));
    // The disk comes back: the rest is committed with the ids it was sent with.
    test::FaultVfs::fail_writes = 0;
    s.retry_now();
    LONGS_EQUAL(2, s.commit());
    CHECK_FALSE(s.memory_mode());
    got = s.fetch(all());
    LONGS_EQUAL(3, got.size());
    LONGS_EQUAL(5, got[1].time_ms);
    const auto dead = s.dead_letters(10);
    LONGS_EQUAL(1, dead.size());
    LONGS_EQUAL(4, dead[0].time_ms);
    // Ids stay increasing after memory mode.
    s.append(rec("a", 7));
    s.commit();
    CHECK(s.fetch(all()).back().id > got.back().id);
}

TEST(StoreFaults, past_the_memory_bound_drop_oldest_drops_the_oldest_and_counts_disk_full) {
    test::FaultVfs vfs;
    store::SqliteStore s(cfg);
    s.set_memory_bound(10);
    test::FaultVfs::fail_writes = SQLITE_FULL;
    for (int i = 0; i < 15; ++i) {
        s.append(rec("a", i));
        s.retry_now();
        s.commit();
    }
    LONGS_EQUAL(10, s.pending());
    LONGS_EQUAL(5, s.stats().dropped.at("disk_full"));
    LONGS_EQUAL(5, s.fetch(all()).front().time_ms);
    test::FaultVfs::fail_writes = 0;
    s.retry_now();
    LONGS_EQUAL(10, s.commit());
    LONGS_EQUAL(5, s.stats().dropped.at("disk_full"));  // now from the drops table
}

TEST(StoreFaults, past_the_memory_bound_drop_newest_keeps_the_oldest) {
    cfg.overflow = config::Overflow::DropNewest;
    test::FaultVfs vfs;
    store::SqliteStore s(cfg);
    s.set_memory_bound(10);
    test::FaultVfs::fail_writes = SQLITE_FULL;
    for (int i = 0; i < 15; ++i)
        s.append(rec("a", i));
    s.commit();
    LONGS_EQUAL(10, s.pending());
    LONGS_EQUAL(5, s.stats().dropped.at("disk_full"));
    LONGS_EQUAL(0, s.fetch(all()).front().time_ms);
}

TEST(StoreFaults, a_store_that_cannot_be_created_for_a_full_disk_starts_in_memory_mode) {
    test::FaultVfs vfs;
    test::FaultVfs::fail_writes = SQLITE_FULL;
    store::SqliteStore s(cfg);
    CHECK(s.memory_mode());
    s.append(rec("a", 1));
    LONGS_EQUAL(0, s.commit());
    const auto sent = s.fetch(all());
    LONGS_EQUAL(1, sent.size());
    test::FaultVfs::fail_writes = 0;
    s.retry_now();
    LONGS_EQUAL(1, s.commit());
    CHECK_FALSE(s.memory_mode());
    LONGS_EQUAL(sent[0].id, s.fetch(all())[0].id);  // the id it was sent with from memory
    store::SqliteStore again(cfg);                  // on the file now
    LONGS_EQUAL(1, again.stats().records);
}

TEST(StoreFaults, a_garbage_file_is_moved_aside_and_a_fresh_store_runs) {
    const std::string garbage(std::size_t{64} * 1024, 'G');
    {
        std::ofstream out(cfg.path, std::ios::binary);
        out << garbage;
    }
    store::SqliteStore s(cfg);
    const auto st = s.stats();
    LONGS_EQUAL(1, st.quarantined.size());
    const std::string& moved = st.quarantined[0];
    CHECK(moved.rfind(cfg.path + ".damaged-", 0) == 0);
    LONGS_EQUAL(cfg.path.size() + 25, moved.size());  // ".damaged-YYYYmmddTHHMMSSZ"
    CHECK(slurp(moved) == garbage);                   // kept as it was
    s.append(rec("a", 1));
    LONGS_EQUAL(1, s.commit());
    STRCMP_EQUAL("ok", integrity(cfg.path).c_str());
}

TEST(StoreFaults, a_store_damaged_mid_file_is_moved_aside_with_its_readable_records_carried_over) {
    {
        store::SqliteStore s(cfg);
        for (int i = 0; i < 3000; ++i)
            s.append(rec("a", i, 200));
        s.commit();
    }
    {
        // Checkpointed into the file on close: damage two pages in the middle of it.
        std::fstream f(cfg.path, std::ios::binary | std::ios::in | std::ios::out);
        f.seekg(0, std::ios::end);
        const auto size = static_cast<long>(f.tellg());
        CHECK(size > 400L * 1024);
        f.seekp(size / 2 / 4096 * 4096);
        const std::string junk(8192, '\xA5');
        f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
    }
    store::SqliteStore s(cfg);
    const auto st = s.stats();
    CHECK(!st.quarantined.empty());
    CHECK(st.records > 1000);  // most were readable...
    CHECK(st.records < 3000);  // ...not those on the damaged pages
    const auto got = s.fetch(all());
    LONGS_EQUAL(0, got.front().time_ms);
    LONGS_EQUAL(2999, got.back().time_ms);
    for (std::size_t i = 1; i < got.size(); ++i)
        CHECK(got[i].time_ms > got[i - 1].time_ms);  // in their old order
    STRCMP_EQUAL("ok", integrity(cfg.path).c_str());
    CHECK(integrity(st.quarantined[0]) != "ok");  // the damaged file is kept as it was
}
