// SIGHUP (DESIGN.md "The worst day": Reload): validate first; restart the pollers on the new
// buses, devices and models; keep the MQTT connection, its window and its connect throttle
// unless [gateway] or [mqtt] changed; apply every other key or name it in a warning. The store
// stays open throughout, so nothing buffered is lost.
#include "daemon_impl.hpp"
#include "fieldgate/daemon/reload.hpp"
#include "fieldgate/util/log.hpp"

namespace fieldgate::daemon {

void Daemon::Impl::reload() {
    util::log_notice("reloading " + config_path);
    auto loaded = config::load(config_path);
    for (const auto& w : loaded.warnings)
        util::log_warning(w);
    if (!loaded.config) {
        for (const auto& e : loaded.errors)
            util::log_error(e);
        util::log_error("reload refused: the new configuration is invalid; still running on the old one");
        return;
    }
    const ReloadPlan plan = plan_reload(*cfg, *loaded.config);
    for (const auto& key : plan.on_restart)
        util::log_warning("reload: " + key + " changes take effect on restart");

    stop_pollers();
    loaded.config->store.path = cfg->store.path;
    loaded.config->gateway.control_socket = cfg->gateway.control_socket;
    // The pollers held references into the old configuration: it goes only now.
    auto previous = std::move(cfg);
    cfg = std::make_unique<config::Config>(std::move(*loaded.config));
    try {
        store->reconfigure(cfg->store);
    } catch (const std::exception& e) {
        util::log_error(std::string("reload: [store] settings not applied: ") + e.what());
    }
    if (plan.keep_connection) {
        uplink->reconfigure(uplink_settings());
    } else {
        util::log_notice("reload: [gateway] or [mqtt] changed: connecting again");
        stop_uplink();
        start_uplink();
    }
    start_pollers(previous.get());
    warn_about_watchdog();

    std::string changes;
    for (const auto& key : plan.applied)
        changes += (changes.empty() ? "" : ", ") + key;
    util::log_notice("reloaded: " + std::to_string(cfg->devices.size()) + " devices on " +
                     std::to_string(pollers.size()) + " buses" +
                     (changes.empty() ? std::string("; nothing changed") : "; applied: " + changes));
}

}  // namespace fieldgate::daemon
