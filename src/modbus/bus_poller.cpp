#include "fieldgate/modbus/bus_poller.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <stdexcept>
#include <system_error>

#include "fieldgate/util/clock.hpp"
#include "fieldgate/util/units.hpp"

namespace fieldgate::modbus {
namespace {

constexpr std::int64_t kLogEveryMs = 60'000;
// The thread wakes at least this often so the watchdog sees it alive on a quiet bus.
constexpr std::int64_t kMaxSleepMs = 1000;
// Re-opening a line that failed: first retry soon (a USB adapter re-enumerating), then back off.
constexpr std::int64_t kReopenMinMs = 1000;
constexpr std::int64_t kReopenMaxMs = 15'000;

std::string where_of(const config::Device& d, const config::Bus& b) {
    return "device=" + d.name + " bus=" + b.name + " unit=" + std::to_string(d.unit_id);
}

}  // namespace

std::vector<PollerGroup> group_buses(const config::Config& cfg) {
    std::map<std::string, std::vector<std::size_t>> by_bus;
    for (std::size_t i = 0; i < cfg.devices.size(); ++i)
        by_bus[cfg.devices[i].bus].push_back(i);
    std::vector<PollerGroup> groups;
    PollerGroup pool;
    std::size_t pools = 0;
    for (auto& [bus, devices] : by_bus) {
        // Inline buses are named by their URI; a [bus.*] name cannot hold "://".
        if (bus.compare(0, 6, "tcp://") != 0) {
            groups.push_back(PollerGroup{bus, {{bus, devices}}});
            continue;
        }
        pool.lines.emplace_back(bus, devices);
        if (pool.lines.size() == kEndpointsPerThread) {
            pool.name = "tcp-pool-" + std::to_string(++pools);
            groups.push_back(std::move(pool));
            pool = PollerGroup{};
        }
    }
    if (!pool.lines.empty()) {
        pool.name = pool.lines.size() == 1 ? pool.lines.front().first : "tcp-pool-" + std::to_string(++pools);
        groups.push_back(std::move(pool));
    }
    return groups;
}

BusPoller::Connection::Connection() : reopen_backoff(kReopenMinMs, kReopenMaxMs) {}

BusPoller::Line::Line(const config::Bus& b, std::unique_ptr<ModbusTransport> t) : bus(&b) {
    conn.transport = std::move(t);
}

struct BusPoller::DeviceState {
    std::size_t index = 0;
    std::size_t line = 0;  ///< into lines_
    const config::Device* device = nullptr;
    std::string where;
    DeviceReader reader;
    DeviceHealth health;
    std::int64_t due_mono = 0;
    Heard heard = Heard::Nothing;  ///< how its last poll ended for the endpoint (guarded by mutex_)
    bool apart = false;            ///< its endpoint answers, it does not: served apart (guarded by mutex_)
    util::RateLimit log_limit{kLogEveryMs};

