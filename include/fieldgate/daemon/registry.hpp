#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "fieldgate/config/config.hpp"
#include "fieldgate/modbus/reading.hpp"

namespace fieldgate::daemon {

/// What the main thread knows of each device, for status and `values`.
struct DeviceStatus {
    bool online = false;
    std::uint64_t polls_ok = 0;
    std::uint64_t polls_failed = 0;
    std::int64_t last_good_poll_ms = 0;  ///< wall-clock; 0 = never
    std::string last_values;             ///< JSON object of the last good poll
    std::string last_error;
    std::uint64_t non_finite = 0;                      ///< points left out as NaN/inf, all time
    std::map<std::uint8_t, std::uint64_t> exceptions;  ///< Modbus exception replies by code, all time
};

/// Per-device state, indexed like Config::devices.
class DeviceRegistry {
public:
    explicit DeviceRegistry(std::size_t devices) : devices_(devices) {}
    void update(const modbus::Reading& r);
    const DeviceStatus& at(std::size_t i) const { return devices_.at(i); }
    void set(std::size_t i, const DeviceStatus& status) { devices_.at(i) = status; }
    std::size_t size() const { return devices_.size(); }
    std::size_t online() const;

private:
    std::vector<DeviceStatus> devices_;
};

}  // namespace fieldgate::daemon
