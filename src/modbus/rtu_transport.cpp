#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "fieldgate/modbus/rtu_frame.hpp"
#include "fieldgate/util/log.hpp"
#include "line_support.hpp"
#include "transports.hpp"

namespace fieldgate::modbus {
namespace detail {
namespace {

char parity_char(config::Parity p) {
    return p == config::Parity::Even ? 'E' : p == config::Parity::Odd ? 'O' : 'N';
}

const char* rts_name(config::Rts r) {
    return r == config::Rts::Up ? "up" : r == config::Rts::Down ? "down" : "none";
}

/// Modbus RTU on a serial port. libmodbus opens and sets up the port (termios, RS-485 mode,
/// RTS) and sends each request (it drives RTS around the write); the reply is received here,
/// with poll() on the port and the stop signal, so a stop never waits out a time-out and every
/// kind of bad frame is told apart (libmodbus reports a reply from the wrong unit only as
/// "Response not from requested slave" and leaves the rest of the frame in the port).
class RtuTransport final : public ModbusTransport {
public:
    explicit RtuTransport(const config::Bus& bus) : bus_(bus) {
        // 1 start bit + data + parity + stop bits.
        const unsigned bits = 1U + bus.data_bits + (bus.parity == config::Parity::None ? 0U : 1U) + bus.stop_bits;
        char_us_ = static_cast<double>(bits) * 1e6 / static_cast<double>(bus.baud);
        // Inside a frame bytes follow each other; a pause this long ends it (generous against
        // USB adapters' latency and a loaded machine; Modbus's own 1.5 characters is too tight).
        byte_gap_ms_ = std::max<std::int64_t>(50, static_cast<std::int64_t>(std::ceil(char_us_ * 8 / 1000)));
        quiet_ms_ =
            std::max<std::int64_t>({20, bus.frame_gap_ms, static_cast<std::int64_t>(std::ceil(char_us_ * 4 / 1000))});
    }
    ~RtuTransport() override { close(); }

    Result open() override {
        if (stop_.raised()) return stopped();
        if (ctx_) return Result{};
        ModbusPtr ctx(modbus_new_rtu(bus_.device.c_str(), static_cast<int>(bus_.baud), parity_char(bus_.parity),
                                     bus_.data_bits, bus_.stop_bits));
        if (!ctx)
            return Result{Outcome::Closed, 0,
                          std::string("cannot set up ") + bus_.device + ": " + modbus_strerror(errno)};
        if (modbus_connect(ctx.get()) != 0)
            return Result{Outcome::Closed, 0, "cannot open " + bus_.device + ": " + modbus_strerror(errno)};
        fd_ = modbus_get_socket(ctx.get());
        ctx_ = std::move(ctx);
        apply_line_settings();
        last_activity_ms_ = mono_now_ms();
        return Result{};
    }

    bool is_open() const override { return ctx_ != nullptr; }

    void close() override {
        if (!ctx_) return;
        modbus_close(ctx_.get());
        ctx_.reset();
        fd_ = -1;
    }

    Result read(std::uint8_t unit, const ReadBlock& block, std::int64_t timeout_ms, BlockData& out) override {
        if (stop_.raised()) return stopped();
        if (!ctx_) return Result{Outcome::Closed, 0, "not open"};
        if (!wait_frame_gap()) return stopped();
        // Nothing may be waiting before a request; what is there is noise or a late reply.
        ::tcflush(fd_, TCIFLUSH);
        const auto request = rtu_read_request(unit, block);
        if (modbus_send_raw_request(ctx_.get(), request.data(), static_cast<int>(request.size())) < 0)
            return line_lost(std::string("write failed: ") + modbus_strerror(errno));
        return receive(unit, block, timeout_ms, out);
    }

    Result write(std::uint8_t unit, config::Table table, std::uint16_t address, const EncodedWrite& data,
                 std::int64_t timeout_ms) override {
        if (stop_.raised()) return stopped();
        if (!ctx_) return Result{Outcome::Closed, 0, "not open"};
        if (!wait_frame_gap()) return stopped();
        ::tcflush(fd_, TCIFLUSH);
        const auto request = rtu_write_request(unit, table, address, data);
        if (modbus_send_raw_request(ctx_.get(), request.data(), static_cast<int>(request.size())) < 0)
            return line_lost(std::string("write failed: ") + modbus_strerror(errno));
        std::uint8_t frame[MODBUS_RTU_MAX_ADU_LENGTH];
        std::size_t have = 0;
        Result r = receive_frame(timeout_ms, frame, have);
        if (!r.ok()) return r;
        return parse_rtu_write_reply(frame, have, unit, table, address, data);
    }

    void flush() override {
        if (!ctx_) return;
        // Wait for the line to fall silent (a slave still sending the rest of a long frame),
        // bounded, then drop what the port holds.
        const std::int64_t give_up = mono_now_ms() + std::max<std::int64_t>(bus_.timeout_ms, quiet_ms_);
        std::uint8_t sink[256];
        while (mono_now_ms() < give_up) {
            const int r = wait_readable(quiet_ms_);
            if (r <= 0) break;  // quiet, stopped or gone
            if (::read(fd_, sink, sizeof sink) <= 0) break;
        }
        if (fd_ >= 0) ::tcflush(fd_, TCIOFLUSH);
        last_activity_ms_ = mono_now_ms();
    }

