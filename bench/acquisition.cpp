// fieldgate-bench-acquisition: registers/s of fieldgate's bus polling (BusPoller over its
// transport, with planning, decoding and stamping, readings handed over through the daemon's own
// ReadingQueue and drained by this thread as the daemon's main loop does: on the queue's event
// and on the default commit interval) against a bare
// libmodbus loop issuing the same requests to the same simulator, in paired rounds whose order
// alternates (bare first, then fieldgate first), so a load that comes and goes on a shared machine
// hits both sides alike. Prints every pair, the median and the best ratio of the pairs, and the
// CPU us per request of both (process CPU: the bus thread, the hand-over and its draining).
//   tcp HOST PORT UNITS SECONDS [PAIRS]     units 1..UNITS behind one Modbus TCP endpoint
//   rtu DEVICE BAUD UNITS SECONDS [PAIRS]   units 1..UNITS on a serial line (a pty pair: the
//                                           simulator paces its replies to BAUD)
// Every unit is read as one block of 100 holding registers; the devices are due every 1 ms, more
// than the line can serve, so the bus thread never waits: it polls back to back.
#include <modbus.h>
#include <poll.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "fieldgate/config/config.hpp"
#include "fieldgate/daemon/reading_queue.hpp"
#include "fieldgate/modbus/bus_poller.hpp"
#include "fieldgate/util/log.hpp"

