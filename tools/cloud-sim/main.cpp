// fieldgate-cloud-sim: a stand-in for the EnOS IoT Hub on a local MQTT broker, for the tests and
// the demo. See README.md beside this file.
#include <pthread.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <exception>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "event_queue.hpp"
#include "front.hpp"
#include "fieldgate/util/log.hpp"
#include "hub.hpp"
#include "mqtt_link.hpp"
#include "records_file.hpp"
#include "requester.hpp"
#include "sim_config.hpp"
#include "simulator.hpp"

namespace {

using namespace fieldgate;
using namespace fieldgate::cloudsim;

constexpr std::string_view kUsage =
    "usage: fieldgate-cloud-sim -c FILE [--broker tcp://HOST:PORT] [--records FILE] [--stats FILE] [--verbose]\n"
    "       fieldgate-cloud-sim --broker tcp://HOST:PORT --send FILE|- [--timeout-ms N]\n"
    "\n"
    "Simulates the EnOS IoT Hub on an MQTT broker: validates the gateway's measurepoint batches and\n"
    "sub-device logins as the hub does, replies on the _reply topics, and appends every accepted\n"
    "record to the records file (JSON lines).\n"
    "\n"
    "  -c, --config FILE   the simulator's INI file (see tools/cloud-sim/README.md)\n"
    "  --broker URI        overrides [hub] broker\n"
    "  --records FILE      overrides [hub] records\n"
    "  --stats FILE        rewrites FILE with the counters (JSON) at each summary and at exit\n"
    "  -v, --verbose       one log line per request\n"
    "  --send FILE|-       instead of simulating: send the requests in FILE (one 'TOPIC PAYLOAD' a line,\n"
    "                      e.g. a measurepoint set) as the cloud would, one at a time, and print one\n"
    "                      JSON line per request: {\"topic\",\"request\",\"reply\",\"latency_ms\"}\n"
    "  --timeout-ms N      with --send: how long to wait for each reply (default 10000)\n"
    "  -h, --help          this text\n"
    "  --version           the version\n"
    "\n"
    "Exit status: 0 stopped by SIGTERM/SIGINT; 1 bad configuration, records file or unreachable broker;\n"
    "2 the broker refused the subscriptions.\n";

struct Args {
    std::string config;
    std::string send;
    int timeout_ms = 10'000;
    std::optional<std::string> broker;
    std::optional<std::string> records;
    std::string stats;
    bool verbose = false;
};

/// Parses the command line; returns an exit code when the process should stop right away.
std::optional<int> parse_args(int argc, char** argv, Args& args) {
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        std::optional<std::string_view> inline_value;
        if (arg.substr(0, 2) == "--") {
            if (const auto eq = arg.find('='); eq != std::string_view::npos) {
                inline_value = arg.substr(eq + 1);
                arg = arg.substr(0, eq);
            }
        }
        auto value = [&]() -> std::optional<std::string> {
            if (inline_value) return std::string(*inline_value);
            if (i + 1 >= argc) return std::nullopt;
            return std::string(argv[++i]);
        };
        if (arg == "-h" || arg == "--help") {
            std::cout << kUsage;
            return 0;
        }
        if (arg == "--version") {
            std::cout << "fieldgate-cloud-sim " << FIELDGATE_VERSION << "\n";
            return 0;
        }
        if (arg == "-v" || arg == "--verbose") {
            args.verbose = true;
            continue;
        }
        std::optional<std::string>* target = nullptr;
        std::optional<std::string> stats;
        std::optional<std::string> config;
        std::optional<std::string> send;
        std::optional<std::string> timeout;
        if (arg == "-c" || arg == "--config") {
            target = &config;
        } else if (arg == "--broker") {
            target = &args.broker;
        } else if (arg == "--records") {
            target = &args.records;
        } else if (arg == "--stats") {
            target = &stats;
        } else if (arg == "--send") {
            target = &send;
        } else if (arg == "--timeout-ms") {
            target = &timeout;
        } else {
            std::cerr << "fieldgate-cloud-sim: unknown option '" << arg << "'\n" << kUsage;
            return 1;
        }
        *target = value();
        if (!*target || (*target)->empty()) {
            std::cerr << "fieldgate-cloud-sim: " << arg << " needs a value\n";
            return 1;
        }
        if (config) args.config = *config;
        if (stats) args.stats = *stats;
        if (send) args.send = *send;
        if (timeout) {
            try {
                args.timeout_ms = std::stoi(*timeout);
            } catch (const std::exception&) {
                args.timeout_ms = -1;
            }
            if (args.timeout_ms <= 0) {
                std::cerr << "fieldgate-cloud-sim: --timeout-ms needs a positive number of milliseconds\n";
                return 1;
            }
        }
    }
    if (!args.send.empty()) {
        if (!args.broker) {
            std::cerr << "fieldgate-cloud-sim: --send needs --broker\n";
            return 1;
        }
        return std::nullopt;
    }
    if (args.config.empty()) {
        std::cerr << "fieldgate-cloud-sim: -c FILE is required\n" << kUsage;
        return 1;
    }
    return std::nullopt;
}

