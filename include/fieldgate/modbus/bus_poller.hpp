#pragma once
#include <pthread.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "fieldgate/config/config.hpp"
#include "fieldgate/modbus/device_reader.hpp"
#include "fieldgate/modbus/device_writer.hpp"
#include "fieldgate/modbus/health.hpp"
#include "fieldgate/modbus/reading.hpp"
#include "fieldgate/modbus/transport.hpp"
#include "fieldgate/util/backoff.hpp"

namespace fieldgate::modbus {

/// What one poller thread serves: one [bus.*], or several single-endpoint tcp:// buses.
struct PollerGroup {
    std::string name;                                                     ///< the bus's name, or "tcp-pool-N"
    std::vector<std::pair<std::string, std::vector<std::size_t>>> lines;  ///< bus name, its devices
};

/// How the configuration's buses map onto poller threads: every [bus.*] section gets a thread of
/// its own (a serial line, or a TCP gateway with many units); devices with a tcp://host:port bus
/// of their own share threads, kEndpointsPerThread endpoints each, so 500 meters on 500 endpoints
/// need 63 threads instead of 500 (each thread's stack costs about 12 KiB of RSS). An endpoint
/// that stops answering is handed to a second thread of its pool (see BusPoller) after its first
/// failed poll, so it holds its thread-mates up by one time-out, not once per probe. Pure.
constexpr std::size_t kEndpointsPerThread = 8;
std::vector<PollerGroup> group_buses(const config::Config& cfg);

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
///
/// Shared threads (a group of several tcp:// endpoints): a line that stops answering (a time-out,
/// a connection that cannot be made or is lost) moves to the group's second thread, "off:NAME",
/// started on the first such failure; it comes back when one of its devices answers again. So a
/// silent or black-holed endpoint delays its live thread-mates by at most one time-out (its first
/// failure), not once per probe, and dead endpoints hold up only each other. A line is served by
/// one thread at a time: it changes hands only at the end of a poll, by the thread that served it.
///
/// An endpoint with several units (a Modbus TCP gateway in front of RS-485 slaves) is judged per
/// unit, by whether the unit answered, not by whether its poll succeeded: a reply is an answer,
/// an exception one too (0x0A/0x0B from the gateway, illegal address: they come at once and hold
/// nobody up), while a time-out or a lost connection is not. A unit that times out while a
/// sibling's last poll was answered is served apart: by the second thread, over a second
/// connection of its own to the same endpoint (used only while such a unit exists; TCP closes
/// it after each time-out, so it is open mostly during that unit's polls), and it comes back to
/// the shared connection when it answers there. Its live siblings stay on the shared thread,
/// and its time-outs hold up only the failing endpoints. When no unit of the endpoint answers
/// (or its connection fails), the whole line moves aside as above. A device counts as failed or
/// offline exactly as before (DeviceHealth); only the thread that polls it changes. A thread
/// with one line (a [bus.*], or a group of one endpoint) has no second thread: its units wait
/// for each other as on a serial bus, at most one time-out per probe of a dead one.
class BusPoller {
public:
    /// Bus threads' stack: polling needs a few KiB; the default 8 MiB per thread would reserve
    /// 4 GiB of address space at 500 buses, more than an armhf process has.
    static constexpr std::size_t kStackBytes = std::size_t{256} * 1024;

