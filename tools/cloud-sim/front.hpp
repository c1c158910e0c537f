#pragma once
// The hub's door: a TCP front the gateway connects to instead of the broker. It reads each
// connection's MQTT CONNECT, checks the signed credentials as the hub does (connect_check.hpp),
// answers a refusal itself with CONNACK 4 or 5 and closes, and otherwise passes the CONNECT and
// everything after it through to the broker, both ways. Every CONNECT it sees is appended to
// a JSON-lines file, so tests count connection attempts where the hub counts them.
#include <cstdint>
#include <cstdio>
#include <string>
#include <thread>

#include "connect_check.hpp"

namespace fieldgate::cloudsim {

class Front {
public:
    /// Listens on 127.0.0.1:listen_port at once (throws std::runtime_error when it cannot) and
    /// serves on a thread of its own until destroyed. `log_path` may be empty.
    Front(std::uint16_t listen_port, std::string broker_host, std::uint16_t broker_port, Identity gateway,
          const std::string& log_path);
    ~Front();
    Front(const Front&) = delete;
    Front& operator=(const Front&) = delete;

private:
    void run() noexcept;

    std::string broker_host_;
    std::uint16_t broker_port_;
    Identity gateway_;
    int listener_ = -1;
    int stop_fd_ = -1;
    std::FILE* log_ = nullptr;
    std::thread thread_;
};

}  // namespace fieldgate::cloudsim
