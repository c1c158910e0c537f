#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace fieldgate::modbus {

/// The outcome of one poll of one device, handed from a bus thread to the main thread.
struct Reading {
    std::size_t device = 0;                ///< index into Config::devices
    std::int64_t time_ms = 0;              ///< wall-clock acquisition time
    std::int64_t mono_ms = 0;              ///< monotonic acquisition time (set by the daemon's queue on arrival)
    bool ok = false;                       ///< every block read
    bool online = false;                   ///< the device's health after this poll
    std::string measurepoints;             ///< compact JSON object; empty when nothing was read
    unsigned non_finite = 0;               ///< points left out as NaN/inf
    std::vector<std::uint8_t> exceptions;  ///< Modbus exception codes the device replied in this poll
    std::string error;                     ///< why the poll failed (for status and logs)
};

/// Where bus threads put readings. Implementations must be thread-safe and must not block
/// for long (a full queue drops the reading and counts it).
class ReadingSink {
public:
    virtual ~ReadingSink() = default;
    virtual void push(Reading reading) = 0;
};

}  // namespace fieldgate::modbus
