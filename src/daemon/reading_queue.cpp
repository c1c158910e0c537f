#include "fieldgate/daemon/reading_queue.hpp"

#include <algorithm>
#include <utility>

#include "fieldgate/util/clock.hpp"

namespace fieldgate::daemon {

ReadingQueue::ReadingQueue(std::size_t capacity)
    : capacity_(capacity), wake_at_(std::max<std::size_t>(1, std::min(kWakeBatch, capacity / 2))) {}

void ReadingQueue::push(modbus::Reading reading) {
    if (reading.mono_ms == 0) {
        // The poll stamped the wall clock when its first reply came; the age since then is short
        // (one poll) unless the wall clock was stepped in between: bounded to [0, 60 s].
        const util::SystemClock clock;
        const std::int64_t age = std::clamp<std::int64_t>(clock.wall_ms() - reading.time_ms, 0, 60'000);
        reading.mono_ms = clock.mono_ms() - age;
    }
    const auto waiting = items_.put(std::move(reading), capacity_);
    if (!waiting) {
        ++dropped_;
        return;
    }
    if (*waiting == wake_at_) items_.wake();
}

}  // namespace fieldgate::daemon
