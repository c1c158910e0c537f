// What systemd and the journal see: STATUS= when it changes, a summary line every minute, and
// WATCHDOG=1 only while every bus thread is alive.
#include <systemd/sd-daemon.h>

#include <map>

#include "daemon_impl.hpp"
#include "fieldgate/util/log.hpp"
#include "fieldgate/util/units.hpp"

namespace fieldgate::daemon {

StatusInputs Daemon::Impl::inputs(const store::StoreStats& st, const uplink::UplinkStats& up) const {
    std::map<std::string, std::string> sessions;
    for (const auto& d : cfg->devices)
        if (!d.is_gateway()) sessions[d.name] = uplink->session_of(d.name);
    return StatusInputs{
        *cfg,        *registry,        st,   up, clock.wall_ms(), started_ms, queue.dropped(), std::move(sessions),
        clock_valid, unstamped.size(), drops};
}

void Daemon::Impl::publish_status() {
    const auto st = store->stats();
    const auto up = uplink->stats();
    const std::string line = status_line(inputs(st, up));
    if (line != last_status) {
        sd_notifyf(0, "STATUS=%s", line.c_str());
        last_status = line;
    }
    const std::int64_t now = clock.mono_ms();
    if (now - last_summary_mono >= kSummaryEveryMs) {
        util::log_info("summary: " + line + "; last " + util::format_duration_ms(now - last_summary_mono) + ": " +
                       std::to_string(readings_total - readings_at_summary) + " readings, " +
                       std::to_string(up.delivered - delivered_at_summary) + " records delivered");
        last_summary_mono = now;
        readings_at_summary = readings_total;
        delivered_at_summary = up.delivered;
    }
}

bool Daemon::Impl::threads_alive() const {
    const std::int64_t now = clock.mono_ms();
    // A poll can block for one request time-out per block; allow the watchdog period on top.
    const auto limit = static_cast<std::int64_t>(watchdog_usec / 1000);
    for (const auto& p : pollers)
        if (now - p->heartbeat_mono() > limit) return false;
    return true;
}

int Daemon::Impl::on_status_timer(sd_event_source* s, std::uint64_t, void* ud) noexcept {
    auto* self = static_cast<Impl*>(ud);
    try {
        self->publish_status();
    } catch (const std::exception& e) {
        util::log_warning(std::string("status: ") + e.what());
    }
    sd_event_source_set_time_relative(s, kStatusEveryUs);
    sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
    return 0;
}

int Daemon::Impl::on_watchdog_timer(sd_event_source* s, std::uint64_t, void* ud) noexcept {
    auto* self = static_cast<Impl*>(ud);
    if (self->threads_alive())
        sd_notify(0, "WATCHDOG=1");
    else
        util::log_error("watchdog: a bus thread stopped answering; withholding WATCHDOG=1");
    sd_event_source_set_time_relative(s, self->watchdog_usec / 2);
    sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
    return 0;
}

}  // namespace fieldgate::daemon
