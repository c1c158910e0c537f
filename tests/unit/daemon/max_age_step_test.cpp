// max_age sweeps under wall-clock steps: the daemon sweeps with util::SteadyWall, so a step
// forward by hours or days never mass-expires the store, and a step back expires nothing early.
#include <stdlib.h>

#include <filesystem>
#include <string>

#include "fieldgate/store/sqlite_store.hpp"
#include "fieldgate/util/clock.hpp"

// CppUTest's leak detector redefines new: it comes after every other header.
#include <CppUTest/TestHarness.h>

using namespace fieldgate;

namespace {
constexpr std::int64_t kHourMs = 3'600'000;
constexpr std::int64_t kDayMs = 24 * kHourMs;
}  // namespace

TEST_GROUP(MaxAgeUnderClockSteps) {
    std::string dir;
    config::Store cfg;
    void setup() override {
        char tmpl[] = "/tmp/fg-maxage-XXXXXX";
        dir = mkdtemp(tmpl);
        cfg.path = dir + "/buffer.db";
        cfg.max_age_ms = 30 * kDayMs;
    }
    void teardown() override {
        std::filesystem::remove_all(dir);
    }
    void fill(store::SqliteStore & s, const util::FakeClock& clock, int n) {
        for (int i = 0; i < n; ++i)
            s.append({"m1", clock.wall_ms() - kHourMs + i, "{}"});
        s.commit();
    }
};

TEST(MaxAgeUnderClockSteps, a_step_forward_past_max_age_expires_nothing) {
    util::FakeClock clock;
    util::SteadyWall wall;
    std::uint64_t expired = 0;
    {
        store::SqliteStore s(cfg);
        fill(s, clock, 10);
        LONGS_EQUAL(0, s.expire(wall.now(clock)));
        clock.step_wall(40 * kDayMs);  // the records look 40 days old by the wall clock
        clock.advance(300'000);        // the next sweep
        expired = s.expire(wall.now(clock));
        LONGS_EQUAL(10, s.stats().records);
        // The raw wall clock would have sent them all to the dead letters.
        LONGS_EQUAL(10, s.expire(clock.wall_ms()));
    }
    LONGS_EQUAL(0, expired);
}

TEST(MaxAgeUnderClockSteps, a_step_back_expires_nothing_and_age_still_counts) {
    util::FakeClock clock;
    util::SteadyWall wall;
    store::SqliteStore s(cfg);
    fill(s, clock, 5);
    clock.step_wall(-6 * kHourMs);
    LONGS_EQUAL(0, s.expire(wall.now(clock)));
    clock.advance(31 * kDayMs);  // a month of monotonic time later they are old for real
    LONGS_EQUAL(5, s.expire(wall.now(clock)));
}
