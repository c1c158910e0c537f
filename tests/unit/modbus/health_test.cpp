#include "fieldgate/modbus/health.hpp"

// CppUTest's leak detector redefines new: it comes after every other header.
#include <CppUTest/TestHarness.h>

using fieldgate::modbus::DeviceHealth;

TEST_GROUP(DeviceHealth){};

TEST(DeviceHealth, a_good_poll_brings_a_device_online_on_its_interval) {
    DeviceHealth h(1000, 3, 30'000);
    bool changed = false;
    LONGS_EQUAL(2000, h.record(true, 1000, changed));
    CHECK(changed);
    CHECK(h.online());
    LONGS_EQUAL(3000, h.record(true, 2000, changed));
    CHECK_FALSE(changed);
}

TEST(DeviceHealth, an_online_device_goes_offline_after_offline_after_failures) {
    DeviceHealth h(1000, 3, 30'000);
    bool changed = false;
    h.record(true, 0, changed);
    LONGS_EQUAL(2000, h.record(false, 1000, changed));  // still online: polled on schedule
    CHECK(h.online());
    h.record(false, 2000, changed);
    CHECK(h.online());
    h.record(false, 3000, changed);
    CHECK(changed);
    CHECK_FALSE(h.online());
    LONGS_EQUAL(3, h.consecutive_failures());
}

TEST(DeviceHealth, an_offline_device_is_probed_with_a_doubling_interval_up_to_probe_max) {
    DeviceHealth h(1000, 1, 8000);
    bool changed = false;
    std::int64_t t = 0;
    const std::int64_t expected_gaps[] = {1000, 2000, 4000, 8000, 8000, 8000};
    for (auto gap : expected_gaps) {
        const std::int64_t next = h.record(false, t, changed);
        LONGS_EQUAL(gap, next - t);
        t = next;
    }
    // It answers again: online at once and back on its interval.
    LONGS_EQUAL(t + 1000, h.record(true, t, changed));
    CHECK(changed);
    LONGS_EQUAL(t + 2000, h.record(false, t + 1000, changed));  // probing starts over from the interval
}

TEST(DeviceHealth, a_device_never_seen_is_offline_from_its_first_failure_without_a_transition) {
    DeviceHealth h(500, 3, 30'000);
    bool changed = true;
    h.record(false, 0, changed);
    CHECK_FALSE(changed);
    CHECK_FALSE(h.online());
}

TEST(DeviceHealth, probing_never_goes_faster_than_the_interval) {
    DeviceHealth h(60'000, 1, 30'000);  // probe_max below the interval
    bool changed = false;
    LONGS_EQUAL(60'000, h.record(false, 0, changed));
    LONGS_EQUAL(120'000, h.record(false, 60'000, changed));
}
