#include "fieldgate/daemon/reading_queue.hpp"

#include "fieldgate/util/clock.hpp"

// CppUTest's leak detector redefines new: it comes after every other header.
#include <CppUTest/TestHarness.h>

using namespace fieldgate;

TEST_GROUP(ReadingQueue){};

TEST(ReadingQueue, a_full_queue_drops_and_counts_instead_of_blocking) {
    daemon::ReadingQueue q(2);
    for (int i = 0; i < 5; ++i)
        q.push(modbus::Reading{});
    LONGS_EQUAL(3, q.dropped());
    LONGS_EQUAL(2, q.drain().size());
    q.push(modbus::Reading{});
    LONGS_EQUAL(1, q.drain().size());
    LONGS_EQUAL(3, q.dropped());
}

TEST(ReadingQueue, a_reading_gets_its_monotonic_acquisition_time_on_arrival) {
    const util::SystemClock clock;
    daemon::ReadingQueue q(4);
    modbus::Reading r;
    r.time_ms = clock.wall_ms() - 300;  // acquired 300 ms ago
    const std::int64_t before = clock.mono_ms();
    q.push(r);
    const auto out = q.drain();
    LONGS_EQUAL(1, out.size());
    CHECK(out[0].mono_ms <= before - 300 + 50);
    CHECK(out[0].mono_ms >= before - 300 - 5'000);
}
