// The daemon's lifecycle: start in dependency order, the sd-event loop, signals, reload, and
// teardown in reverse. The other roles of Daemon::Impl live beside it (see daemon_impl.hpp).
#include "fieldgate/daemon/daemon.hpp"

#include <systemd/sd-daemon.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <system_error>

#include "daemon_impl.hpp"
#include "fieldgate/util/log.hpp"

namespace fieldgate::daemon {

Daemon::Impl::~Impl() {
    disarm_stop_deadline();
    mqtt_source = sd_event_source_unref(mqtt_source);
    uplink_timer = sd_event_source_unref(uplink_timer);
    commit_timer = sd_event_source_unref(commit_timer);
    if (event) sd_event_unref(event);
}

void Daemon::Impl::check(int rc, const char* what) {
    if (rc < 0) throw std::runtime_error(std::string("event loop: ") + what + ": " + std::strerror(-rc));
}

void Daemon::Impl::arm_stop_deadline() {
    if (stop_guard.joinable()) return;
    try {
        stop_guard = std::thread([this] {
            std::unique_lock<std::mutex> lock(stop_mutex);
            if (stop_cv.wait_for(lock, std::chrono::milliseconds(kStopDeadlineMs), [this] { return stop_done; }))
                return;
            // What was read was committed first; the store's WAL keeps every commit that landed.
            util::log_error("stop: still not stopped " + std::to_string(kStopDeadlineMs) +
                            " ms after the signal (a bus thread does not return); exiting anyway");
            std::_Exit(kExitRuntime);
        });
    } catch (const std::system_error& e) {
        util::log_warning(std::string("stop: no deadline thread: ") + e.what());
    }
}

void Daemon::Impl::disarm_stop_deadline() {
    {
        std::lock_guard<std::mutex> lock(stop_mutex);
        stop_done = true;
    }
    stop_cv.notify_all();
    if (stop_guard.joinable()) stop_guard.join();
}

// sd-event trampolines: nothing may throw out of them.
int Daemon::Impl::on_signal(sd_event_source*, const signalfd_siginfo* si, void* ud) noexcept {
    auto* self = static_cast<Impl*>(ud);
    if (si->ssi_signo == SIGHUP) {
        sd_notify(0, "RELOADING=1");
        try {
            self->reload();
        } catch (const std::exception& e) {
            util::log_error(std::string("reload failed: ") + e.what());
            self->exit_code = kExitRuntime;
            sd_event_exit(self->event, kExitRuntime);
        }
        sd_notify(0, "READY=1");
        return 0;
    }
    util::log_notice(std::string("stopping on ") + strsignal(static_cast<int>(si->ssi_signo)));
    sd_notify(0, "STOPPING=1");
    self->arm_stop_deadline();
    sd_event_exit(self->event, 0);
    return 0;
}

int Daemon::Impl::run() {
    started_ms = clock.wall_ms();
    last_summary_mono = clock.mono_ms();
    try {
        store = std::make_unique<store::SqliteStore>(cfg->store);
        control = std::make_unique<ControlServer>(cfg->gateway.control_socket,
                                                  [this](const std::string& r) { return handle_control(r); });
    } catch (const std::exception& e) {
        util::log_error(e.what());
        sd_notifyf(0, "STATUS=cannot start: %s", e.what());
        return kExitRuntime;
    }
    check(sd_event_new(&event), "new");
    for (int sig : {SIGTERM, SIGINT, SIGHUP})
        check(sd_event_add_signal(event, nullptr, sig, &Impl::on_signal, this), "signal");
    check(sd_event_add_io(event, nullptr, queue.event_fd(), EPOLLIN, &Impl::on_readings, this), "readings");
    check(sd_event_add_io(event, nullptr, write_results.event_fd(), EPOLLIN, &Impl::on_write_results, this), "writes");
    check(sd_event_add_io(event, nullptr, control->fd(), EPOLLIN, &Impl::on_control, this), "control socket");
    check(sd_event_add_time(event, &uplink_timer, CLOCK_MONOTONIC, 0, 1000, &Impl::on_uplink_timer, this),
          "uplink timer");
    sd_event_source_set_enabled(uplink_timer, SD_EVENT_OFF);
    check(sd_event_add_time_relative(event, &commit_timer, CLOCK_MONOTONIC, usec_of_ms(cfg->store.commit_interval_ms),
                                     1000, &Impl::on_commit_timer, this),
          "commit timer");
    store->expire(expiry_wall.now(clock));  // a gateway that was off for long starts with the old sorted out
    store->enforce_max_bytes();
    check(sd_event_add_time_relative(event, nullptr, CLOCK_MONOTONIC, kExpireEveryUs, 1'000'000, &Impl::on_expire_timer,
                                     this),
          "expire timer");
    check(sd_event_add_time_relative(event, nullptr, CLOCK_MONOTONIC, kStatusEveryUs, 100'000, &Impl::on_status_timer,
                                     this),
          "status timer");
    if (sd_watchdog_enabled(0, &watchdog_usec) > 0 && watchdog_usec > 0)
        check(sd_event_add_time_relative(event, nullptr, CLOCK_MONOTONIC, watchdog_usec / 2, 100'000,
                                         &Impl::on_watchdog_timer, this),
              "watchdog timer");

    stamp_unstamped();  // says so at once when the wall clock is not set
    build_runtime();
    const auto st = store->stats();
    util::log_notice(std::string("fieldgated ") + FIELDGATE_VERSION +
                     " running: " + std::to_string(cfg->devices.size()) + " devices on " +
                     std::to_string(cfg->buses.size()) + " buses, store " + cfg->store.path + " (" +
                     std::to_string(st.records) + " records buffered), uplink " + cfg->mqtt.uri);
    warn_about_watchdog();
    sd_notify(0, "READY=1");
    publish_status();

    const int rc = sd_event_loop(event);
    if (rc < 0) {
        util::log_error(std::string("event loop failed: ") + std::strerror(-rc));
        exit_code = kExitRuntime;
    }
    stop_runtime();
    dead_letter_unstamped();
    const auto left = store->stats();
    util::log_notice("stopped; " + std::to_string(left.records) + " records kept in " + cfg->store.path + " (" +
                     std::to_string(readings_total) + " readings taken since start)");
    control.reset();
    store.reset();
    disarm_stop_deadline();
    return exit_code;
}

Daemon::Daemon(std::string config_path, config::Config config) : impl_(std::make_unique<Impl>()) {
    impl_->config_path = std::move(config_path);
    impl_->cfg = std::make_unique<config::Config>(std::move(config));
}

Daemon::~Daemon() = default;

int Daemon::run() {
    try {
        return impl_->run();
    } catch (const std::exception& e) {
        util::log_error(e.what());
        sd_notifyf(0, "STATUS=failed: %s", e.what());
        return kExitRuntime;
    }
}

}  // namespace fieldgate::daemon
