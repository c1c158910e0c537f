#include "fieldgate/modbus/bus_poller.hpp"

#include <modbus.h>
#include <pthread.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>

#include "fieldgate/modbus/decode.hpp"
#include "fieldgate/util/clock.hpp"
#include "fieldgate/util/log.hpp"

namespace fieldgate::modbus {
namespace {

constexpr std::int64_t kLogEveryMs = 60'000;
// The thread wakes at least this often so the watchdog sees it alive on a quiet bus.
constexpr std::int64_t kMaxSleepMs = 1000;

struct ModbusDeleter {
    void operator()(modbus_t* ctx) const noexcept {
        modbus_close(ctx);
        modbus_free(ctx);
    }
};
using ModbusPtr = std::unique_ptr<modbus_t, ModbusDeleter>;

void set_timeout(modbus_t* ctx, std::int64_t ms) {
    modbus_set_response_timeout(ctx, static_cast<std::uint32_t>(ms / 1000),
                                static_cast<std::uint32_t>((ms % 1000) * 1000));
}

}  // namespace

/// The bus's libmodbus context, connected lazily and dropped on any transport error so the
/// next use reconnects (collectd's recovery: no libmodbus error recovery, no stale sockets).
class BusPoller::Connection {
public:
    Connection(const config::Bus& bus, BusPoller& owner) : bus_(bus), owner_(owner) {}
    ~Connection() { drop(); }

    /// The connected context, or nullptr with `error` set.
    modbus_t* get(std::string& error) {
        if (ctx_) return ctx_.get();
        ModbusPtr ctx;
        if (bus_.type == config::BusType::Tcp) {
            ctx.reset(modbus_new_tcp(bus_.host.c_str(), bus_.port));
        } else {
            const char parity = bus_.parity == config::Parity::Even  ? 'E'
                                : bus_.parity == config::Parity::Odd ? 'O'
                                                                     : 'N';
            ctx.reset(modbus_new_rtu(bus_.device.c_str(), static_cast<int>(bus_.baud), parity, bus_.data_bits,
                                     bus_.stop_bits));
        }
        if (!ctx) {
            error = std::string("cannot create context: ") + modbus_strerror(errno);
            return nullptr;
        }
        set_timeout(ctx.get(), bus_.timeout_ms);
        if (modbus_connect(ctx.get()) != 0) {
            error = std::string("connect failed: ") + modbus_strerror(errno);
            return nullptr;
        }
        ctx_ = std::move(ctx);
        owner_.publish_socket(modbus_get_socket(ctx_.get()));
        return ctx_.get();
    }
    void drop() {
        // Withdrawn before the close: stop() must never shut down a descriptor number that
        // meanwhile belongs to something else.
        if (ctx_) owner_.publish_socket(-1);
        ctx_.reset();
    }

private:
    const config::Bus& bus_;
    BusPoller& owner_;
    ModbusPtr ctx_;
};

struct BusPoller::DeviceState {
    std::size_t index = 0;
    const config::Device* device = nullptr;
    const config::Model* model = nullptr;
    std::int64_t timeout_ms = 0;
    Plan plan;
    bool single_reads = false;
    DeviceHealth health;
    std::int64_t due_mono = 0;
    util::RateLimit log_limit{kLogEveryMs};
    std::vector<BlockData> data;

    DeviceState(std::size_t i, const config::Config& cfg)
        : index(i),
          device(&cfg.devices[i]),
          model(&cfg.model_of(cfg.devices[i])),
          timeout_ms(cfg.timeout_of(cfg.devices[i])),
          plan(plan_reads(model->points)),
          health(device->interval_ms, device->offline_after, device->probe_max_ms) {}
};

BusPoller::BusPoller(const config::Config& cfg, const config::Bus& bus, const std::vector<std::size_t>& devices,
                     ReadingSink& sink)
    : cfg_(cfg), bus_(bus), sink_(sink) {
    devices_.reserve(devices.size());
    for (auto i : devices)
        devices_.emplace_back(i, cfg_);
}

BusPoller::~BusPoller() {
    stop();
}

void BusPoller::start() {
    const util::SystemClock clock;
    heartbeat_ = clock.mono_ms();
    // Spread the first polls over one interval so devices of a bus do not all fire at once.
    const std::int64_t now = clock.mono_ms();
    for (std::size_t i = 0; i < devices_.size(); ++i)
        devices_[i].due_mono = now + devices_[i].device->interval_ms * static_cast<std::int64_t>(i) /
                                         static_cast<std::int64_t>(devices_.size());
    thread_ = std::thread([this] { run(); });
}

void BusPoller::request_stop() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stop_ = true;
        stopping_ = true;
        // A request blocked on a silent device returns at once instead of after its time-out.
        if (socket_fd_ >= 0 && bus_.type == config::BusType::Tcp) shutdown(socket_fd_, SHUT_RDWR);
    }
    wake_.notify_all();
}

void BusPoller::stop() {
    request_stop();
    if (thread_.joinable()) thread_.join();
}

void BusPoller::publish_socket(int fd) {
    std::lock_guard<std::mutex> lock(mutex_);
    socket_fd_ = fd;
    if (fd >= 0 && stop_ && bus_.type == config::BusType::Tcp) shutdown(fd, SHUT_RDWR);
}

