#pragma once
// Daemon::Impl, shared by the daemon's files, split by role:
//   daemon.cpp         lifecycle: start, the sd-event loop, signals, stop
//   daemon_buses.cpp   building and tearing down the pollers, the uplink and the registry
//   daemon_reload.cpp  SIGHUP
//   daemon_store.cpp   readings into the store, commit and expiry timers
//   daemon_uplink.cpp  MQTT events and the uplink timer
//   daemon_notify.cpp  sd_notify STATUS=, the summary log line, the watchdog
//   daemon_control.cpp the control socket's requests
//   daemon_writes.cpp  measurepoint set/get from the cloud and fieldgatectl write
#include <sys/signalfd.h>
#include <systemd/sd-event.h>

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "fieldgate/config/config.hpp"
#include "fieldgate/daemon/control_server.hpp"
#include "fieldgate/daemon/daemon.hpp"
#include "fieldgate/daemon/reading_queue.hpp"
#include "fieldgate/daemon/registry.hpp"
#include "fieldgate/daemon/status.hpp"
#include "fieldgate/daemon/watchdog.hpp"
#include "fieldgate/daemon/write_results.hpp"
#include "fieldgate/modbus/bus_poller.hpp"
#include "fieldgate/mqtt/paho_client.hpp"
#include "fieldgate/store/sqlite_store.hpp"
#include "fieldgate/uplink/uplink.hpp"
#include "fieldgate/util/clock.hpp"
#include "fieldgate/util/log.hpp"
#include "fieldgate/util/json_reader.hpp"

namespace fieldgate::daemon {

inline constexpr std::size_t kQueueCapacity = 100'000;
inline constexpr std::uint64_t kStatusEveryUs = 5'000'000;
// max_age is counted in days: a sweep every few minutes is exact enough and costs one scan.
inline constexpr std::uint64_t kExpireEveryUs = 300'000'000;
inline constexpr std::int64_t kSummaryEveryMs = 60'000;
// After SIGTERM/SIGINT the process is gone within this long, whatever happens (DESIGN.md: 5 s).
inline constexpr std::int64_t kStopDeadlineMs = 4'500;
// Readings taken while the wall clock is not set wait in memory for it (DESIGN.md "No clock"):
// at most this many, about a day of 1 s polls of one device; beyond, the oldest are dropped.
inline constexpr std::size_t kMaxUnstamped = 100'000;

inline std::uint64_t usec_of_ms(std::int64_t ms) {
    return static_cast<std::uint64_t>(std::max<std::int64_t>(0, ms)) * 1000;
}

struct Daemon::Impl final : uplink::ServiceHandler {
    std::string config_path;
    std::unique_ptr<config::Config> cfg;
    util::SystemClock clock;
    std::int64_t started_ms = 0;

