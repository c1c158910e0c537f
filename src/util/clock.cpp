#include "fieldgate/util/clock.hpp"

#include <algorithm>
#include <ctime>

namespace fieldgate::util {
namespace {
std::int64_t read_ms(clockid_t id) {
    timespec ts{};
    clock_gettime(id, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}
}  // namespace

std::int64_t SystemClock::wall_ms() const {
    return read_ms(CLOCK_REALTIME);
}
std::int64_t SystemClock::mono_ms() const {
    return read_ms(CLOCK_MONOTONIC);
}

std::int64_t SteadyWall::now(const Clock& clock) {
    const std::int64_t wall = clock.wall_ms();
    const std::int64_t mono = clock.mono_ms();
    if (!have_ || (!wall_clock_valid(wall_) && wall_clock_valid(wall))) {
        have_ = true;
        wall_ = wall;
    } else {
        wall_ = std::min(wall, wall_ + (mono - mono_));
    }
    mono_ = mono;
    return wall_;
}

}  // namespace fieldgate::util