void BusPoller::run() noexcept {
    // "bus:NAME" in top -H and in the journal's thread view (the kernel keeps 15 characters).
    pthread_setname_np(pthread_self(), ("bus:" + bus_.name).substr(0, 15).c_str());
    const util::SystemClock clock;
    Connection conn(bus_, *this);
    try {
        std::unique_lock<std::mutex> lock(mutex_);
        while (!stop_) {
            const std::int64_t now = clock.mono_ms();
            heartbeat_ = now;
            auto next =
                std::min_element(devices_.begin(), devices_.end(),
                                 [](const DeviceState& a, const DeviceState& b) { return a.due_mono < b.due_mono; });
            if (next == devices_.end()) {
                wake_.wait_for(lock, std::chrono::milliseconds(kMaxSleepMs));
                continue;
            }
            if (next->due_mono > now) {
                wake_.wait_for(lock, std::chrono::milliseconds(std::min(next->due_mono - now, kMaxSleepMs)));
                continue;
            }
            lock.unlock();
            poll(*next, conn);
            lock.lock();
        }
    } catch (const std::exception& e) {
        util::log_error("bus=" + bus_.name + ": poller stopped: " + e.what());
    } catch (...) {
        util::log_error("bus=" + bus_.name + ": poller stopped by an unknown error");
    }
}

void BusPoller::poll(DeviceState& d, Connection& conn) {
    const util::SystemClock clock;
    const std::int64_t due = d.due_mono;
    Reading reading;
    reading.device = d.index;
    std::string error;
    bool transport_ok = true;

    modbus_t* ctx = conn.get(error);
    if (!ctx) {
        transport_ok = false;
    } else {
        set_timeout(ctx, d.timeout_ms);
        modbus_set_slave(ctx, d.device->unit_id);
        for (int pass = 0; pass < 2 && transport_ok; ++pass) {
            d.data.assign(d.plan.blocks.size(), BlockData{});
            bool fall_back = false;
            for (std::size_t b = 0; b < d.plan.blocks.size(); ++b) {
                if (stopping_) {
                    transport_ok = false;
                    break;
                }
                const ReadBlock& blk = d.plan.blocks[b];
                BlockData& out = d.data[b];
                int rc = -1;
                switch (blk.table) {
                    case config::Table::Holding:
                        out.registers.resize(blk.count);
                        rc = modbus_read_registers(ctx, blk.start, blk.count, out.registers.data());
                        break;
                    case config::Table::Input:
                        out.registers.resize(blk.count);
                        rc = modbus_read_input_registers(ctx, blk.start, blk.count, out.registers.data());
                        break;
                    case config::Table::Coil:
                        out.bits.resize(blk.count);
                        rc = modbus_read_bits(ctx, blk.start, blk.count, out.bits.data());
                        break;
                    case config::Table::Discrete:
                        out.bits.resize(blk.count);
                        rc = modbus_read_input_bits(ctx, blk.start, blk.count, out.bits.data());
                        break;
                }
                if (reading.time_ms == 0) reading.time_ms = clock.wall_ms();
                if (rc == blk.count) {
                    out.ok = true;
                    continue;
                }
                const int err = errno;
                if (err == EMBXILADD && !d.single_reads) {
                    // A merged block crossed a hole in the device's map: read point by point
                    // from now on (Telegraf's planner lacks this fall-back).
                    util::log_notice("device=" + d.device->name + " bus=" + bus_.name + " unit=" +
                                     std::to_string(d.device->unit_id) + " addr=" + std::to_string(blk.start) +
                                     ": illegal data address in a merged read; reading points one by one");
                    d.plan = plan_single_reads(d.model->points);
                    d.single_reads = true;
                    fall_back = true;
                    break;
                }
                if (err > MODBUS_ENOBASE && err < MODBUS_ENOBASE + 64) {
                    // A Modbus exception: the device answered; only this block is missing.
                    error = "addr=" + std::to_string(blk.start) + ": " + modbus_strerror(err);
                    continue;
                }
                error = "addr=" + std::to_string(blk.start) + ": " + modbus_strerror(err) + " (timeout " +
                        std::to_string(d.timeout_ms) + " ms)";
                transport_ok = false;
                conn.drop();
                break;
            }
            if (!fall_back) break;
            reading.time_ms = 0;
        }
    }
    // A poll cut short by stop() says nothing about the device: no failure counted, no reading.
    if (!transport_ok && stopping_) return;
    if (reading.time_ms == 0) reading.time_ms = clock.wall_ms();

    bool any = false;
    if (transport_ok) {
        Measurepoints mp = encode_measurepoints(d.model->points, d.plan, d.data);
        any = mp.written > 0;
        if (any) reading.measurepoints = std::move(mp.json);
        reading.non_finite = mp.non_finite;
    }
    reading.ok = transport_ok && any;
    if (!reading.ok && error.empty()) error = "no point could be read";
    reading.error = error;

    bool changed = false;
    std::int64_t next_due = d.health.record(reading.ok, due, changed);
    const std::int64_t now = clock.mono_ms();
    if (next_due <= now) {
        // Overran (a slow bus): keep the phase, skip the missed slots instead of bursting.
        const std::int64_t step = d.device->interval_ms;
        next_due += ((now - next_due) / step + 1) * step;
    }
    d.due_mono = next_due;
    reading.online = d.health.online();

    const std::string where =
        "device=" + d.device->name + " bus=" + bus_.name + " unit=" + std::to_string(d.device->unit_id);
    if (changed) {
        if (reading.online)
            util::log_notice(where + ": online");
        else
            util::log_warning(where + ": offline after " + std::to_string(d.health.consecutive_failures()) +
                              " failed polls: " + error);
    } else if (!reading.ok && d.log_limit.allow(now)) {
        const auto held = d.log_limit.suppressed();
        util::log_warning(where + ": " + error +
                          (held ? " (" + std::to_string(held) + " similar messages suppressed)" : std::string()));
    }
    sink_.push(std::move(reading));
}

}  // namespace fieldgate::modbus
