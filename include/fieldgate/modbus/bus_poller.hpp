#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "fieldgate/config/config.hpp"
#include "fieldgate/modbus/health.hpp"
#include "fieldgate/modbus/planner.hpp"
#include "fieldgate/modbus/reading.hpp"

namespace fieldgate::modbus {

/// One thread per bus: it owns the bus's libmodbus context (nothing else touches it), polls
/// each device of the bus at its interval on a monotonic schedule, decodes, stamps and hands
/// readings to a sink. A device that fails does not hold up the others beyond its own
/// time-out, and while offline it is only probed (see DeviceHealth).
class BusPoller {
public:
    /// `devices` are indexes into cfg.devices, all on `bus`. The config must outlive the poller.
    BusPoller(const config::Config& cfg, const config::Bus& bus, const std::vector<std::size_t>& devices,
              ReadingSink& sink);
    ~BusPoller();
    BusPoller(const BusPoller&) = delete;
    BusPoller& operator=(const BusPoller&) = delete;

    void start();
    /// Asks the thread to stop without waiting: a request in progress on a TCP bus is cut
    /// short (its socket shut down), an RTU bus stops after the request in progress. A poll cut
    /// short pushes no reading and counts no failure. Call on every poller, then stop() each.
    void request_stop();
    /// request_stop() and joins the thread.
    void stop();
    /// Monotonic ms of the thread's last sign of life (for the watchdog).
    std::int64_t heartbeat_mono() const { return heartbeat_.load(); }
    const std::string& name() const { return bus_.name; }

private:
    struct DeviceState;
    class Connection;

    void run() noexcept;
    void poll(DeviceState& d, Connection& conn);
    /// The connected socket (or -1), for request_stop(); set by the bus thread.
    void publish_socket(int fd);

    const config::Config& cfg_;
    const config::Bus& bus_;
    std::vector<DeviceState> devices_;
    ReadingSink& sink_;
    std::thread thread_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stop_ = false;
    int socket_fd_ = -1;                 ///< guarded by mutex_
    std::atomic<bool> stopping_{false};  ///< stop_, readable without the lock between requests
    std::atomic<std::int64_t> heartbeat_{0};
};

}  // namespace fieldgate::modbus
