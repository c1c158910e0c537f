#pragma once
#include <memory>
#include <string>

#include "fieldgate/config/config.hpp"

namespace fieldgate::daemon {

/// Exit codes (DESIGN.md): 0 clean stop, 1 bad configuration, 2 runtime failure.
inline constexpr int kExitOk = 0;
inline constexpr int kExitConfig = 1;
inline constexpr int kExitRuntime = 2;

/// The daemon: builds the modules from a validated config, runs the sd-event main loop until
/// SIGTERM/SIGINT, reloads on SIGHUP, and tears everything down in reverse order.
class Daemon {
public:
    Daemon(std::string config_path, config::Config config);
    ~Daemon();
    Daemon(const Daemon&) = delete;
    Daemon& operator=(const Daemon&) = delete;

    /// Runs until stopped; returns the process exit code. Startup failures (store, socket)
    /// are reported to the journal and as STATUS= and give kExitRuntime.
    int run();

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace fieldgate::daemon
