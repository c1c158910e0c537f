#pragma once
#include <cstdint>

namespace fieldgate::util {

/// The time seam: production code asks a Clock, tests hand in a FakeClock so back-off and
/// time-outs run without sleeping.
class Clock {
public:
    virtual ~Clock() = default;
    /// Wall-clock time, milliseconds since the Unix epoch (for record stamps).
    virtual std::int64_t wall_ms() const = 0;
    /// Monotonic time in milliseconds (for schedules and time-outs; never jumps).
    virtual std::int64_t mono_ms() const = 0;
};

/// CLOCK_REALTIME and CLOCK_MONOTONIC.
class SystemClock final : public Clock {
public:
    std::int64_t wall_ms() const override;
    std::int64_t mono_ms() const override;
};

/// 2020-01-01T00:00:00Z. A wall clock that reads earlier is not set (a box without a real-time
/// clock before NTP has synced): readings are not stamped with it (DESIGN.md "No clock").
inline constexpr std::int64_t kWallValidFromMs = 1'577'836'800'000;
inline bool wall_clock_valid(std::int64_t wall_ms) {
    return wall_ms >= kWallValidFromMs;
}

/// Wall time for sweeps counted in wall time (max_age) that must not jump with the wall clock
/// (NTP stepping it by hours): it follows the wall clock back at once, forward no faster than
/// the monotonic clock, and to the wall clock at once when that becomes valid. So a step
/// forward never expires a record early; the cost is that after a legitimate step forward,
/// records are kept that much longer while the daemon runs.
class SteadyWall {
public:
    std::int64_t now(const Clock& clock);

private:
    bool have_ = false;
    std::int64_t wall_ = 0;
    std::int64_t mono_ = 0;
};

/// A clock that moves only when told to.
class FakeClock final : public Clock {
public:
    explicit FakeClock(std::int64_t wall_ms = 1'700'000'000'000, std::int64_t mono_ms = 1'000)
        : wall_(wall_ms), mono_(mono_ms) {}
    std::int64_t wall_ms() const override { return wall_; }
    std::int64_t mono_ms() const override { return mono_; }
    void advance(std::int64_t ms) {
        wall_ += ms;
        mono_ += ms;
    }
    /// The wall clock alone is set (NTP stepping it, an operator running date -s).
    void step_wall(std::int64_t ms) { wall_ += ms; }

private:
    std::int64_t wall_;
    std::int64_t mono_;
};

}  // namespace fieldgate::util
