#include "fieldgate/util/backoff.hpp"

#include <algorithm>

namespace fieldgate::util {

Backoff::Backoff(std::int64_t min_ms, std::int64_t max_ms, std::uint64_t seed)
    : min_ms_(std::max<std::int64_t>(1, min_ms)), max_ms_(std::max(min_ms_, max_ms)), rng_{seed} {}

std::int64_t Backoff::next_ms() {
    std::int64_t base = min_ms_;
    for (unsigned i = 0; i < attempt_ && base < max_ms_; ++i)
        base *= 2;
    base = std::min(base, max_ms_);
    if (attempt_ < 64) ++attempt_;
    std::uniform_int_distribution<std::int64_t> dist(base / 2, base);
    return std::max<std::int64_t>(1, dist(rng_));
}

}  // namespace fieldgate::util
