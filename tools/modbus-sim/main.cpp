// fieldgate-modbus-sim: simulated Modbus TCP devices on loopback for tests, benchmarks and the
// demo. See README.md for the register maps and value formulas.
#include <signal.h>
#include <sys/signalfd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>

#include "options.hpp"
#include "rtu_server.hpp"
#include "server.hpp"

int main(int argc, char** argv) {
    using namespace fieldgate::sim;

    Options options;
    const auto errors = parse_options(argc, argv, options);
    if (options.help) {
        std::fputs(usage(), stdout);
        return 0;
    }
    if (!errors.empty()) {
        for (const auto& e : errors)
            std::fprintf(stderr, "%s\n", e.c_str());
        return 1;
    }

    // Signals arrive as a readable fd in the poll loop: no handler runs in the middle of a
    // libmodbus call, and the loop stops between requests.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    if (sigprocmask(SIG_BLOCK, &stop_signals, nullptr) != 0) {
        std::fprintf(stderr, "fieldgate-modbus-sim: sigprocmask: %s\n", std::strerror(errno));
        return 2;
    }
    const UniqueFd stop(signalfd(-1, &stop_signals, SFD_CLOEXEC));
    if (stop.get() < 0) {
        std::fprintf(stderr, "fieldgate-modbus-sim: signalfd: %s\n", std::strerror(errno));
        return 2;
    }
    // A client that disconnects while we reply must cost an EPIPE, not the process.
    signal(SIGPIPE, SIG_IGN);

    try {
        if (!options.rtu_path.empty()) {
            RtuServer server(options);
            std::fprintf(stderr, "%s\n", server.banner().c_str());
            std::fflush(stderr);
            const int rc = server.run(stop.get());
            if (rc == 0) std::fprintf(stderr, "fieldgate-modbus-sim: stopped\n");
            return rc;
        }
        Server server(options);
        for (const auto& line : server.banner())
            std::fprintf(stderr, "%s\n", line.c_str());
        std::fflush(stderr);
        const int rc = server.run(stop.get());
        if (rc == 0) std::fprintf(stderr, "fieldgate-modbus-sim: stopped\n");
        return rc;
    } catch (const BindError& e) {
        std::fprintf(stderr, "fieldgate-modbus-sim: %s\n", e.what());
        return 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "fieldgate-modbus-sim: %s\n", e.what());
        return 2;
    }
}
