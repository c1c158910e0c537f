#pragma once
#include <cstdint>

namespace fieldgate::modbus {

/// A device's online state and poll schedule. Online after a good poll, offline after
/// `offline_after` failed polls in a row; while offline it is probed with a back-off from its
/// interval doubling up to probe_max, so a dead slave costs one time-out per probe, not per
/// poll. Pure: times are monotonic ms handed in.
class DeviceHealth {
public:
    DeviceHealth(std::int64_t interval_ms, std::uint32_t offline_after, std::int64_t probe_max_ms)
        : interval_ms_(interval_ms), offline_after_(offline_after), probe_max_ms_(probe_max_ms) {}

    /// Records a poll's outcome (started at `started_mono`) and returns the next due time.
    /// Returns true in `changed` when the device went online or offline.
    std::int64_t record(bool ok, std::int64_t started_mono, bool& changed);

    bool online() const { return online_; }
    std::uint32_t consecutive_failures() const { return failures_; }

private:
    std::int64_t interval_ms_;
    std::uint32_t offline_after_;
    std::int64_t probe_max_ms_;
    bool online_ = false;
    bool ever_online_ = false;
    std::uint32_t failures_ = 0;
    std::int64_t probe_ms_ = 0;
};

}  // namespace fieldgate::modbus
