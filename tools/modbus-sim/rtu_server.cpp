#include "rtu_server.hpp"

#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <thread>

namespace fieldgate::sim {
namespace {

std::int64_t wall_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::uint16_t crc16(const std::uint8_t* p, std::size_t n) {
    std::uint16_t crc = 0xFFFF;
    for (std::size_t i = 0; i < n; ++i) {
        crc = static_cast<std::uint16_t>(crc ^ p[i]);
        for (int b = 0; b < 8; ++b)
            crc = (crc & 1U) ? static_cast<std::uint16_t>((crc >> 1) ^ 0xA001U) : static_cast<std::uint16_t>(crc >> 1);
    }
    return crc;
}

// Bytes of a request frame once its head is there; 0 while unknown, SIZE_MAX for a function
// this simulator does not frame (the buffer is then dropped as noise).
std::size_t request_length(const std::uint8_t* p, std::size_t have) {
    if (have < 2) return 0;
    switch (p[1]) {
        case 1:
        case 2:
        case 3:
        case 4:
        case 5:
        case 6:
            return 8;
        case 15:
        case 16:
            return have < 7 ? 0 : 9 + std::size_t{p[6]};
        default:
            return SIZE_MAX;
    }
}

// Bytes of the reply to a well-formed request (for pacing).
std::size_t reply_length(const std::uint8_t* req) {
    const unsigned count = (unsigned{req[4]} << 8) | req[5];
    switch (req[1]) {
        case 1:
        case 2:
            return 5 + (count + 7) / 8;
        case 3:
        case 4:
            return 5 + 2 * count;
        default:
            return 8;
    }
}

}  // namespace

RtuServer::RtuServer(const Options& options) : options_(options) {
    const char parity = options.rtu_parity;
    ctx_.reset(modbus_new_rtu(options.rtu_path.c_str(), static_cast<int>(options.rtu_baud), parity, 8, 1));
    if (!ctx_) throw std::runtime_error("cannot set up " + options.rtu_path + ": " + modbus_strerror(errno));
    if (modbus_connect(ctx_.get()) != 0)
        throw std::runtime_error("cannot open " + options.rtu_path + ": " + modbus_strerror(errno));
    fd_ = modbus_get_socket(ctx_.get());
    const unsigned bits = 1 + 8 + (parity == 'N' ? 0 : 1) + 1;
    char_us_ = bits * 1e6 / static_cast<double>(options.rtu_baud);
    for (const auto& spec : options_.devices) {
        Device d;
        d.spec = spec;
        d.mapping.reset(
            modbus_mapping_new_start_address(0, kCoils, 0, kDiscreteInputs, 0, kHoldingRegisters, 0, kInputRegisters));
        if (!d.mapping) throw std::runtime_error("cannot allocate a register map");
        units_.emplace(spec.unit_id, std::move(d));
    }
}

std::string RtuServer::banner() const {
    std::string line = "serving RTU on " + options_.rtu_path + " units ";
    bool first = true;
    for (const auto& [unit, d] : units_) {
        line += (first ? "" : ",") + std::to_string(unit);
        first = false;
    }
    return line;
}

void RtuServer::pace(std::size_t bytes) const {
    if (!options_.rtu_pace) return;
    std::this_thread::sleep_for(
        std::chrono::microseconds(static_cast<std::int64_t>(char_us_ * static_cast<double>(bytes))));
}

void RtuServer::answer(const std::uint8_t* req, int length) {
    const std::uint8_t unit = req[0];
    auto found = units_.find(unit);
    const unsigned addr = (unsigned{req[2]} << 8) | req[3];
    const unsigned count = (unsigned{req[4]} << 8) | req[5];
    if (options_.verbose)
        std::fprintf(stderr, "rtu unit %u: fc %u addr %u count %u%s\n", unit, req[1], addr, count,
                     found == units_.end() ? " (no such unit)" : "");
    if (found == units_.end() || options_.dead.count(unit)) return;  // a dead slave says nothing
    Device& d = found->second;
    if (options_.slow.count(unit)) std::this_thread::sleep_for(std::chrono::milliseconds(options_.slow_ms));
    pace(static_cast<std::size_t>(length) + reply_length(req));
    modbus_set_slave(ctx_.get(), unit);
    ++d.replies;
    if (options_.noisy.count(unit) && d.replies % options_.noise_every == 0) {
        // Stray bytes on the wire just before the reply: what a noisy RS-485 run does.
        const std::uint8_t noise[] = {unit, 0x03, 0xFF, 0x13, 0x37, 0x00, 0x42};
        [[maybe_unused]] const auto n = ::write(fd_, noise, sizeof noise);
    }
    const bool reads_registers = req[1] == 3 || req[1] == 4;
    if (options_.refuse && reads_registers && addr <= options_.refuse->second &&
        addr + count - 1 >= options_.refuse->first) {
        modbus_reply_exception(ctx_.get(), req, MODBUS_EXCEPTION_ILLEGAL_DATA_ADDRESS);
        return;
    }
    const Image image{d.mapping->tab_registers, d.mapping->tab_input_registers, d.mapping->tab_bits,
                      d.mapping->tab_input_bits};
    refresh(d.spec.profile, d.spec.seed, wall_ms(), image);
    modbus_reply(ctx_.get(), req, length, d.mapping.get());
}

int RtuServer::run(int stop_fd) {
    std::uint8_t buf[MODBUS_RTU_MAX_ADU_LENGTH];
    std::size_t have = 0;
    for (;;) {
        pollfd fds[2] = {{stop_fd, POLLIN, 0}, {fd_, POLLIN, 0}};
        // Mid-frame, a pause of 50 ms ends the frame: what is there is noise and is dropped.
        const int n = ::poll(fds, 2, have ? 50 : -1);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return 2;
        if (fds[0].revents) return 0;
        if (n == 0) {
            have = 0;
            continue;
        }
        if (fds[1].revents & (POLLHUP | POLLERR) && !(fds[1].revents & POLLIN)) {
            std::fprintf(stderr, "fieldgate-modbus-sim: %s hung up\n", options_.rtu_path.c_str());
            return 2;
        }
        const auto got = ::read(fd_, buf + have, sizeof buf - have);
        if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        if (got <= 0) return 2;
        have += static_cast<std::size_t>(got);
        for (;;) {
            const std::size_t want = request_length(buf, have);
            if (want == SIZE_MAX || (want == 0 && have == sizeof buf) || want > sizeof buf) {
                have = 0;  // not a frame we know: noise
                break;
            }
            if (want == 0 || have < want) break;
            const std::uint16_t crc = crc16(buf, want - 2);
            if (buf[want - 2] == (crc & 0xFF) && buf[want - 1] == (crc >> 8)) {
                answer(buf, static_cast<int>(want));
            } else {
                have = 0;  // a slave ignores a frame whose CRC is wrong
                break;
            }
            std::memmove(buf, buf + want, have - want);
            have -= want;
        }
    }
}

}  // namespace fieldgate::sim
