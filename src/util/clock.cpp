#include "fieldgate/util/clock.hpp"

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

}  // namespace fieldgate::util
