#pragma once
#include <string>
#include <vector>

#include "fieldgate/config/config.hpp"

namespace fieldgate::daemon {

/// What a SIGHUP changes (DESIGN.md "The worst day": Reload). Pure: compares two validated
/// configurations.
struct ReloadPlan {
    /// [gateway] identity (product_key, device_key, secret) and every [mqtt] key unchanged: the
    /// MQTT connection, its in-flight window and its connect throttle are kept.
    bool keep_connection = true;
    /// Changed keys that are applied now, as "[section] key" (buses, models and devices are
    /// named by section): for the log.
    std::vector<std::string> applied;
    /// Changed keys that take effect on the next start only ([store] path, [gateway]
    /// control_socket): each is named in a warning.
    std::vector<std::string> on_restart;
};

ReloadPlan plan_reload(const config::Config& running, const config::Config& loaded);

}  // namespace fieldgate::daemon
