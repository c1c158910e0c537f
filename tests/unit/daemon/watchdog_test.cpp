#include "fieldgate/daemon/watchdog.hpp"

#include <string>

// CppUTest's leak detector redefines new: it comes after every other header.
#include <CppUTest/TestHarness.h>

using namespace fieldgate;

namespace {

config::Config two_buses() {
    // Model "wide": two tables, two blocks; model "narrow": one block.
    const std::string text =
        "[gateway]\nproduct_key = gwPk\ndevice_key = gwDk\ndevice_secret = s\n\n"
        "[mqtt]\nuri = tcp://127.0.0.1:1883\n\n"
        "[bus.fast]\ntype = tcp\nhost = 127.0.0.1\ntimeout = 500ms\n\n"
        "[bus.slow]\ntype = tcp\nhost = 127.0.0.2\ntimeout = 1s\n\n"
        "[model.wide]\na = holding:0 uint16\nb = input:0 uint16\n\n"
        "[model.narrow]\na = holding:0 uint16\n\n"
        "[device.a]\nmodel = wide\nbus = fast\n\n"
        "[device.b]\nproduct_key = p\ndevice_key = b\ndevice_secret = s\nmodel = narrow\nbus = slow\n"
        "timeout = 20s\n";
    auto r = config::load_texts({{"main.ini", text}});
    if (!r.config) FAIL(r.errors.empty() ? "no config" : r.errors[0].c_str());
    return *r.config;
}

}  // namespace

TEST_GROUP(Watchdog){};

TEST(Watchdog, worst_case_poll_is_the_timeout_times_blocks_plus_the_line_opening) {
    const auto cfg = two_buses();
    LONGS_EQUAL(500 * 3, daemon::worst_case_poll_ms(cfg, {0}));     // 2 blocks + 1
    LONGS_EQUAL(20'000 * 2, daemon::worst_case_poll_ms(cfg, {1}));  // the device's own timeout
    LONGS_EQUAL(40'000, daemon::worst_case_poll_ms(cfg, {0, 1}));
}

TEST(Watchdog, a_bus_counts_as_hung_only_past_its_worst_case_poll) {
    daemon::BusHealth b{"fast", 1500 + daemon::kStallSlackMs, 1500};
    CHECK_FALSE(b.stalled());
    LONGS_EQUAL(0, b.stalled_ms());
    b.heartbeat_age_ms += 10;
    CHECK_TRUE(b.stalled());
    LONGS_EQUAL(10, b.stalled_ms());
}

TEST(Watchdog, the_config_check_names_the_buses_slower_than_the_watchdog_period) {
    const auto cfg = two_buses();
    CHECK_TRUE(daemon::watchdog_warnings(cfg, 0).empty());  // no watchdog
    const auto w = daemon::watchdog_warnings(cfg, 10'000);
    LONGS_EQUAL(1, w.size());
    CHECK(w[0].rfind("bus=slow:", 0) == 0);
    CHECK_TRUE(daemon::watchdog_warnings(cfg, 60'000).empty());
}
