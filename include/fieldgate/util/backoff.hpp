#pragma once
#include <cstdint>
#include <random>

namespace fieldgate::util {

/// Exponential back-off with "equal jitter": the n-th delay is drawn from [d/2, d] where
/// d = min(max_ms, min_ms * 2^n). Jitter spreads the reconnects of many gateways after a
/// shared outage; the lower bound keeps each one from hammering.
class Backoff {
public:
    Backoff(std::int64_t min_ms, std::int64_t max_ms, std::uint64_t seed = std::random_device{}());
    /// The delay before the next attempt (ms); each call doubles the base up to max_ms.
    std::int64_t next_ms();
    /// Back to min_ms after a success.
    void reset() { attempt_ = 0; }
    unsigned attempts() const { return attempt_; }

private:
    std::int64_t min_ms_;
    std::int64_t max_ms_;
    unsigned attempt_ = 0;
    std::mt19937_64 rng_;
};

}  // namespace fieldgate::util
