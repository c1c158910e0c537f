// Building and tearing down what a reload replaces: the registry and one poller thread per bus,
// and the MQTT client and uplink (replaced only when [gateway] or [mqtt] changed).
#include <map>
#include <random>

#include "daemon_impl.hpp"
#include "fieldgate/util/log.hpp"

namespace fieldgate::daemon {

void Daemon::Impl::build_runtime() {
    start_uplink();
    start_pollers(nullptr);
}

void Daemon::Impl::stop_runtime() {
    stop_pollers();
    stop_uplink();
}

uplink::Settings Daemon::Impl::uplink_settings() const {
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
    return s;
}

void Daemon::Impl::start_uplink() {
    mqtt = std::make_unique<mqtt::PahoClient>(cfg->mqtt.uri);
    uplink = std::make_unique<uplink::Uplink>(uplink_settings(), *mqtt, *store, clock, std::random_device{}());
    uplink->set_service_handler(this);
    check(sd_event_add_io(event, &mqtt_source, mqtt->event_fd(), EPOLLIN, &Impl::on_mqtt, this), "mqtt events");
    uplink->start();
    rearm_uplink();
}

void Daemon::Impl::stop_uplink() {
    mqtt_source = sd_event_source_disable_unref(mqtt_source);
    uplink.reset();
    mqtt.reset();  // disconnects
}

void Daemon::Impl::start_pollers(const config::Config* previous) {
    auto fresh = std::make_unique<DeviceRegistry>(cfg->devices.size());
    // A reload keeps what is known of the devices that stay (counters, last values).
    if (previous && registry)
        for (std::size_t i = 0; i < cfg->devices.size(); ++i)
            for (std::size_t j = 0; j < previous->devices.size() && j < registry->size(); ++j)
                if (previous->devices[j].name == cfg->devices[i].name) fresh->set(i, registry->at(j));
    registry = std::move(fresh);

    for (const auto& group : modbus::group_buses(*cfg)) {
        pollers.push_back(std::make_unique<modbus::BusPoller>(*cfg, group, queue));
        pollers.back()->set_write_sink(&write_results);
        std::vector<std::size_t> devices;  // one thread polls them one at a time
        for (const auto& line : group.lines)
            devices.insert(devices.end(), line.second.begin(), line.second.end());
        poller_worst_ms.push_back(worst_case_poll_ms(*cfg, devices));
    }
    // After a reload the devices kept their health: their sessions follow it from the start.
    for (std::size_t i = 0; i < cfg->devices.size(); ++i)
        if (registry->at(i).online) uplink->set_device_online(cfg->devices[i].name, true);
    for (auto& p : pollers)
        p->start();
    rearm_uplink();
}

void Daemon::Impl::stop_pollers() {
    // What was read is made durable before anything else can fail or take time.
    take_readings();
    store->commit();
    // Each bus cuts its request in progress short instead of waiting out a time-out.
    for (auto& p : pollers)
        p->stop();
    pollers.clear();
    poller_worst_ms.clear();
    take_readings();
    if (store->commit() > 0 && uplink) uplink->on_records_committed();
}

}  // namespace fieldgate::daemon
