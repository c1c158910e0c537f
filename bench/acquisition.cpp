// fieldgate-bench-acquisition: registers/s of fieldgate's bus polling (BusPoller over its
// transport, with planning, decoding and stamping, readings into a counting sink) against a bare
// libmodbus loop issuing the same requests to the same simulator, in alternating rounds.
//   tcp HOST PORT UNITS SECONDS     units 1..UNITS behind one Modbus TCP endpoint
//   rtu DEVICE BAUD UNITS SECONDS   units 1..UNITS on a serial line (a pty pair: the simulator
//                                   paces its replies to BAUD)
// Every unit is read as one block of 100 holding registers; the devices are due every 1 ms, more
// than the line can serve, so the bus thread never waits: it polls back to back.
#include <modbus.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "fieldgate/config/config.hpp"
#include "fieldgate/modbus/bus_poller.hpp"
#include "fieldgate/util/log.hpp"

namespace {

constexpr int kRegisters = 100;  // the simulator maps holding 0..99
constexpr int kRounds = 3;

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

class CountingSink final : public fieldgate::modbus::ReadingSink {
public:
    void push(fieldgate::modbus::Reading r) override {
        if (r.ok)
            ok.fetch_add(1);
        else
            failed.fetch_add(1);
    }
    std::atomic<long> ok{0};
    std::atomic<long> failed{0};
};

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

Round fieldgate_round(const fieldgate::config::Config& cfg, int units, double seconds, long& failed) {
    std::vector<std::size_t> devices;
    devices.reserve(static_cast<std::size_t>(units));
    for (int u = 0; u < units; ++u)
        devices.push_back(static_cast<std::size_t>(u));
    CountingSink sink;
    fieldgate::modbus::BusPoller poller(cfg, cfg.buses.at("b"), devices, sink);
    poller.start();
    // Count from the first reading on, so connecting is not part of the figure.
    const double give_up = now_s() + 10;
    while (sink.ok.load() == 0 && now_s() < give_up)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    const long ok0 = sink.ok.load();
    const double t0 = now_s();
    const double c0 = cpu_s();
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    const long ok1 = sink.ok.load();
    const double c1 = cpu_s();
    const double t1 = now_s();
    poller.stop();
    failed += sink.failed.load();
    const auto n = static_cast<double>(ok1 - ok0);
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
        }
        unit = unit % units + 1;
    }
    const double c1 = cpu_s();
    return Round{static_cast<double>(n) / (now_s() - t0), 1e6 * (c1 - c0) / static_cast<double>(n)};
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 6 || (std::string(argv[1]) != "tcp" && std::string(argv[1]) != "rtu")) {
        std::fprintf(stderr, "usage: %s tcp HOST PORT UNITS SECONDS | rtu DEVICE BAUD UNITS SECONDS\n", argv[0]);
        return 1;
    }
    const bool rtu = std::string(argv[1]) == "rtu";
    fieldgate::util::set_log_level(fieldgate::util::Level::Warning);
    const int units = std::atoi(argv[4]);
    const double seconds = std::atof(argv[5]);
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
    Round best_fg;
    Round best_bare;
    long failed_fg = 0;
    long failed_bare = 0;
    for (int round = 0; round < kRounds; ++round) {
        // The bare loop holds the line only while it runs: a serial port has one owner at a time.
        if (modbus_connect(ctx) != 0) {
            std::fprintf(stderr, "cannot connect: %s\n", modbus_strerror(errno));
            return 1;
        }
        const Round bare = bare_round(ctx, units, seconds, failed_bare);
        if (bare.per_s > best_bare.per_s) best_bare = bare;
        modbus_close(ctx);
        const Round fg = fieldgate_round(*loaded.config, units, seconds, failed_fg);
        if (fg.per_s > best_fg.per_s) best_fg = fg;
    }
    modbus_free(ctx);
    std::printf(
        "%s: fieldgate bus polling %.0f registers/s (%.1f us CPU per request), bare libmodbus loop %.0f "
        "registers/s (%.1f us CPU per request): %.1f%% (best of %d rounds of %.0f s each; failed requests: "
        "fieldgate %ld, bare %ld)\n",
        rtu ? "rtu" : "tcp", best_fg.per_s * kRegisters, best_fg.cpu_us, best_bare.per_s * kRegisters, best_bare.cpu_us,
        100 * best_fg.per_s / best_bare.per_s, kRounds, seconds, failed_fg, failed_bare);
    return 0;
}