    std::unique_ptr<store::SqliteStore> store;
    ReadingQueue queue{kQueueCapacity};
    std::unique_ptr<DeviceRegistry> registry;
    std::unique_ptr<mqtt::PahoClient> mqtt;
    std::unique_ptr<uplink::Uplink> uplink;
    std::vector<std::unique_ptr<modbus::BusPoller>> pollers;
    std::vector<std::int64_t> poller_worst_ms;  ///< each poller's worst-case poll (watchdog.hpp)
    util::RateLimit watchdog_log{60'000};
    std::unique_ptr<ControlServer> control;

    sd_event* event = nullptr;
    sd_event_source* mqtt_source = nullptr;
    sd_event_source* uplink_timer = nullptr;
    sd_event_source* commit_timer = nullptr;
    std::uint64_t watchdog_usec = 0;
    std::string last_status;
    std::uint64_t readings_total = 0;
    std::int64_t last_summary_mono = 0;
    std::uint64_t delivered_at_summary = 0;
    std::uint64_t readings_at_summary = 0;
    int exit_code = kExitOk;

    // The last resort of "exit within 5 s" (DESIGN.md "Stop"): a bus thread that does not stop
    // (a driver stuck in a write) must not hold the process past systemd's patience.
    std::mutex stop_mutex;
    std::condition_variable stop_cv;
    bool stop_done = false;
    std::thread stop_guard;
    void arm_stop_deadline();
    void disarm_stop_deadline();

    /// A reading taken while the wall clock was not set: it keeps its monotonic time.
    struct Unstamped {
        std::string device;
        std::string product_key;
        std::string device_key;
        std::string measurepoints;
        std::int64_t mono_ms = 0;
        std::int64_t time_ms = 0;  ///< what the unset wall clock read
    };
    std::deque<Unstamped> unstamped;
    bool clock_valid = true;
    util::SteadyWall expiry_wall;  ///< max_age sweeps: immune to wall-clock steps
    /// Readings dropped before they reached the store, by reason ("queue_full", "no_clock_overflow").
    std::map<std::string, std::uint64_t> drops;
    std::uint64_t queue_dropped_seen = 0;
    util::RateLimit queue_drop_log{60'000};

    ~Impl();

    // daemon.cpp
    int run();
    static void check(int rc, const char* what);
    static int on_signal(sd_event_source*, const signalfd_siginfo* si, void* ud) noexcept;

    // daemon_buses.cpp
    void build_runtime();
    void stop_runtime();
    uplink::Settings uplink_settings() const;
    void start_uplink();
    void stop_uplink();
    void start_pollers(const config::Config* previous);
    void stop_pollers();

    // daemon_reload.cpp
    void reload();

    // daemon_store.cpp
    void take_readings();
    void hold_unstamped(const config::Device& d, modbus::Reading& r);
    void stamp_unstamped();
    void dead_letter_unstamped();
    void note_queue_drops();
    static int on_readings(sd_event_source*, int, std::uint32_t, void* ud) noexcept;
    static int on_commit_timer(sd_event_source* s, std::uint64_t, void* ud) noexcept;
    static int on_expire_timer(sd_event_source* s, std::uint64_t, void* ud) noexcept;

    // daemon_uplink.cpp
    void rearm_uplink();
    static int on_mqtt(sd_event_source*, int, std::uint32_t, void* ud) noexcept;
    static int on_uplink_timer(sd_event_source*, std::uint64_t, void* ud) noexcept;

    // daemon_notify.cpp
    StatusInputs inputs(const store::StoreStats& st, const uplink::UplinkStats& up) const;
    void publish_status();
    std::vector<BusHealth> bus_health() const;
    bool threads_alive();
    void warn_about_watchdog() const;
    static int on_status_timer(sd_event_source* s, std::uint64_t, void* ud) noexcept;
    static int on_watchdog_timer(sd_event_source* s, std::uint64_t, void* ud) noexcept;

    // daemon_writes.cpp
    /// A write on its way: who asked (a cloud request or a fieldgatectl token) and what.
    struct PendingWrite {
        std::string device;  ///< by name: a reload may renumber the devices meanwhile
        std::string reply_topic;
        std::string request_id;
        std::uint64_t control_token = 0;               ///< non-zero: fieldgatectl asked
        std::map<std::size_t, std::string> point_ids;  ///< the job's point indexes, by name
        std::string summary;                           ///< "sp=21.5 mode=3" for the log
    };
    struct WriteStart {
        int code = 0;  ///< 0 started; else refused (400, 503) and nothing was written
        std::string message;
    };
    WriteResults write_results;
    std::map<std::uint64_t, PendingWrite> pending_writes;  ///< by job token
    std::map<std::string, std::int64_t> last_write_mono;   ///< by device name
    std::map<std::uint64_t, std::string> control_results;  ///< finished fieldgatectl writes, by token
    std::uint64_t next_write_token = 1;

    void on_service_request(const enos::ServiceTopic& topic, const std::string& reply_topic,
                            enos::ServiceRequest request) override;
    WriteStart start_write(std::size_t device, const util::JsonValue& params, PendingWrite origin, std::uint64_t token);
    void finish_write(const modbus::WriteOutcome& outcome);
    std::string handle_write_request(const std::string& args);
    std::string handle_write_result(const std::string& args);
    static int on_write_results(sd_event_source*, int, std::uint32_t, void* ud) noexcept;

    // daemon_control.cpp
    std::string handle_control(const std::string& request);
    static int on_control(sd_event_source*, int, std::uint32_t, void* ud) noexcept;
};

}  // namespace fieldgate::daemon