    DeviceState(std::size_t i, std::size_t l, const config::Config& cfg, const config::Bus& bus)
        : index(i),
          line(l),
          device(&cfg.devices[i]),
          where(where_of(cfg.devices[i], bus)),
          reader(cfg.model_of(cfg.devices[i]), cfg.devices[i].unit_id, cfg.timeout_of(cfg.devices[i]), where),
          health(device->interval_ms, device->offline_after, device->probe_max_ms) {}
};

BusPoller::BusPoller(const config::Config& cfg, const config::Bus& bus, const std::vector<std::size_t>& devices,
                     ReadingSink& sink)
    : BusPoller(cfg, bus, devices, sink, make_transport(bus)) {}

BusPoller::BusPoller(const config::Config& cfg, const config::Bus& bus, const std::vector<std::size_t>& devices,
                     ReadingSink& sink, std::unique_ptr<ModbusTransport> transport)
    : cfg_(cfg), name_(bus.name), sink_(sink) {
    add_line(bus, devices, std::move(transport));
}

BusPoller::BusPoller(const config::Config& cfg, const PollerGroup& group, ReadingSink& sink)
    : BusPoller(cfg, group, sink, &make_transport) {}

BusPoller::BusPoller(const config::Config& cfg, const PollerGroup& group, ReadingSink& sink, TransportFactory make)
    : cfg_(cfg), name_(group.name), make_(std::move(make)), sink_(sink) {
    for (const auto& [bus, devices] : group.lines) {
        const config::Bus& b = cfg.buses.at(bus);
        add_line(b, devices, make_(b));
    }
}

void BusPoller::add_line(const config::Bus& bus, const std::vector<std::size_t>& devices,
                         std::unique_ptr<ModbusTransport> transport) {
    lines_.emplace_back(bus, std::move(transport));
    for (auto i : devices)
        devices_.emplace_back(i, lines_.size() - 1, cfg_, bus);
}

BusPoller::~BusPoller() {
    stop();
}

void BusPoller::start() {
    const util::SystemClock clock;
    const std::int64_t now = clock.mono_ms();
    main_.heartbeat = now;
    aside_.heartbeat = now;
    // Spread first polls over one interval: by position within the bus, and by the bus's name
    // across buses (stable from run to run, so a restart keeps the same load pattern).
    const auto n = static_cast<std::int64_t>(devices_.size());
    for (std::size_t i = 0; i < devices_.size(); ++i) {
        const auto bus_phase =
            static_cast<std::int64_t>(std::hash<std::string>{}(lines_[devices_[i].line].bus->name) % 1'000'003U);
        const std::int64_t interval = devices_[i].device->interval_ms;
        devices_[i].due_mono = now + (bus_phase + interval * static_cast<std::int64_t>(i) / n) % interval;
    }
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, kStackBytes);
    const int rc = pthread_create(&thread_, &attr, &BusPoller::thread_main, this);
    pthread_attr_destroy(&attr);
    if (rc != 0) throw std::system_error(rc, std::generic_category(), "bus=" + name_ + ": cannot start its thread");
    running_ = true;
}

void BusPoller::stop() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stop_ = true;
    }
    // A second connection is made only under mutex_ and never once stop_ is set: all are seen here.
    for (auto& line : lines_) {
        line.conn.transport->interrupt();  // cuts a request in flight short
        if (line.second.transport) line.second.transport->interrupt();
    }
    wake_.notify_all();
    if (running_) {
        pthread_join(thread_, nullptr);
        running_ = false;
    }
    // Started only by the first thread, which has ended: nothing changes aside_running_ now.
    if (aside_running_) {
        pthread_join(aside_thread_, nullptr);
        aside_running_ = false;
    }
    std::deque<WriteJob> left;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        left.swap(writes_);
    }
    for (const auto& job : left) {
        WriteOutcome o;
        o.token = job.token;
        o.device = job.device;
        o.code = 503;
        o.message = "the gateway is stopping; nothing was written";
        if (write_sink_) write_sink_->write_done(std::move(o));
    }
}

void BusPoller::submit_write(WriteJob job) {
    bool queued = false;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!stop_ && write_sink_) {
            writes_.push_back(std::move(job));
            queued = true;
        }
    }
    if (queued) {
        wake_.notify_all();
        return;
    }
    WriteOutcome o;
    o.token = job.token;  // NOLINT(bugprone-use-after-move): moved from only when queued, which returned
    o.device = job.device;
    o.code = 503;
    o.message = "the bus is stopping; nothing was written";
    if (write_sink_) write_sink_->write_done(std::move(o));
}

void* BusPoller::thread_main(void* self) noexcept {
    auto* p = static_cast<BusPoller*>(self);
    p->run(p->main_);
    return nullptr;
}

void* BusPoller::aside_main(void* self) noexcept {
    auto* p = static_cast<BusPoller*>(self);
    p->run(p->aside_);
    return nullptr;
}

std::int64_t BusPoller::heartbeat_mono() const {
    const std::int64_t beat = main_.heartbeat.load();
    if (!aside_running_) return beat;
    return std::min(beat, aside_.heartbeat.load());
}

std::size_t BusPoller::lines_set_aside() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return static_cast<std::size_t>(std::count_if(lines_.begin(), lines_.end(), [](const Line& l) { return l.aside; }));
}

std::size_t BusPoller::units_apart() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return static_cast<std::size_t>(
        std::count_if(devices_.begin(), devices_.end(), [this](const DeviceState& d) { return over_second(d); }));
}

