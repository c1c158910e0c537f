#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "options.hpp"
#include "server.hpp"

namespace fieldgate::sim {

/// Serves the RTU devices of the options (every device gets the --rtu line) on one serial
/// device, usually one end of a socat pseudo-terminal pair the test made. Requests are framed
/// here (length by function code, CRC checked, bad frames dropped as a slave would) and answered
/// with libmodbus's RTU replies, after the time the request and the reply take on a real line at
/// the configured baud rate, so a pty behaves like a wire in time too. Faults per unit: dead (no
/// reply), slow (reply after a delay), noisy (stray bytes now and then), refused address ranges.
class RtuServer {
public:
    /// Opens the line (std::runtime_error naming it when it cannot be) and maps each device.
    explicit RtuServer(const Options& options);

    /// "serving RTU on PATH units 1,2,3".
    std::string banner() const;

    /// Serves until `stop_fd` becomes readable. Returns 0, or 2 when the line fails.
    int run(int stop_fd);

private:
    struct Device {
        DeviceSpec spec;
        MappingPtr mapping;
        std::uint64_t replies = 0;
    };

    /// Answers one complete, CRC-checked request frame.
    void answer(const std::uint8_t* req, int length);
    void pace(std::size_t bytes) const;

    Options options_;
    ModbusPtr ctx_;
    int fd_ = -1;
    double char_us_ = 0;
    std::map<std::uint8_t, Device> units_;
};

}  // namespace fieldgate::sim
