// Readings from the bus threads into the store; the group-commit and expiry timers.
#include "daemon_impl.hpp"
#include "fieldgate/enos/batch.hpp"
#include "fieldgate/util/log.hpp"

namespace fieldgate::daemon {

void Daemon::Impl::take_readings() {
    auto readings = queue.drain();
    for (auto& r : readings) {
        if (!registry || r.device >= cfg->devices.size()) continue;
        const bool was_online = registry->at(r.device).online;
        registry->update(r);
        // Sessions start offline, like the registry: only a change has something to say.
        if (uplink && r.online != was_online) uplink->set_device_online(cfg->devices[r.device].name, r.online);
        if (!r.ok) continue;
        const config::Device& d = cfg->devices[r.device];
        ++readings_total;
        store->append(
            {d.name, r.time_ms, enos::encode_record(d.product_key, d.device_key, r.time_ms, r.measurepoints)});
    }
}

int Daemon::Impl::on_readings(sd_event_source*, int, std::uint32_t, void* ud) noexcept {
    try {
        static_cast<Impl*>(ud)->take_readings();
    } catch (const std::exception& e) {
        util::log_error(std::string("readings: ") + e.what());
    }
    return 0;
}

int Daemon::Impl::on_commit_timer(sd_event_source* s, std::uint64_t, void* ud) noexcept {
    auto* self = static_cast<Impl*>(ud);
    try {
        self->take_readings();
        if (self->store->commit() > 0) {
            self->store->enforce_max_bytes();
            self->uplink->on_records_committed();
        } else if (self->store->memory_mode()) {
            self->uplink->on_records_committed();  // the store serves the uncommitted readings from memory
        }
        self->rearm_uplink();
    } catch (const std::exception& e) {
        util::log_error(std::string("store: ") + e.what());
    }
    sd_event_source_set_time_relative(s, usec_of_ms(self->cfg->store.commit_interval_ms));
    sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
    return 0;
}

int Daemon::Impl::on_expire_timer(sd_event_source* s, std::uint64_t, void* ud) noexcept {
    auto* self = static_cast<Impl*>(ud);
    try {
        self->store->expire(self->clock.wall_ms());
    } catch (const std::exception& e) {
        util::log_error(std::string("store: ") + e.what());
    }
    sd_event_source_set_time_relative(s, kExpireEveryUs);
    sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
    return 0;
}

}  // namespace fieldgate::daemon