void BusPoller::run(Worker& w) noexcept {
    // "bus:NAME" in top -H and in the journal's thread view (the kernel keeps 15 characters);
    // the second thread of a shared group, serving its failing endpoints, is "off:NAME".
    pthread_setname_np(pthread_self(), ((w.aside ? "off:" : "bus:") + name_).substr(0, 15).c_str());
    try {
        serve_due_device(w);
    } catch (const std::exception& e) {
        util::log_error("bus=" + name_ + ": poller stopped: " + e.what());
    } catch (...) {
        util::log_error("bus=" + name_ + ": poller stopped by an unknown error");
    }
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& line : lines_) {
        if (line.aside == w.aside) line.conn.transport->close();
        if (w.aside && line.second.transport) line.second.transport->close();
    }
}

bool BusPoller::served_aside(std::size_t device) const {
    const auto d =
        std::find_if(devices_.begin(), devices_.end(), [&](const DeviceState& s) { return s.index == device; });
    return d != devices_.end() && served_aside(*d);
}

bool BusPoller::served_aside(const DeviceState& d) const {
    return lines_[d.line].aside || d.apart;
}

bool BusPoller::over_second(const DeviceState& d) const {
    return d.apart && !lines_[d.line].aside;
}

void BusPoller::serve_due_device(Worker& w) {
    const util::SystemClock clock;
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stop_) {
        const std::int64_t now = clock.mono_ms();
        w.heartbeat = now;
        // A write goes before the next poll of its line, so it never waits a whole cycle; it is
        // performed by the thread that serves the line now.
        const auto job_it = std::find_if(writes_.begin(), writes_.end(),
                                         [&](const WriteJob& j) { return served_aside(j.device) == w.aside; });
        if (job_it != writes_.end()) {
            const WriteJob job = std::move(*job_it);
            writes_.erase(job_it);
            const auto d = std::find_if(devices_.begin(), devices_.end(),
                                        [&](const DeviceState& s) { return s.index == job.device; });
            const bool second = d != devices_.end() && over_second(*d);
            lock.unlock();
            perform(job, w, second);
            lock.lock();
            continue;
        }
        // The earliest due of the devices this thread serves: the top of its heap. Only this
        // thread changes their due times, so the heap stays true until a device changes threads.
        if (w.stale) rebuild_due(w);
        if (w.due.empty() || w.due.front().first > now) {
            const std::int64_t sleep = w.due.empty() ? kMaxSleepMs : std::min(w.due.front().first - now, kMaxSleepMs);
            wake_.wait_for(lock, std::chrono::milliseconds(sleep));
            continue;
        }
        DeviceState& next = devices_[w.due.front().second];
        const bool second = over_second(next);
        lock.unlock();
        const Heard heard = poll(next, w, second);
        lock.lock();
        rehome(w, next, heard, second);
        if (!w.stale) {  // the device polled moves down the heap to its new due time
            std::pop_heap(w.due.begin(), w.due.end(), std::greater<>());
            w.due.back().first = next.due_mono;
            std::push_heap(w.due.begin(), w.due.end(), std::greater<>());
        }
    }
}

void BusPoller::rebuild_due(Worker& w) {
    w.due.clear();
    for (std::size_t i = 0; i < devices_.size(); ++i)
        if (served_aside(devices_[i]) == w.aside) w.due.emplace_back(devices_[i].due_mono, i);
    std::make_heap(w.due.begin(), w.due.end(), std::greater<>());
    w.stale = false;
}

void BusPoller::devices_moved() {
    main_.stale = true;
    aside_.stale = true;
}

