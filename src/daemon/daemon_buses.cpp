// Building and tearing down what a reload replaces: the registry, the MQTT client and uplink,
// and one poller thread per bus.
#include <map>
#include <random>

#include "daemon_impl.hpp"
#include "fieldgate/util/log.hpp"

namespace fieldgate::daemon {

void Daemon::Impl::build_runtime(const config::Config* previous) {
    auto fresh = std::make_unique<DeviceRegistry>(cfg->devices.size());
    // A reload keeps what is known of the devices that stay (counters, last values).
    if (previous && registry)
        for (std::size_t i = 0; i < cfg->devices.size(); ++i)
            for (std::size_t j = 0; j < previous->devices.size() && j < registry->size(); ++j)
                if (previous->devices[j].name == cfg->devices[i].name) fresh->set(i, registry->at(j));
    registry = std::move(fresh);
    uplink::Settings s;
    s.uplink = cfg->uplink;
    s.mqtt = cfg->mqtt;
    s.product_key = cfg->gateway.product_key;
    s.device_key = cfg->gateway.device_key;
    s.secret = cfg->gateway.device_secret;
    for (const auto& d : cfg->devices) {
        if (d.is_gateway())
            s.gateway_devices.insert(d.name);
        else
            s.subdevices.push_back({d.name, d.product_key, d.device_key, d.device_secret});
    }
    mqtt = std::make_unique<mqtt::PahoClient>(cfg->mqtt.uri);
    uplink = std::make_unique<uplink::Uplink>(std::move(s), *mqtt, *store, clock, std::random_device{}());
    uplink->set_service_handler(this);
    check(sd_event_add_io(event, &mqtt_source, mqtt->event_fd(), EPOLLIN, &Impl::on_mqtt, this), "mqtt events");

    std::map<std::string, std::vector<std::size_t>> by_bus;
    for (std::size_t i = 0; i < cfg->devices.size(); ++i)
        by_bus[cfg->devices[i].bus].push_back(i);
    for (auto& [bus, devices] : by_bus)
        pollers.push_back(std::make_unique<modbus::BusPoller>(*cfg, cfg->buses.at(bus), devices, queue));
    for (auto& p : pollers)
        p->set_write_sink(&write_results);
    // After a reload the devices kept their health: their sessions follow it from the start.
    for (std::size_t i = 0; i < cfg->devices.size(); ++i)
        if (registry->at(i).online) uplink->set_device_online(cfg->devices[i].name, true);
    uplink->start();
    for (auto& p : pollers)
        p->start();
    rearm_uplink();
}

void Daemon::Impl::stop_runtime() {
    for (auto& p : pollers)
        p->stop();
    pollers.clear();
    take_readings();
    store->commit();
    mqtt_source = sd_event_source_disable_unref(mqtt_source);
    uplink.reset();
    mqtt.reset();  // disconnects
}

// Settings this version accepts but cannot honour yet: said once at start, not hidden.
void Daemon::Impl::warn_about_unsupported() const {
    for (const auto& [name, bus] : cfg->buses)
        if (bus.type == config::BusType::Rtu)
            util::log_warning("bus=" + name + ": Modbus RTU is not yet tested in this version");
}

}  // namespace fieldgate::daemon