    /// `devices` are indexes into cfg.devices, all on `bus`. The config must outlive the poller.
    BusPoller(const config::Config& cfg, const config::Bus& bus, const std::vector<std::size_t>& devices,
              ReadingSink& sink);
    /// Same over a given transport (tests: a fake one).
    BusPoller(const config::Config& cfg, const config::Bus& bus, const std::vector<std::size_t>& devices,
              ReadingSink& sink, std::unique_ptr<ModbusTransport> transport);
    /// One thread serving every line of the group in turn (see group_buses).
    BusPoller(const config::Config& cfg, const PollerGroup& group, ReadingSink& sink);
    /// Makes a transport for a bus; called once per line, and again for a line's second
    /// connection when one of its units is served apart.
    using TransportFactory = std::function<std::unique_ptr<ModbusTransport>(const config::Bus&)>;
    /// Same over transports from `make` (tests: fake ones).
    BusPoller(const config::Config& cfg, const PollerGroup& group, ReadingSink& sink, TransportFactory make);
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
    /// once per poll and once a second on a quiet bus. With a second thread: the older of both.
    std::int64_t heartbeat_mono() const;
    /// How many of the lines are served by the second thread now (for tests and status).
    std::size_t lines_set_aside() const;
    /// How many devices are served apart from their endpoint's live units now: by the second
    /// thread over a second connection (for tests and status).
    std::size_t units_apart() const;
    const std::string& name() const { return name_; }
    /// Whether `device` (an index into Config::devices) is polled by this thread.
    bool serves(std::size_t device) const;

private:
    struct DeviceState;
    /// One connection to a line's bus, and the back-off while it cannot be opened.
    struct Connection {
        std::unique_ptr<ModbusTransport> transport;
        util::Backoff reopen_backoff;
        std::int64_t reopen_at_mono = 0;
        std::string error;  ///< why it is closed; empty while it is open
        Connection();
    };
    /// One bus's line: its connection, and the second one for its units served apart.
    struct Line {
        const config::Bus* bus = nullptr;
        Connection conn;     ///< used by the thread that serves the line
        Connection second;   ///< used by the second thread only; made when first needed (under mutex_)
        bool aside = false;  ///< served by the second thread (guarded by mutex_)
        Line(const config::Bus& b, std::unique_ptr<ModbusTransport> t);
    };
    /// What one of the (at most two) threads sees of itself.
    struct Worker {
        bool aside = false;  ///< the second thread: serves the lines set aside
        std::atomic<std::int64_t> heartbeat{0};
        /// The devices this thread serves as a min-heap of (due, index into devices_), so the next
        /// due is found without visiting every device; rebuilt when `stale` (a line or unit
        /// changed threads). Both guarded by mutex_.
        std::vector<std::pair<std::int64_t, std::size_t>> due;
        bool stale = true;
    };

    void add_line(const config::Bus& bus, const std::vector<std::size_t>& devices,
                  std::unique_ptr<ModbusTransport> transport);

    static void* thread_main(void* self) noexcept;
    static void* aside_main(void* self) noexcept;
    void run(Worker& w) noexcept;
    void serve_due_device(Worker& w);
    /// Which thread serves `device` now (a device not served here: the first). Under mutex_.
    bool served_aside(std::size_t device) const;
    /// Whether `d` is served by the second thread, and over its line's second connection. Under mutex_.
    bool served_aside(const DeviceState& d) const;
    bool over_second(const DeviceState& d) const;
    /// How a poll ended for the endpoint behind it (not for the device's health).
    enum class Heard {
        Nothing,   ///< not polled yet, or stopped
        Answer,    ///< a reply came: data, an exception, a garbled frame
        Silence,   ///< a time-out on an open connection
        LineDown,  ///< the connection could not be opened or was lost
    };
    /// After a poll of `d` by `w` (over the second connection when `second`) that ended as
    /// `heard`: moves `d` or its line to the other thread when they should change hands. Under mutex_.
    void rehome(Worker& w, DeviceState& d, Heard heard, bool second);
    /// Starts the second thread if it is not running. Under mutex_. False when it cannot be started.
    bool start_aside();
    /// Makes `w.due` anew from the devices `w` serves now. Under mutex_.
    void rebuild_due(Worker& w);
    /// A line or unit changed threads: both heaps are rebuilt before their next use. Under mutex_.
    void devices_moved();
    /// On the second thread: closes `line`'s second connection once none of its units needs it.
    /// Under mutex_.
    void release_second(Line& line);
    /// One poll of `d`, over its line's second connection when `second`.
    Heard poll(DeviceState& d, Worker& w, bool second);
    void perform(const WriteJob& job, Worker& w, bool second);
    /// Ok when the connection is open, opening it when its back-off allows; else Closed (`error`
    /// says why) or Stopped. `name` is the bus's name, for the log.
    Outcome connection_ready(Connection& c, const std::string& name, std::int64_t now_mono, std::string& error);
    void schedule(DeviceState& d, bool ok, std::int64_t due, bool& changed);
    void log_outcome(DeviceState& d, const Reading& reading, bool changed, std::int64_t now_mono);

    const config::Config& cfg_;
    std::string name_;
    TransportFactory make_;
    std::vector<Line> lines_;
    std::vector<DeviceState> devices_;
    ReadingSink& sink_;
    pthread_t thread_{};
    bool running_ = false;
    Worker main_;
    Worker aside_{true, {0}, {}, true};
    pthread_t aside_thread_{};
    std::atomic<bool> aside_running_{false};  ///< changed under mutex_ (and by stop() after the join)
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    bool stop_ = false;
    WriteSink* write_sink_ = nullptr;
    std::deque<WriteJob> writes_;  ///< guarded by mutex_
};

}  // namespace fieldgate::modbus