// Why per unit, and why "answered" rather than "ok": the shared thread must not wait out
// time-outs, and only a unit that does not reply costs one. A unit refused by its gateway
// (0x0B) fails its poll but answers at once, so it stays; a unit that times out while the
// endpoint otherwise answers goes apart with its own connection (Modbus TCP is one request at a
// time per connection, so it cannot share its siblings' without making them wait); an endpoint
// that answers nothing goes aside whole, on its one connection, as a single-unit endpoint does.
void BusPoller::rehome(Worker& w, DeviceState& d, Heard heard, bool second) {
    Line& line = lines_[d.line];
    if (lines_.size() < 2 || stop_ || heard == Heard::Nothing) return;  // a thread of its own: nobody to hold up
    d.heard = heard;
    bool apart = d.apart;
    bool aside = line.aside;
    if (second) {
        // The second connection says nothing of the line's own. A unit that answers goes back to
        // the shared connection; one whose connection cannot be made goes back too (a gateway
        // that takes one client only must not keep a live unit offline), at the cost of one
        // time-out on the shared thread per probe if it is dead.
        apart = heard == Heard::Silence;
    } else if (heard == Heard::Answer) {
        apart = false;
        aside = false;
    } else if (heard == Heard::Silence) {
        const bool endpoint_answers = std::any_of(devices_.begin(), devices_.end(), [&](const DeviceState& s) {
            return s.line == d.line && &s != &d && s.heard == Heard::Answer;
        });
        apart = true;
        aside = !endpoint_answers;
    } else {
        aside = true;
    }
    if ((aside || apart) && !start_aside()) return;  // stays where it is
    // Which of the line's units go over the second connection, before: told in the log as they change.
    const auto on_line = [&](const DeviceState& s) { return s.line == d.line; };
    std::vector<const DeviceState*> were_apart;
    for (const auto& s : devices_)
        if (on_line(s) && over_second(s)) were_apart.push_back(&s);
    if (aside != line.aside) {
        line.aside = aside;
        devices_moved();
        util::log_info("bus=" + line.bus->name +
                       (aside ? ": not answering; served apart from " + name_ + "'s other endpoints"
                              : ": answering again; back on " + name_ + "'s shared thread"));
    }
    if (d.apart != apart) devices_moved();
    d.apart = apart;
    if (!line.aside && !line.second.transport &&
        std::any_of(devices_.begin(), devices_.end(), [&](const DeviceState& s) { return on_line(s) && s.apart; })) {
        try {
            line.second.transport = make_(*line.bus);
        } catch (const std::exception& e) {
            util::log_error("bus=" + line.bus->name + ": cannot make a second connection (" + e.what() +
                            "); its silent units stay on its shared connection");
            for (auto& s : devices_)
                if (on_line(s)) s.apart = false;
            devices_moved();
        }
    }
    for (const auto& s : devices_) {
        if (!on_line(s)) continue;
        const bool was = std::find(were_apart.begin(), were_apart.end(), &s) != were_apart.end();
        if (over_second(s) && !was)
            util::log_info(s.where +
                           ": not answering while its endpoint's other units do; served apart, over a "
                           "second connection");
        else if (was && !over_second(s) && !line.aside)
            util::log_info(s.where + ": back on its endpoint's shared connection");
    }
    if (w.aside) release_second(line);
    wake_.notify_all();
}

bool BusPoller::start_aside() {
    if (aside_running_) return true;
    aside_.heartbeat = util::SystemClock().mono_ms();
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, kStackBytes);
    const int rc = pthread_create(&aside_thread_, &attr, &BusPoller::aside_main, this);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        util::log_error("bus=" + name_ + ": cannot start a thread for its failing endpoints (" +
                        std::string(std::strerror(rc)) + "); they stay on the shared thread");
        return false;
    }
    aside_running_ = true;
    return true;
}

void BusPoller::release_second(Line& line) {
    if (!line.second.transport || !line.second.transport->is_open()) return;
    const bool needed = std::any_of(devices_.begin(), devices_.end(),
                                    [&](const DeviceState& s) { return &lines_[s.line] == &line && over_second(s); });
    if (needed) return;
    line.second.transport->close();
    line.second.error.clear();
    line.second.reopen_backoff.reset();
    line.second.reopen_at_mono = 0;
}

Outcome BusPoller::connection_ready(Connection& c, const std::string& name, std::int64_t now_mono, std::string& error) {
    if (c.transport->is_open()) return Outcome::Ok;
    if (now_mono < c.reopen_at_mono) {
        error = c.error;
        return Outcome::Closed;
    }
    const Result r = c.transport->open();
    if (r.ok()) {
        if (!c.error.empty()) util::log_notice("bus=" + name + ": line open again");
        c.error.clear();
        c.reopen_backoff.reset();
        return Outcome::Ok;
    }
    if (r.outcome == Outcome::Stopped) return Outcome::Stopped;
    const std::int64_t delay = c.reopen_backoff.next_ms();
    c.reopen_at_mono = now_mono + delay;
    if (c.error != r.detail)
        util::log_warning("bus=" + name + ": " + r.detail + "; retrying with back-off (next in " +
                          util::format_duration_ms(delay) + ")");
    c.error = r.detail;
    error = r.detail;
    return Outcome::Closed;
}

