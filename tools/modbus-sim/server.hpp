#pragma once
#include <modbus.h>

#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "options.hpp"

namespace fieldgate::sim {

/// A socket, a pipe end: closed once, by its owner.
class UniqueFd {
public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : fd_(fd) {}
    UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
    UniqueFd& operator=(UniqueFd&& o) noexcept;
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    ~UniqueFd();
    int get() const { return fd_; }
    int release() noexcept;

private:
    int fd_ = -1;
};

struct ModbusFree {
    void operator()(modbus_t* ctx) const noexcept { modbus_free(ctx); }
};
struct MappingFree {
    void operator()(modbus_mapping_t* m) const noexcept { modbus_mapping_free(m); }
};
using ModbusPtr = std::unique_ptr<modbus_t, ModbusFree>;
using MappingPtr = std::unique_ptr<modbus_mapping_t, MappingFree>;

/// Thrown when a port cannot be bound; what() names the address and the reason.
class BindError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Serves every device of the options from one thread: one poll() over the listening sockets,
/// every client connection and a stop fd. Many clients per port are served concurrently; each
/// request is answered in full before the next is read (requests are tiny and the values are
/// computed, so no request waits long behind another).
class Server {
public:
    /// Binds every port (BindError when one cannot be bound) and maps each device's tables.
    explicit Server(const Options& options);

    /// One line per port: "listening on 127.0.0.1:15020 units 1,2" (the real port when 0 was asked).
    std::vector<std::string> banner() const;

    /// Serves until `stop_fd` becomes readable (a signalfd). Returns 0, or 2 when poll() fails.
    int run(int stop_fd);

private:
    struct Device {
        DeviceSpec spec;
        MappingPtr mapping;
    };
    struct Port {
        std::uint16_t port = 0;
        ModbusPtr ctx;  // used to listen, then (with modbus_set_socket) to talk to each client
        UniqueFd listener;
        std::map<std::uint8_t, Device> units;
    };
    struct Client {
        UniqueFd fd;
        std::size_t port_index = 0;
    };

    void accept_client(std::size_t port_index);
    /// False when the connection is done (closed by the peer, or a broken frame).
    bool serve_one(Client& client);

    Options options_;
    std::vector<Port> ports_;
    std::vector<Client> clients_;
};

}  // namespace fieldgate::sim
