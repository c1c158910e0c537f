// The store's part of the status contract (DESIGN.md "The worst day"): store.mode,
// store.write_error (text or null), store.quarantined (array), the disk_full drops, and the
// STATUS= line in memory mode, next to the keys that were there before.
#include "fieldgate/daemon/status.hpp"

// CppUTest's leak detector redefines new: it comes after every other header.
#include <CppUTest/TestHarness.h>

using namespace fieldgate;

TEST_GROUP(StatusStore) {
    config::Config cfg;
    daemon::DeviceRegistry registry{0};
    store::StoreStats st;
    uplink::UplinkStats up;

    daemon::StatusInputs inputs() {
        return daemon::StatusInputs{cfg, registry, st, up, 1'000'000, 0, 0, {}, true, 0, {}, {}};
    }
};

TEST(StatusStore, a_healthy_store_is_on_disk_without_error_or_quarantine) {
    st.records = 5;
    const Json::Value j = daemon::status_json(inputs());
    const Json::Value& s = j["store"];
    STRCMP_EQUAL("disk", s["mode"].asCString());
    CHECK(s["write_error"].isNull());
    CHECK(s["quarantined"].isArray());
    LONGS_EQUAL(0, s["quarantined"].size());
    for (const char* key : {"path", "records", "bytes", "file_bytes", "max_bytes", "pending_commit", "oldest_ms",
                            "dead_letters", "dropped"})
        CHECK_TEXT(s.isMember(key), key);
    LONGS_EQUAL(5, s["records"].asInt());
    CHECK(daemon::status_line(inputs()).find("in memory") == std::string::npos);
}

TEST(StatusStore, memory_mode_shows_the_error_the_drops_and_the_quarantined_files) {
    st.memory_mode = true;
    st.write_error = "COMMIT: database or disk is full";
    st.pending = 42;
    st.dropped["disk_full"] = 7;
    st.quarantined = {"/var/lib/fieldgate/buffer.db.damaged-20261130T001754Z",
                      "/var/lib/fieldgate/buffer.db.damaged-20261130T001754Z-wal"};
    const Json::Value j = daemon::status_json(inputs());
    const Json::Value& s = j["store"];
    STRCMP_EQUAL("memory", s["mode"].asCString());
    STRCMP_EQUAL("COMMIT: database or disk is full", s["write_error"].asCString());
    LONGS_EQUAL(7, s["dropped"]["disk_full"].asInt());
    LONGS_EQUAL(42, s["pending_commit"].asInt());
    LONGS_EQUAL(2, s["quarantined"].size());
    STRCMP_EQUAL("/var/lib/fieldgate/buffer.db.damaged-20261130T001754Z", s["quarantined"][0].asCString());
    const std::string line = daemon::status_line(inputs());
    CHECK_TEXT(line.find("42 buffered in memory") != std::string::npos, line.c_str());
    CHECK_TEXT(line.find("7 dropped") != std::string::npos, line.c_str());
}