BusPoller::Heard BusPoller::poll(DeviceState& d, Worker& w, bool second) {
    const util::SystemClock clock;
    const std::int64_t due = d.due_mono;
    Reading reading;
    reading.device = d.index;
    Line& line = lines_[d.line];
    Connection& conn = second ? line.second : line.conn;
    const std::string name = second ? line.bus->name + " (second connection)" : line.bus->name;
    std::string line_error;
    Heard heard = Heard::LineDown;
    const Outcome ready = connection_ready(conn, name, clock.mono_ms(), line_error);
    if (ready == Outcome::Stopped) return Heard::Nothing;
    if (ready == Outcome::Ok) {
        DeviceRead r = d.reader.read(*conn.transport, clock);
        if (r.last == Outcome::Stopped) return Heard::Nothing;  // shutting down: not the device's fault
        heard = r.answered ? Heard::Answer : r.last == Outcome::Closed ? Heard::LineDown : Heard::Silence;
        reading.time_ms = r.time_ms;
        reading.ok = r.ok;
        if (r.ok) {
            reading.measurepoints = std::move(r.points.json);
            reading.non_finite = r.points.non_finite;
        }
        reading.exceptions = std::move(r.exceptions);
        reading.error = std::move(r.error);
        if (r.last == Outcome::Closed && !conn.transport->is_open()) conn.error = reading.error;
    } else {
        reading.time_ms = clock.wall_ms();
        reading.error = line_error;
    }
    bool changed = false;
    schedule(d, reading.ok, due, changed);
    reading.online = d.health.online();
    const std::int64_t now = clock.mono_ms();
    w.heartbeat = now;
    log_outcome(d, reading, changed, now);
    sink_.push(std::move(reading));
    return heard;
}

void BusPoller::perform(const WriteJob& job, Worker& w, bool second) {
    const util::SystemClock clock;
    WriteOutcome out;
    out.token = job.token;
    out.device = job.device;
    const auto d =
        std::find_if(devices_.begin(), devices_.end(), [&](const DeviceState& s) { return s.index == job.device; });
    std::string line_error;
    Outcome ready = Outcome::Closed;
    Connection* conn = nullptr;
    if (d != devices_.end()) {
        conn = second ? &lines_[d->line].second : &lines_[d->line].conn;
        ready = connection_ready(*conn, lines_[d->line].bus->name, clock.mono_ms(), line_error);
    }
    if (d == devices_.end() || conn == nullptr) {
        out.code = 503;
        out.message = "the device is not polled by " + name_;
    } else if (ready != Outcome::Ok) {
        out.code = 503;
        out.message = ready == Outcome::Stopped ? "the gateway is stopping" : "the line is closed: " + line_error;
    } else {
        out = perform_writes(*conn->transport, cfg_.model_of(*d->device), d->device->unit_id,
                             cfg_.timeout_of(*d->device), job);
    }
    w.heartbeat = clock.mono_ms();
    write_sink_->write_done(std::move(out));
}

bool BusPoller::serves(std::size_t device) const {
    return std::any_of(devices_.begin(), devices_.end(), [&](const DeviceState& s) { return s.index == device; });
}

void BusPoller::schedule(DeviceState& d, bool ok, std::int64_t due, bool& changed) {
    std::int64_t next_due = d.health.record(ok, due, changed);
    const std::int64_t now = util::SystemClock().mono_ms();
    if (next_due <= now) {
        // Overran (a slow bus): keep the phase, skip the missed slots instead of bursting.
        const std::int64_t step = d.device->interval_ms;
        next_due += ((now - next_due) / step + 1) * step;
    }
    d.due_mono = next_due;
}

void BusPoller::log_outcome(DeviceState& d, const Reading& reading, bool changed, std::int64_t now_mono) {
    if (changed) {
        if (reading.online)
            util::log_notice(d.where + ": online");
        else
            util::log_warning(d.where + ": offline after " + std::to_string(d.health.consecutive_failures()) +
                              " failed polls: " + reading.error);
    } else if (!reading.ok && d.log_limit.allow(now_mono)) {
        const auto held = d.log_limit.suppressed();
        util::log_warning(d.where + ": " + reading.error +
                          (held ? " (" + std::to_string(held) + " similar messages suppressed)" : std::string()));
    }
}

}  // namespace fieldgate::modbus
