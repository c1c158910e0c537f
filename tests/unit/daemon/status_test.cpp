#include "fieldgate/daemon/status.hpp"

#include <string>

// CppUTest's leak detector redefines new: it comes after every other header.
#include <CppUTest/TestHarness.h>

using namespace fieldgate;

TEST_GROUP(StatusWorstDay) {
    config::Config cfg;
    daemon::DeviceRegistry registry{0};
    store::StoreStats st;
    uplink::UplinkStats up;
    daemon::StatusInputs in() {
        return daemon::StatusInputs{cfg, registry, st, up, 1'700'000'000'000, 0, 0, {}, true, 0, {}, {}};
    }
};

TEST(StatusWorstDay, an_unset_clock_is_in_the_status_line_and_json) {
    auto i = in();
    STRCMP_EQUAL("0/0 devices online, 0 buffered, uplink ", daemon::status_line(i).c_str());
    CHECK_TRUE(daemon::status_json(i)["clock_valid"].asBool());
    i.clock_valid = false;
    i.unstamped = 12;
    STRCMP_EQUAL("0/0 devices online, 0 buffered, uplink , clock not set (12 readings wait for it)",
                 daemon::status_line(i).c_str());
    CHECK_FALSE(daemon::status_json(i)["clock_valid"].asBool());
    LONGS_EQUAL(12, daemon::status_json(i)["store"]["unstamped"].asUInt64());
}

TEST(StatusWorstDay, queue_drops_count_with_the_store_drops_by_reason) {
    st.dropped["evicted"] = 3;
    auto i = in();
    i.drops["queue_full"] = 4;
    i.drops["evicted"] = 1;
    const Json::Value j = daemon::status_json(i);
    LONGS_EQUAL(4, j["store"]["dropped"]["queue_full"].asUInt64());
    LONGS_EQUAL(4, j["store"]["dropped"]["evicted"].asUInt64());
    CHECK(daemon::status_line(i).find(", 8 dropped") != std::string::npos);
}
