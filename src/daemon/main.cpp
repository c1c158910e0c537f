// fieldgated: the gateway daemon's entry point. Parses the command line, loads and validates
// the configuration, and hands over to Daemon.
#include <malloc.h>
#include <pthread.h>

#include <csignal>
#include <cstring>
#include <iostream>
#include <string>

#include "fieldgate/config/config.hpp"
#include "fieldgate/daemon/daemon.hpp"
#include "fieldgate/util/log.hpp"

namespace {

constexpr const char* kUsage =
    "Usage: fieldgated [-c FILE] [--check-config] [--verbose]\n"
    "Polls Modbus devices, buffers every reading in SQLite and uploads them to the EnOS IoT Hub.\n"
    "\n"
    "  -c, --config FILE   configuration file (default /etc/fieldgate/fieldgate.ini);\n"
    "                      every *.ini in the conf.d/ folder beside it is read too\n"
    "      --check-config  validate the configuration, print each problem, exit 0 (valid) or 1\n"
    "  -v, --verbose       log debug messages\n"
    "      --version       print the version\n"
    "  -h, --help          print this help\n"
    "\n"
    "Exit status: 0 clean stop, 1 bad configuration, 2 runtime failure.\n"
    "Signals: SIGTERM/SIGINT stop cleanly, SIGHUP reloads the configuration.\n";

}  // namespace

int main(int argc, char** argv) {
    using namespace fieldgate;
    std::string path = "/etc/fieldgate/fieldgate.ini";
    bool check_only = false;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if ((arg == "-c" || arg == "--config") && i + 1 < argc) {
            path = argv[++i];
        } else if (arg.rfind("--config=", 0) == 0) {
            path = arg.substr(9);
        } else if (arg == "--check-config") {
            check_only = true;
        } else if (arg == "-v" || arg == "--verbose") {
            util::set_log_level(util::Level::Debug);
        } else if (arg == "--version") {
            std::cout << "fieldgated " << FIELDGATE_VERSION << "\n";
            return daemon::kExitOk;
        } else if (arg == "-h" || arg == "--help") {
            std::cout << kUsage;
            return daemon::kExitOk;
        } else {
            std::cerr << "fieldgated: unknown argument '" << arg << "'\n" << kUsage;
            return daemon::kExitConfig;
        }
    }

    auto loaded = config::load(path);
    for (const auto& w : loaded.warnings)
        std::cerr << w << "\n";
    for (const auto& e : loaded.errors)
        std::cerr << e << "\n";
    if (!loaded.config) {
        if (!check_only) std::cerr << "fieldgated: " << path << ": invalid configuration, not starting\n";
        return daemon::kExitConfig;
    }
    if (check_only) {
        std::cout << path << ": configuration is valid (" << loaded.config->devices.size() << " devices, "
                  << loaded.config->buses.size() << " buses)\n";
        return daemon::kExitOk;
    }

    // Signals are taken by the event loop through a signalfd: block them before any thread
    // starts so every thread inherits the mask.
    sigset_t mask;
    sigemptyset(&mask);
    for (int sig : {SIGTERM, SIGINT, SIGHUP})
        sigaddset(&mask, sig);
    pthread_sigmask(SIG_BLOCK, &mask, nullptr);
    std::signal(SIGPIPE, SIG_IGN);
    // One malloc arena per bus thread would cost RSS for nothing: their allocations are small.
    mallopt(M_ARENA_MAX, 2);
    // Each commit allocates and frees the same few hundred KiB; returning them to the kernel
    // every time costs a page fault per page on the next round.
    mallopt(M_TRIM_THRESHOLD, 1 << 20);
    mallopt(M_MMAP_THRESHOLD, 1 << 20);

    daemon::Daemon d(path, std::move(*loaded.config));
    return d.run();
}
