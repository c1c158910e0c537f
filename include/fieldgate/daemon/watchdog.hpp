#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "fieldgate/config/config.hpp"

namespace fieldgate::daemon {

/// Slack on top of a bus's worst-case poll before it counts as hung: a quiet bus thread wakes
/// once a second, and a poll ends with a little work after its last request.
inline constexpr std::int64_t kStallSlackMs = 2000;

/// The longest one poll of one of `devices` (indexes into cfg.devices, all on one bus) may take
/// when every request waits out its time-out: time-out x (blocks of the device's plan + 1 for
/// opening the line). Pure.
std::int64_t worst_case_poll_ms(const config::Config& cfg, const std::vector<std::size_t>& devices);

/// One bus thread as the watchdog sees it.
struct BusHealth {
    std::string name;
    std::int64_t heartbeat_age_ms = 0;    ///< since the thread's last sign of life
    std::int64_t worst_case_poll_ms = 0;  ///< see worst_case_poll_ms()
    /// Hung or dead: no sign of life for longer than its worst-case poll plus kStallSlackMs.
    bool stalled() const { return heartbeat_age_ms > worst_case_poll_ms + kStallSlackMs; }
    /// How long past that limit (0 while alive).
    std::int64_t stalled_ms() const { return stalled() ? heartbeat_age_ms - worst_case_poll_ms - kStallSlackMs : 0; }
};

/// The config-time check against the systemd watchdog period: one warning per bus whose hang
/// would be noticed only after more than `watchdog_ms` (its worst-case poll plus slack). Empty
/// when the watchdog is off (watchdog_ms = 0).
std::vector<std::string> watchdog_warnings(const config::Config& cfg, std::int64_t watchdog_ms);

}  // namespace fieldgate::daemon
