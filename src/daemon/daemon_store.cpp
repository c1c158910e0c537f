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
        if (!util::wall_clock_valid(r.time_ms)) {
            hold_unstamped(d, r);
            continue;
        }
        store->append(
            {d.name, r.time_ms, enos::encode_record(d.product_key, d.device_key, r.time_ms, r.measurepoints)});
    }
    stamp_unstamped();
    note_queue_drops();
}

void Daemon::Impl::hold_unstamped(const config::Device& d, modbus::Reading& r) {
    if (unstamped.size() >= kMaxUnstamped) {
        unstamped.pop_front();
        if (drops["no_clock_overflow"]++ % 10'000 == 0)
            util::log_error("wall clock still not set: " + std::to_string(kMaxUnstamped) +
                            " readings wait for it; dropping the oldest (" +
                            std::to_string(drops["no_clock_overflow"]) + " so far)");
    }
    unstamped.push_back({d.name, d.product_key, d.device_key, std::move(r.measurepoints), r.mono_ms, r.time_ms});
}

void Daemon::Impl::stamp_unstamped() {
    const std::int64_t wall = clock.wall_ms();
    const bool valid = util::wall_clock_valid(wall);
    if (valid != clock_valid) {
        clock_valid = valid;
        if (valid)
            util::log_notice("wall clock set: " + std::to_string(unstamped.size()) +
                             " readings taken before it are stamped with their age");
        else
            util::log_warning("wall clock not set (it reads " + std::to_string(wall / 1000) +
                              " s after 1970, before 2020): readings wait in memory, on the monotonic clock, "
                              "until it is");
    }
    if (!valid || unstamped.empty()) return;
    const std::int64_t mono = clock.mono_ms();
    for (auto& u : unstamped) {
        const std::int64_t t = wall - (mono - u.mono_ms);
        store->append({u.device, t, enos::encode_record(u.product_key, u.device_key, t, u.measurepoints)});
    }
    unstamped.clear();
}

// At shutdown, readings the clock never came for: kept, as dead letters with reason no_clock.
void Daemon::Impl::dead_letter_unstamped() {
    if (unstamped.empty()) return;
    const std::size_t n = unstamped.size();
    const std::int64_t before = store->last_id();
    for (auto& u : unstamped)
        store->append(
            {u.device, u.time_ms, enos::encode_record(u.product_key, u.device_key, u.time_ms, u.measurepoints)});
    unstamped.clear();
    if (store->commit() == 0) {
        util::log_error(std::to_string(n) + " readings taken without a wall clock are lost: the store refused them");
        return;
    }
    std::vector<std::int64_t> ids;
    store::FetchRange range;
    range.after_id = before;
    for (;;) {
        const auto batch = store->fetch(range);
        if (batch.empty()) break;
        for (const auto& rec : batch)
            ids.push_back(rec.id);
        range.after_id = batch.back().id;
    }
    if (!store->dead_letter(ids, "no_clock", 0)) {
        util::log_error(std::to_string(ids.size()) +
                        " readings taken without a wall clock could not be moved to the dead letters");
        return;
    }
    util::log_warning(std::to_string(ids.size()) +
                      " readings taken while the wall clock was not set moved to the dead letters (no_clock)");
}

void Daemon::Impl::note_queue_drops() {
    const std::uint64_t total = queue.dropped();
    if (total == queue_dropped_seen) return;
    const std::uint64_t fresh = total - queue_dropped_seen;
    queue_dropped_seen = total;
    drops["queue_full"] = total;
    if (queue_drop_log.allow(clock.mono_ms()))
        util::log_error("reading queue full (" + std::to_string(kQueueCapacity) + "): " + std::to_string(fresh) +
                        " readings dropped, " + std::to_string(total) + " since start");
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
        self->store->expire(self->expiry_wall.now(self->clock));
    } catch (const std::exception& e) {
        util::log_error(std::string("store: ") + e.what());
    }
    sd_event_source_set_time_relative(s, kExpireEveryUs);
    sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
    return 0;
}

}  // namespace fieldgate::daemon
