// The uplink's share of the event loop: MQTT events posted by Paho's threads, and the timer for
// the uplink's next deadline (reply time-outs, retries, connect throttle).
#include <limits>

#include "daemon_impl.hpp"
#include "fieldgate/util/log.hpp"

namespace fieldgate::daemon {

void Daemon::Impl::rearm_uplink() {
    if (!uplink || !uplink_timer) return;
    const std::int64_t next = uplink->next_wakeup_mono();
    if (next == std::numeric_limits<std::int64_t>::max()) {
        sd_event_source_set_enabled(uplink_timer, SD_EVENT_OFF);
        return;
    }
    sd_event_source_set_time(uplink_timer, usec_of_ms(std::max(next, clock.mono_ms())));
    sd_event_source_set_enabled(uplink_timer, SD_EVENT_ONESHOT);
}

int Daemon::Impl::on_mqtt(sd_event_source*, int, std::uint32_t, void* ud) noexcept {
    auto* self = static_cast<Impl*>(ud);
    try {
        for (const auto& e : self->mqtt->drain_events()) {
            // One event that fails (a message nothing could make sense of) must not cost the
            // events drained with it: each is handled on its own.
            try {
                if (self->mqtt->is_current(e)) self->uplink->on_event(e);  // an event may end its connection
            } catch (const std::exception& err) {
                util::log_error(std::string("uplink: ") + err.what());
            }
        }
        self->rearm_uplink();
    } catch (const std::exception& e) {
        util::log_error(std::string("uplink: ") + e.what());
    }
    return 0;
}

int Daemon::Impl::on_uplink_timer(sd_event_source*, std::uint64_t, void* ud) noexcept {
    auto* self = static_cast<Impl*>(ud);
    if (!self->uplink) return 0;
    try {
        self->uplink->tick();
        self->rearm_uplink();
    } catch (const std::exception& e) {
        util::log_error(std::string("uplink: ") + e.what());
    }
    return 0;
}

}  // namespace fieldgate::daemon
