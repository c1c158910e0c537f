#include "fieldgate/util/clock.hpp"

// CppUTest's leak detector redefines new: it comes after every other header.
#include <CppUTest/TestHarness.h>

using namespace fieldgate::util;

namespace {
constexpr std::int64_t kHourMs = 3'600'000;
}

TEST_GROUP(SteadyWall){};

TEST(SteadyWall, follows_the_wall_clock_while_it_runs_with_the_monotonic_one) {
    FakeClock clock;
    SteadyWall w;
    LONGS_EQUAL(clock.wall_ms(), w.now(clock));
    clock.advance(10'000);
    LONGS_EQUAL(clock.wall_ms(), w.now(clock));
}

TEST(SteadyWall, a_step_forward_is_not_followed_faster_than_the_monotonic_clock) {
    FakeClock clock;
    SteadyWall w;
    const std::int64_t start = w.now(clock);
    clock.step_wall(kHourMs * 24 * 40);  // 40 days: would expire every record under max_age = 30d
    LONGS_EQUAL(start, w.now(clock));
    clock.advance(1000);
    LONGS_EQUAL(start + 1000, w.now(clock));
}

TEST(SteadyWall, a_step_back_is_followed_at_once) {
    FakeClock clock;
    SteadyWall w;
    w.now(clock);
    clock.step_wall(-3 * kHourMs);
    LONGS_EQUAL(clock.wall_ms(), w.now(clock));
}

TEST(SteadyWall, a_clock_set_for_the_first_time_is_followed_at_once) {
    FakeClock clock(978'307'200'000);  // 2001: no RTC, before NTP
    SteadyWall w;
    CHECK_FALSE(wall_clock_valid(w.now(clock)));
    clock.step_wall(1'700'000'000'000 - 978'307'200'000);
    LONGS_EQUAL(1'700'000'000'000, w.now(clock));
    CHECK_TRUE(wall_clock_valid(w.now(clock)));
}
