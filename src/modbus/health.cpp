#include "fieldgate/modbus/health.hpp"

#include <algorithm>

namespace fieldgate::modbus {

std::int64_t DeviceHealth::record(bool ok, std::int64_t started_mono, bool& changed) {
    changed = false;
    if (ok) {
        changed = !online_;
        online_ = true;
        ever_online_ = true;
        failures_ = 0;
        probe_ms_ = 0;
        return started_mono + interval_ms_;
    }
    ++failures_;
    // A device never seen answering is offline from its first failure; one that was online
    // gets offline_after tries before it is declared gone.
    const bool now_offline = !ever_online_ || failures_ >= offline_after_;
    if (online_ && now_offline) {
        online_ = false;
        changed = true;
    }
    if (online_) return started_mono + interval_ms_;
    probe_ms_ = probe_ms_ == 0 ? interval_ms_ : std::min(probe_max_ms_, probe_ms_ * 2);
    probe_ms_ = std::max(probe_ms_, interval_ms_);
    return started_mono + probe_ms_;
}

}  // namespace fieldgate::modbus
