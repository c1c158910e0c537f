#include "fieldgate/daemon/reading_queue.hpp"

#include <poll.h>

#include "fieldgate/util/clock.hpp"

// CppUTest's leak detector redefines new: it comes after every other header.
#include <CppUTest/TestHarness.h>

using namespace fieldgate;

TEST_GROUP(ReadingQueue){};

namespace {
bool readable(int fd) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, 0) == 1;
}
}  // namespace

// The consumer is woken once per kWakeBatch readings, not per reading, and not only when half a
// large queue is full; draining makes the event quiet again.
TEST(ReadingQueue, wakes_the_consumer_once_a_batch_of_readings_waits) {
    daemon::ReadingQueue q(100'000);
    for (std::size_t i = 0; i + 1 < daemon::ReadingQueue::kWakeBatch; ++i)
        q.push(modbus::Reading{});
    CHECK_FALSE(readable(q.event_fd()));
    q.push(modbus::Reading{});
    CHECK(readable(q.event_fd()));
    LONGS_EQUAL(daemon::ReadingQueue::kWakeBatch, q.drain().size());
    CHECK_FALSE(readable(q.event_fd()));
    q.push(modbus::Reading{});
    CHECK_FALSE(readable(q.event_fd()));
}

TEST(ReadingQueue, a_small_queue_wakes_the_consumer_at_half_its_capacity) {
    daemon::ReadingQueue q(8);
    for (int i = 0; i < 3; ++i)
        q.push(modbus::Reading{});
    CHECK_FALSE(readable(q.event_fd()));
    q.push(modbus::Reading{});
    CHECK(readable(q.event_fd()));
}

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
