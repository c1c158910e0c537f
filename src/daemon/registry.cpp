#include "fieldgate/daemon/registry.hpp"

#include <algorithm>

namespace fieldgate::daemon {

void DeviceRegistry::update(const modbus::Reading& r) {
    if (r.device >= devices_.size()) return;
    DeviceStatus& d = devices_[r.device];
    d.online = r.online;
    d.non_finite += r.non_finite;
    for (const auto code : r.exceptions)
        ++d.exceptions[code];
    if (r.ok) {
        ++d.polls_ok;
        d.last_good_poll_ms = r.time_ms;
        d.last_values = r.measurepoints;
        d.last_error.clear();
    } else {
        ++d.polls_failed;
        d.last_error = r.error;
    }
}

std::size_t DeviceRegistry::online() const {
    return static_cast<std::size_t>(
        std::count_if(devices_.begin(), devices_.end(), [](const DeviceStatus& d) { return d.online; }));
}

}  // namespace fieldgate::daemon