/// Waits for SIGTERM/SIGINT (blocked in every thread) and hands it to the main loop as an event.
class SignalThread {
public:
    explicit SignalThread(EventQueue& events) {
        sigemptyset(&set_);
        sigaddset(&set_, SIGTERM);
        sigaddset(&set_, SIGINT);
        thread_ = std::thread([this, &events] {
            int sig = 0;
            if (sigwait(&set_, &sig) != 0 || stopping_) return;
            Event e;
            e.type = Event::Type::Signal;
            e.code = sig;
            events.push(std::move(e));
        });
    }
    ~SignalThread() {
        // SIGTERM is blocked in every thread: it only wakes sigwait() if no signal came; harmless when
        // the thread already returned (not yet joined).
        stopping_ = true;
        pthread_kill(thread_.native_handle(), SIGTERM);  // NOLINT(bugprone-bad-signal-to-kill-thread): wakes sigwait()
        thread_.join();
    }
    SignalThread(const SignalThread&) = delete;
    SignalThread& operator=(const SignalThread&) = delete;

private:
    sigset_t set_{};
    std::atomic<bool> stopping_{false};
    std::thread thread_;
};

int run(const Args& args) {
    ConfigResult loaded = load_config(args.config);
    for (const auto& e : loaded.errors)
        std::cerr << e << "\n";
    if (!loaded.config) return 1;
    SimConfig cfg = std::move(*loaded.config);
    for (const auto& n : loaded.notes)
        util::log_notice(args.config + ": " + n);
    if (args.broker) cfg.broker = *args.broker;
    if (args.records) cfg.records = *args.records;
    const auto address = parse_broker_uri(cfg.broker);
    if (!address) {
        std::cerr << "fieldgate-cloud-sim: --broker '" << cfg.broker << "' is not tcp://HOST:PORT\n";
        return 1;
    }

    // Block the stop signals before any thread starts, so every thread (Paho's too) inherits
    // the mask and only the signal thread receives them.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    std::signal(SIGPIPE, SIG_IGN);

    EventQueue events;
    SignalThread signals(events);
    try {
        RecordsFile records(cfg.records, cfg.append_records);
        std::unique_ptr<Front> front;
        if (cfg.front_port != 0) {
            front = std::make_unique<Front>(cfg.front_port, address->host, address->port,
                                            Identity{cfg.hub.product_key, cfg.hub.device_key, cfg.hub.device_secret},
                                            cfg.connects_log);
            util::log_notice("front: checking the gateway's CONNECT on 127.0.0.1:" + std::to_string(cfg.front_port));
        }
        Hub hub(std::move(cfg.hub));
        MqttLink link(cfg.broker, cfg.client_id, events);
        LoopOptions options;
        options.broker = cfg.broker;
        options.broker_port = address->port;
        options.stats_path = args.stats;
        options.verbose = args.verbose;
        options.logout_on_reconnect = cfg.logout_on_reconnect;
        options.summary_interval = std::chrono::milliseconds(cfg.summary_interval_ms);
        Simulator sim(options, hub, link, records, events);
        return sim.run();
    } catch (const std::exception& e) {
        util::log_error(std::string("fieldgate-cloud-sim: ") + e.what());
        return 1;
    }
}

}  // namespace

int main(int argc, char** argv) {
    try {
        Args args;
        if (const auto code = parse_args(argc, argv, args)) return *code;
        if (!args.send.empty()) {
            if (args.send == "-") return send_requests(*args.broker, std::cin, std::cout, args.timeout_ms);
            std::ifstream in(args.send);
            if (!in) {
                std::cerr << "fieldgate-cloud-sim: cannot read " << args.send << "\n";
                return 1;
            }
            return send_requests(*args.broker, in, std::cout, args.timeout_ms);
        }
        return run(args);
    } catch (const std::exception& e) {
        std::cerr << "fieldgate-cloud-sim: " << e.what() << "\n";
        return 1;
    }
}
