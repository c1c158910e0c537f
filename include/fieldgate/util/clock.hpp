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

private:
    std::int64_t wall_;
    std::int64_t mono_;
};

}  // namespace fieldgate::util
