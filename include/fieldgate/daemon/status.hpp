#pragma once
#include <json/value.h>

#include <cstdint>
#include <map>
#include <string>

#include "fieldgate/config/config.hpp"
#include "fieldgate/daemon/registry.hpp"
#include "fieldgate/daemon/watchdog.hpp"
#include "fieldgate/store/record.hpp"
#include "fieldgate/uplink/uplink.hpp"

namespace fieldgate::daemon {

/// Everything `fieldgatectl status` shows, gathered by the main thread.
struct StatusInputs {
    const config::Config& config;
    const DeviceRegistry& registry;
    const store::StoreStats& store;
    const uplink::UplinkStats& uplink;
    std::int64_t now_ms;                          ///< wall-clock
    std::int64_t started_ms;                      ///< wall-clock start of the daemon
    std::uint64_t readings_dropped;               ///< queue overflow
    std::map<std::string, std::string> sessions;  ///< sub-device name -> cloud session
    bool clock_valid = true;                      ///< the wall clock reads 2020 or later
    std::uint64_t unstamped = 0;                  ///< readings waiting for the wall clock
    /// Readings dropped before they reached the store, by reason ("queue_full", ...): shown
    /// with the store's own drops.
    std::map<std::string, std::uint64_t> drops;
    std::vector<BusHealth> buses;  ///< the bus threads, for the watchdog's view
};

/// The status document (DESIGN.md "Command line and status contract").
Json::Value status_json(const StatusInputs& in);

/// The one-line systemd STATUS=: "12/14 devices online, 1532 buffered (oldest 3min), uplink connected".
std::string status_line(const StatusInputs& in);

}  // namespace fieldgate::daemon
