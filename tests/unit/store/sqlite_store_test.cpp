#include <unistd.h>

#include <cstdlib>
#include <string>

#include "fieldgate/store/sqlite_store.hpp"

// CppUTest's leak detector redefines new: it comes after every other header.
#include <CppUTest/TestHarness.h>

using namespace fieldgate;

namespace {

std::string make_temp_dir() {
    char tmpl[] = "/tmp/fg-store-XXXXXX";
    const char* dir = mkdtemp(tmpl);
    return dir ? dir : "/tmp";
}

store::NewRecord rec(const std::string& device, std::int64_t t) {
    return {device, t, "{\"time\":" + std::to_string(t) + ",\"measurepoints\":{\"v\":1}}"};
}

}  // namespace

TEST_GROUP(SqliteStore) {
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

TEST(SqliteStore, appended_records_are_invisible_until_commit) {
    store::SqliteStore s(cfg);
    s.append(rec("a", 1));
    s.append(rec("b", 2));
    LONGS_EQUAL(0, s.fetch({}).size());
    LONGS_EQUAL(2, s.commit());
    const auto got = s.fetch({});
    LONGS_EQUAL(2, got.size());
    STRCMP_EQUAL("a", got[0].device.c_str());
    LONGS_EQUAL(2, got[1].time_ms);
    CHECK(got[0].id < got[1].id);
}

TEST(SqliteStore, records_survive_reopening) {
    {
        store::SqliteStore s(cfg);
        for (int i = 0; i < 10; ++i)
            s.append(rec("a", i));
        s.commit();
    }
    store::SqliteStore s(cfg);
    const auto st = s.stats();
    LONGS_EQUAL(10, st.records);
    LONGS_EQUAL(0, st.oldest_ms);
    LONGS_EQUAL(10, s.fetch({}).size());
}

TEST(SqliteStore, fetch_respects_range_count_and_bytes) {
    store::SqliteStore s(cfg);
    for (int i = 0; i < 10; ++i)
        s.append(rec("a", i));
    s.commit();
    store::FetchRange r;
    r.after_id = 2;
    r.before_id = 8;
    auto got = s.fetch(r);
    LONGS_EQUAL(5, got.size());
    LONGS_EQUAL(3, got.front().id);
    r.max_records = 2;
    LONGS_EQUAL(2, s.fetch(r).size());
    r.max_records = 100;
    r.max_bytes = got.front().body.size() * 3;
    LONGS_EQUAL(3, s.fetch(r).size());
    r.max_bytes = 1;  // always at least one, or a large record could never leave
    LONGS_EQUAL(1, s.fetch(r).size());
}

TEST(SqliteStore, remove_deletes_only_the_named_records) {
    store::SqliteStore s(cfg);
    for (int i = 0; i < 5; ++i)
        s.append(rec("a", i));
    s.commit();
    const auto before = s.stats();
    s.remove({1, 3, 99});
    const auto after = s.stats();
    LONGS_EQUAL(3, after.records);
    CHECK(after.bytes < before.bytes);
    const auto got = s.fetch({});
    LONGS_EQUAL(2, got[0].id);
    LONGS_EQUAL(4, got[1].id);
    LONGS_EQUAL(5, got[2].id);
    LONGS_EQUAL(5, s.last_id());
}

TEST(SqliteStore, ids_are_never_reused_after_the_newest_record_is_deleted) {
    store::SqliteStore s(cfg);
    s.append(rec("a", 1));
    s.append(rec("a", 2));
    s.commit();
    s.remove({1, 2});
    s.append(rec("a", 3));
    s.commit();
    store::FetchRange after;
    after.after_id = 2;  // where an uplink cursor stands after sending 1 and 2
    const auto got = s.fetch(after);
    LONGS_EQUAL(1, got.size());
    LONGS_EQUAL(3, got[0].id);
}

TEST(SqliteStore, dead_letters_keep_the_record_and_its_reason) {
    store::SqliteStore s(cfg);
    s.append(rec("bad", 7));
    s.append(rec("good", 8));
    s.commit();
    s.dead_letter({1}, "code_1204", 1204);
    const auto st = s.stats();
    LONGS_EQUAL(1, st.records);
    LONGS_EQUAL(1, st.dead_letters.at("code_1204"));
    const auto dl = s.dead_letters(10);
    LONGS_EQUAL(1, dl.size());
    STRCMP_EQUAL("bad", dl[0].device.c_str());
    LONGS_EQUAL(1204, dl[0].code);
    CHECK(dl[0].body.find("\"time\":7") != std::string::npos);
}

TEST(SqliteStore, first_id_at_or_after_splits_backlog_from_live) {
    store::SqliteStore s(cfg);
    s.append(rec("a", 100));
    s.append(rec("a", 200));
    s.append(rec("a", 300));
    s.commit();
    LONGS_EQUAL(2, s.first_id_at_or_after(150));
    LONGS_EQUAL(1, s.first_id_at_or_after(0));
    LONGS_EQUAL(0, s.first_id_at_or_after(301));
}

TEST(SqliteStore, an_unopenable_path_is_a_store_error) {
    config::Store bad = cfg;
    bad.path = dir + "/no/such/dir/buffer.db";
    CHECK_THROWS(store::StoreError, store::SqliteStore{bad});
}

namespace {
store::NewRecord big(std::int64_t t) {
    return {"d", t, "{\"time\":" + std::to_string(t) + ",\"measurepoints\":{\"v\":\"" + std::string(900, 'x') + "\"}}"};
}
}  // namespace

TEST(SqliteStore, records_older_than_max_age_become_dead_letters) {
    cfg.max_age_ms = 1000;
    store::SqliteStore s(cfg);
    s.append(rec("a", 100));
    s.append(rec("b", 5000));
    s.commit();
    LONGS_EQUAL(1, s.expire(5500));
    const auto st = s.stats();
    LONGS_EQUAL(1, st.records);
    LONGS_EQUAL(1, st.dead_letters.at("max_age"));
    LONGS_EQUAL(5000, s.fetch({})[0].time_ms);
    LONGS_EQUAL(0, s.expire(5500));
}

TEST(SqliteStore, dead_letters_expire_too_and_are_counted) {
    cfg.max_age_ms = 1000;
    store::SqliteStore s(cfg);
    s.append(rec("a", 100));
    s.commit();
    s.dead_letter({1}, "code_1204", 1204);
    s.expire(5000);
    const auto st = s.stats();
    CHECK(st.dead_letters.empty());
    LONGS_EQUAL(1, st.dropped.at("dead_letter_expired"));
}

TEST(SqliteStore, drop_oldest_keeps_the_database_within_max_bytes_and_counts_evictions) {
    cfg.max_bytes = 1 << 20;
    store::SqliteStore s(cfg);
    for (int round = 0; round < 20; ++round) {  // about 2 MB of records, committed 100 at a time
        for (int i = 0; i < 100; ++i)
            s.append(big(round * 100 + i));
        s.commit();
        s.enforce_max_bytes();
        CHECK(s.used_bytes() <= cfg.max_bytes);
    }
    const auto st = s.stats();
    CHECK(st.dropped.at("evicted") > 1000);
    LONGS_EQUAL(2000, st.records + st.dropped.at("evicted"));
    // The newest survive; the evicted are the oldest.
    store::FetchRange all;
    all.max_records = 10'000;
    all.max_bytes = 100 << 20;
    const auto kept = s.fetch(all);
    LONGS_EQUAL(st.records, kept.size());
    CHECK(kept.size() > 700);  // 95 % of 1 MiB holds more than 700 records of 1 KB
    LONGS_EQUAL(1999, kept.back().time_ms);
    LONGS_EQUAL(static_cast<long>(st.dropped.at("evicted")), kept.front().time_ms);
}

TEST(SqliteStore, drop_oldest_evicts_dead_letters_before_records) {
    cfg.max_bytes = 1 << 20;
    store::SqliteStore s(cfg);
    for (int i = 0; i < 600; ++i)
        s.append(big(i));
    s.commit();
    std::vector<std::int64_t> ids;
    for (std::int64_t id = 1; id <= 600; ++id)
        ids.push_back(id);
    s.dead_letter(ids, "code_1204", 1204);
    for (int i = 0; i < 600; ++i)
        s.append(big(1000 + i));
    s.commit();
    s.enforce_max_bytes();
    const auto st = s.stats();
    CHECK(st.dropped.at("dead_letter_evicted") > 0);
    CHECK(st.dropped.count("evicted") == 0);
    LONGS_EQUAL(600, st.records);
}

TEST(SqliteStore, drop_newest_keeps_what_is_stored_and_counts_what_it_refuses) {
    cfg.max_bytes = 1 << 20;
    cfg.overflow = config::Overflow::DropNewest;
    store::SqliteStore s(cfg);
    std::uint64_t written = 0;
    for (int round = 0; round < 20; ++round) {
        for (int i = 0; i < 100; ++i)
            s.append(big(round * 100 + i));
        written += s.commit();
        LONGS_EQUAL(0, s.enforce_max_bytes());  // drop_newest never evicts
    }
    const auto st = s.stats();
    CHECK(written < 2000);
    LONGS_EQUAL(written, st.records);
    LONGS_EQUAL(2000 - written, st.dropped.at("store_full"));
    LONGS_EQUAL(0, s.fetch({})[0].time_ms);  // the oldest stayed
}
