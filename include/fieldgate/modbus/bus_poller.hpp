#pragma once
#include <pthread.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "fieldgate/config/config.hpp"
#include "fieldgate/modbus/device_reader.hpp"
#include "fieldgate/modbus/device_writer.hpp"
#include "fieldgate/modbus/health.hpp"
#include "fieldgate/modbus/reading.hpp"
#include "fieldgate/modbus/transport.hpp"
#include "fieldgate/util/backoff.hpp"

namespace fieldgate::modbus {

/// One thread per bus: it owns the bus's transport (nothing else touches it), serves the bus's
/// devices in turn, each at its interval on a monotonic schedule, decodes, stamps and hands
/// readings to a sink. A device that fails does not hold up the others beyond its own
/// time-out, and while offline it is only probed (see DeviceHealth). A line that cannot be
/// opened (a serial adapter unplugged, a TCP device down) is retried with back-off; meanwhile
/// its devices fail at once and go offline.
///
/// Schedule: a device's next poll is due one interval after the previous one was due, not after
/// it ended, so polls do not drift; a poll that overran its slot skips the missed slots instead
/// of bursting; first polls are spread over one interval (within the bus by position, across
/// buses by the bus name), so 500 one-device buses do not all fire in the same millisecond.
class BusPoller {
public:
    /// Bus threads' stack: polling needs a few KiB; the default 8 MiB per thread would reserve
    /// 4 GiB of address space at 500 buses, more than an armhf process has.
    static constexpr std::size_t kStackBytes = 256 * 1024;

    /// `devices` are indexes into cfg.devices, all on `bus`. The config must outlive the poller.
    BusPoller(const config::Config& cfg, const config::Bus& bus, const std::vector<std::size_t>& devices,
              ReadingSink& sink);
    /// Same over a given transport (tests: a fake one).
    BusPoller(const config::Config& cfg, const config::Bus& bus, const std::vector<std::size_t>& devices,
              ReadingSink& sink, std::unique_ptr<ModbusTransport> transport);
    ~BusPoller();
    BusPoller(const BusPoller&) = delete;
    BusPoller& operator=(const BusPoller&) = delete;

    /// Starts the thread. Throws std::system_error when it cannot be created.
    void start();
    /// Stops the thread and joins it, promptly: a request in flight is cut short (the
    /// transport is interrupted), no device time-out is waited out.
    void stop();
    /// Where finished writes are reported; set before start(). Without one, writes are refused.
    void set_write_sink(WriteSink* sink) { write_sink_ = sink; }
    /// Hands a checked set request to the bus thread, which performs it before its next poll
    /// (between polls, never in the middle of one) and reports to the write sink. Thread-safe.
    /// Jobs still queued when the poller stops are reported as 503.
    void submit_write(WriteJob job);

    /// Monotonic ms of the thread's last sign of life (for the watchdog); updated at least
    /// once per poll and once a second on a quiet bus.
    std::int64_t heartbeat_mono() const { return heartbeat_.load(); }
    const std::string& name() const { return bus_.name; }

private:
    struct DeviceState;

    static void* thread_main(void* self) noexcept;
    void run() noexcept;
    void serve_due_device();
    void poll(DeviceState& d);
    void perform(const WriteJob& job);
    /// Ok when the line is open, opening it when its back-off allows; else Closed (`error` says
    /// why) or Stopped.
    Outcome line_ready(std::int64_t now_mono, std::string& error);
    void schedule(DeviceState& d, bool ok, std::int64_t due, bool& changed);
    void log_outcome(DeviceState& d, const Reading& reading, bool changed, std::int64_t now_mono);

    const config::Config& cfg_;
    const config::Bus& bus_;
    std::vector<DeviceState> devices_;
    ReadingSink& sink_;
    std::unique_ptr<ModbusTransport> transport_;
    util::Backoff reopen_backoff_;
    std::int64_t reopen_at_mono_ = 0;
    std::string line_error_;  ///< why the line is closed; empty while it is open
    pthread_t thread_{};
    bool running_ = false;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stop_ = false;
    std::atomic<std::int64_t> heartbeat_{0};
    WriteSink* write_sink_ = nullptr;
    std::deque<WriteJob> writes_;  ///< guarded by mutex_
};

}  // namespace fieldgate::modbus