namespace {

constexpr int kRegisters = 100;  // the simulator maps holding 0..99
constexpr int kDefaultPairs = 9;

double cpu_s() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/// Requests/s and CPU us per request of one round.
struct Round {
    double per_s = 0;
    double cpu_us = 0;
};

double now_s() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string config_text(bool rtu, const std::string& where, const std::string& port_or_baud, int units) {
    std::string t =
        "[gateway]\nproduct_key = p\ndevice_key = d\ndevice_secret = s\n[mqtt]\nuri = tcp://127.0.0.1:1\n"
        "[model.m]\nr = holding:0 uint16[100]\n[bus.b]\n";
    t += rtu ? "type = rtu\ndevice = " + where + "\nbaud = " + port_or_baud + "\nframe_gap = 0ms\ntimeout = 1s\n"
             : "type = tcp\nhost = " + where + "\nport = " + port_or_baud + "\ntimeout = 1s\n";
    for (int u = 1; u <= units; ++u)
        t += "[device.u" + std::to_string(u) + "]\nmodel = m\nbus = b\nunit_id = " + std::to_string(u) +
             "\ninterval = 10ms\nproduct_key = p" + std::to_string(u) + "\ndevice_key = d" + std::to_string(u) +
             "\ndevice_secret = s\n";
    return t;
}

/// Takes what the bus thread queued, as the daemon's main loop does; counts the good readings.
long drain_ok(fieldgate::daemon::ReadingQueue& queue, long& failed) {
    long ok = 0;
    for (const auto& r : queue.drain()) {
        if (r.ok)
            ++ok;
        else
            ++failed;
    }
    return ok;
}

Round fieldgate_round(const fieldgate::config::Config& cfg, int units, double seconds, long& failed) {
    std::vector<std::size_t> devices;
    devices.reserve(static_cast<std::size_t>(units));
    for (int u = 0; u < units; ++u)
        devices.push_back(static_cast<std::size_t>(u));
    // The daemon's hand-over with its capacity; drained on the daemon's default commit interval.
    fieldgate::daemon::ReadingQueue queue(100'000);
    const double drain_every_s = static_cast<double>(cfg.store.commit_interval_ms) / 1000;
    fieldgate::modbus::BusPoller poller(cfg, cfg.buses.at("b"), devices, queue);
    poller.start();
    // Count from the first reading on, so connecting is not part of the figure.
    const double give_up = now_s() + 10;
    long ignored = 0;
    while (drain_ok(queue, ignored) == 0 && now_s() < give_up)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    const double t0 = now_s();
    const double c0 = cpu_s();
    long ok = 0;
    // As the daemon's main loop: drained when the queue's event says a batch waits, and on the
    // commit timer.
    double next_commit = t0 + drain_every_s;
    for (double now = t0; now - t0 < seconds; now = now_s()) {
        const double until = std::min(next_commit, t0 + seconds);
        pollfd p{queue.event_fd(), POLLIN, 0};
        ::poll(&p, 1, std::max(0, static_cast<int>((until - now) * 1000)));
        ok += drain_ok(queue, failed);
        if (now_s() >= next_commit) next_commit += drain_every_s;
    }
    const double c1 = cpu_s();
    const double t1 = now_s();
    poller.stop();
    drain_ok(queue, failed);
    const auto n = static_cast<double>(ok);
    return Round{n / (t1 - t0), 1e6 * (c1 - c0) / n};
}

Round bare_round(modbus_t* ctx, int units, double seconds, long& failed) {
    std::uint16_t regs[kRegisters];
    const double t0 = now_s();
    const double c0 = cpu_s();
    long n = 0;
    int unit = 1;
    while (now_s() - t0 < seconds) {
        modbus_set_slave(ctx, unit);
        if (modbus_read_registers(ctx, 0, kRegisters, regs) == kRegisters) {
            ++n;
        } else {
            if (failed++ == 0) std::fprintf(stderr, "bare loop: first failure: %s\n", modbus_strerror(errno));
            modbus_flush(ctx);  // what a careful user's loop does, lest a late reply be read as the next one
        }
        unit = unit % units + 1;
    }
    const double c1 = cpu_s();
    return Round{static_cast<double>(n) / (now_s() - t0), 1e6 * (c1 - c0) / static_cast<double>(n)};
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace

int main(int argc, char** argv) {
    if ((argc != 6 && argc != 7) || (std::string(argv[1]) != "tcp" && std::string(argv[1]) != "rtu")) {
        std::fprintf(stderr, "usage: %s tcp HOST PORT UNITS SECONDS [PAIRS] | rtu DEVICE BAUD UNITS SECONDS [PAIRS]\n",
                     argv[0]);
        return 1;
    }
    const bool rtu = std::string(argv[1]) == "rtu";
    const char* kind = rtu ? "rtu" : "tcp";
    fieldgate::util::set_log_level(fieldgate::util::Level::Warning);
    const int units = std::atoi(argv[4]);
    const double seconds = std::atof(argv[5]);
    const int pairs = argc == 7 ? std::max(1, std::atoi(argv[6])) : kDefaultPairs;
    auto loaded = fieldgate::config::load_texts({{"bench.ini", config_text(rtu, argv[2], argv[3], units)}});
    if (!loaded.config) {
        for (const auto& e : loaded.errors)
            std::fprintf(stderr, "%s\n", e.c_str());
        return 1;
    }
    // Below the config's 10 ms floor on purpose: every device always due, so the bus thread
    // polls back to back and the figure is the poller's, not the schedule's.
    for (auto& d : loaded.config->devices)
        d.interval_ms = 1;
    modbus_t* ctx =
        rtu ? modbus_new_rtu(argv[2], std::atoi(argv[3]), 'N', 8, 1) : modbus_new_tcp(argv[2], std::atoi(argv[3]));
    modbus_set_response_timeout(ctx, 1, 0);
    std::vector<double> ratios;
    std::vector<double> fg_cpu;
    std::vector<double> bare_cpu;
    Round best_fg;
    Round best_bare;
    long failed_fg = 0;
    long failed_bare = 0;
    for (int pair = 0; pair < pairs; ++pair) {
        Round fg;
        Round bare;
        // The bare loop holds the line only while it runs: a serial port has one owner at a time.
        for (int side = 0; side < 2; ++side) {
            if ((side == 0) == (pair % 2 == 0)) {
                if (modbus_connect(ctx) != 0) {
                    std::fprintf(stderr, "cannot connect: %s\n", modbus_strerror(errno));
                    return 1;
                }
                if (rtu) {
                    // A reply to the request fieldgate's round was stopped in may still be coming.
                    std::this_thread::sleep_for(std::chrono::milliseconds(100));
                    modbus_flush(ctx);
                }
                bare = bare_round(ctx, units, seconds, failed_bare);
                modbus_close(ctx);
            } else {
                fg = fieldgate_round(*loaded.config, units, seconds, failed_fg);
            }
        }
        const double ratio = fg.per_s / bare.per_s;
        std::printf(
            "%s pair %d (%s first): fieldgate %.0f registers/s, %.1f us CPU per request; bare %.0f registers/s, "
            "%.1f us CPU per request: %.1f%%\n",
            kind, pair + 1, pair % 2 == 0 ? "bare" : "fieldgate", fg.per_s * kRegisters, fg.cpu_us,
            bare.per_s * kRegisters, bare.cpu_us, 100 * ratio);
        std::fflush(stdout);
        ratios.push_back(ratio);
        fg_cpu.push_back(fg.cpu_us);
        bare_cpu.push_back(bare.cpu_us);
        if (fg.per_s > best_fg.per_s) best_fg = fg;
        if (bare.per_s > best_bare.per_s) best_bare = bare;
    }
    modbus_free(ctx);
    std::printf(
        "%s: fieldgate bus polling %.0f registers/s, bare libmodbus loop %.0f registers/s (best rounds): %.1f%%; "
        "paired rounds: median %.1f%%, best %.1f%%, worst %.1f%%; CPU per request (median): fieldgate %.1f us, bare "
        "%.1f us (%d pairs of %.0f s each; failed requests: fieldgate %ld, bare %ld)\n",
        kind, best_fg.per_s * kRegisters, best_bare.per_s * kRegisters, 100 * best_fg.per_s / best_bare.per_s,
        100 * median(ratios), 100 * *std::max_element(ratios.begin(), ratios.end()),
        100 * *std::min_element(ratios.begin(), ratios.end()), median(fg_cpu), median(bare_cpu), pairs, seconds,
        failed_fg, failed_bare);
    return 0;
}