    void interrupt() override { stop_.raise(); }

private:
    void apply_line_settings() {
        const std::string where = "bus=" + bus_.name + " device=" + bus_.device + ": ";
        if (bus_.rs485 && modbus_rtu_set_serial_mode(ctx_.get(), MODBUS_RTU_RS485) != 0 && !told_rs485_) {
            told_rs485_ = true;
            util::log_warning(where + "rs485 = true refused by the port (" + modbus_strerror(errno) +
                              "); polling in the port's current mode");
        }
        if (bus_.rts == config::Rts::None) return;
        // libmodbus ignores a failed RTS ioctl; ask the port first so a refusal is said once.
        int status = 0;
        if (::ioctl(fd_, TIOCMGET, &status) != 0) {
            if (!told_rts_) {
                told_rts_ = true;
                util::log_warning(where + "rts = " + rts_name(bus_.rts) + " refused by the port (" +
                                  std::strerror(errno) + "); RTS is not driven");
            }
            return;
        }
        modbus_rtu_set_rts(ctx_.get(), bus_.rts == config::Rts::Up ? MODBUS_RTU_RTS_UP : MODBUS_RTU_RTS_DOWN);
        if (bus_.rts_delay_us) modbus_rtu_set_rts_delay(ctx_.get(), static_cast<int>(*bus_.rts_delay_us));
    }

    /// Keeps frame_gap of silence after the last exchange. False when stopped.
    bool wait_frame_gap() {
        const std::int64_t until = last_activity_ms_ + bus_.frame_gap_ms;
        for (std::int64_t left = until - mono_now_ms(); left > 0; left = until - mono_now_ms()) {
            pollfd p{stop_.fd(), POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left)) > 0) return false;
        }
        return !stop_.raised();
    }

    /// 1 readable, 0 nothing within ms, -1 stopped, -2 the port hung up or failed.
    int wait_readable(std::int64_t ms) {
        pollfd fds[2] = {{fd_, POLLIN, 0}, {stop_.fd(), POLLIN, 0}};
        for (;;) {
            const int n = ::poll(fds, 2, static_cast<int>(std::max<std::int64_t>(ms, 0)));
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) return -2;
            if (n == 0) return 0;
            if (fds[1].revents != 0) return -1;
            if (fds[0].revents & POLLIN) return 1;
            return -2;  // POLLHUP/POLLERR without data: the adapter is gone
        }
    }

    Result receive(std::uint8_t unit, const ReadBlock& block, std::int64_t timeout_ms, BlockData& out) {
        std::uint8_t frame[MODBUS_RTU_MAX_ADU_LENGTH];
        std::size_t have = 0;
        Result r = receive_frame(timeout_ms, frame, have);
        if (!r.ok()) return r;
        return parse_rtu_reply(frame, have, unit, block, out);
    }

    /// Reads one reply frame into `frame` (MODBUS_RTU_MAX_ADU_LENGTH bytes): Ok with `have`
    /// bytes (possibly short: the parser says so), or Timeout, Stopped, Closed.
    Result receive_frame(std::int64_t timeout_ms, std::uint8_t* frame, std::size_t& have) {
        constexpr std::size_t kFrameBytes = MODBUS_RTU_MAX_ADU_LENGTH;
        have = 0;
        const std::int64_t deadline = mono_now_ms() + timeout_ms;
        for (;;) {
            const std::size_t expected = rtu_expected_length(frame, have);
            if (expected != 0 && have >= expected) break;
            if (have == kFrameBytes) break;
            const std::int64_t now = mono_now_ms();
            const std::int64_t wait = have == 0 ? deadline - now : byte_gap_ms_;
            const int ready = wait > 0 ? wait_readable(wait) : 0;
            if (ready == -1) return stopped();
            if (ready == -2) return line_lost("the port hung up");
            if (ready == 0) {
                last_activity_ms_ = mono_now_ms();
                if (have == 0) return Result{Outcome::Timeout, 0, "timeout"};
                break;  // the frame ended early: parse_rtu_reply says short
            }
            const auto n = ::read(fd_, frame + have, kFrameBytes - have);
            if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
            if (n < 0) return line_lost(std::string("read failed: ") + std::strerror(errno));
            if (n == 0) return line_lost("the port hung up");
            have += static_cast<std::size_t>(n);
        }
        last_activity_ms_ = mono_now_ms();
        return Result{};
    }

    Result line_lost(const std::string& why) {
        close();
        return Result{Outcome::Closed, 0, bus_.device + ": " + why};
    }

    config::Bus bus_;
    ModbusPtr ctx_;
    int fd_ = -1;
    StopSignal stop_;
    double char_us_ = 0;
    std::int64_t byte_gap_ms_ = 50;
    std::int64_t quiet_ms_ = 20;
    std::int64_t last_activity_ms_ = 0;
    bool told_rs485_ = false;
    bool told_rts_ = false;
};

}  // namespace

std::unique_ptr<ModbusTransport> make_rtu_transport(const config::Bus& bus) {
    return std::make_unique<RtuTransport>(bus);
}

}  // namespace detail

std::unique_ptr<ModbusTransport> make_transport(const config::Bus& bus) {
    return bus.type == config::BusType::Rtu ? detail::make_rtu_transport(bus) : detail::make_tcp_transport(bus);
}

}  // namespace fieldgate::modbus
