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
    return StatusInputs{*cfg,
                        *registry,
                        st,
                        up,
                        clock.wall_ms(),
                        started_ms,
                        queue.dropped(),
                        std::move(sessions),
                        clock_valid,
                        unstamped.size(),
                        drops,
                        bus_health()};
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

std::vector<BusHealth> Daemon::Impl::bus_health() const {
    const std::int64_t now = clock.mono_ms();
    std::vector<BusHealth> out;
    for (std::size_t i = 0; i < pollers.size(); ++i)
        out.push_back({pollers[i]->name(), now - pollers[i]->heartbeat_mono(), poller_worst_ms.at(i)});
    return out;
}

// A bus thread that died, or hangs beyond what its time-outs allow, stops WATCHDOG=1.
bool Daemon::Impl::threads_alive() {
    std::string hung;
    for (const auto& b : bus_health())
        if (b.stalled())
            hung += (hung.empty() ? "" : ", ") + b.name + " (no sign of life for " +
                    util::format_duration_ms(b.heartbeat_age_ms) + ", worst-case poll " +
                    util::format_duration_ms(b.worst_case_poll_ms) + ")";
    if (hung.empty()) return true;
    if (watchdog_log.allow(clock.mono_ms()))
        util::log_error("watchdog: bus thread hung or dead: " + hung + "; withholding WATCHDOG=1");
    return false;
}

void Daemon::Impl::warn_about_watchdog() const {
    for (const auto& w : watchdog_warnings(*cfg, static_cast<std::int64_t>(watchdog_usec / 1000)))
        util::log_warning("watchdog: " + w);
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
    if (self->threads_alive()) sd_notify(0, "WATCHDOG=1");
    sd_event_source_set_time_relative(s, self->watchdog_usec / 2);
    sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
    return 0;
}

}  // namespace fieldgate::daemon
