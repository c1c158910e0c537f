#include "fieldgate/daemon/watchdog.hpp"

#include <algorithm>
#include <map>

#include "fieldgate/modbus/planner.hpp"
#include "fieldgate/util/units.hpp"

namespace fieldgate::daemon {

std::int64_t worst_case_poll_ms(const config::Config& cfg, const std::vector<std::size_t>& devices) {
    std::int64_t worst = 0;
    for (auto i : devices) {
        const config::Device& d = cfg.devices.at(i);
        const auto blocks = static_cast<std::int64_t>(modbus::plan_reads(cfg.model_of(d).points).blocks.size());
        worst = std::max(worst, cfg.timeout_of(d) * (blocks + 1));
    }
    return worst;
}

std::vector<std::string> watchdog_warnings(const config::Config& cfg, std::int64_t watchdog_ms) {
    std::vector<std::string> out;
    if (watchdog_ms <= 0) return out;
    std::map<std::string, std::vector<std::size_t>> by_bus;
    for (std::size_t i = 0; i < cfg.devices.size(); ++i)
        by_bus[cfg.devices[i].bus].push_back(i);
    for (const auto& [bus, devices] : by_bus) {
        const std::int64_t limit = worst_case_poll_ms(cfg, devices) + kStallSlackMs;
        if (limit <= watchdog_ms) continue;
        out.push_back("bus=" + bus + ": its worst-case poll (time-out x blocks) is " +
                      util::format_duration_ms(limit - kStallSlackMs) + ", longer than the watchdog period " +
                      util::format_duration_ms(watchdog_ms) + ": a hung bus thread is noticed only after " +
                      util::format_duration_ms(limit) + "; shorten the time-outs or lengthen WatchdogSec=");
    }
    return out;
}

}  // namespace fieldgate::daemon
