#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "fieldgate/config/config.hpp"
#include "fieldgate/modbus/decode.hpp"
#include "fieldgate/modbus/encode.hpp"
#include "fieldgate/modbus/planner.hpp"

namespace fieldgate::modbus {

/// How one transport call ended.
enum class Outcome {
    Ok,
    Exception,  ///< the device answered with a Modbus exception (code in Result::exception)
    Timeout,    ///< no reply within the time-out
    Garbled,    ///< a reply came but was unusable: CRC error, short frame, wrong unit or function
    Closed,     ///< the line or connection is gone (or could not be opened); it is closed now
    Stopped,    ///< interrupt() was called: the owner is shutting down
};

struct Result {
    Outcome outcome = Outcome::Ok;
    std::uint8_t exception = 0;  ///< the Modbus exception code, with Outcome::Exception
    std::string detail;          ///< what an operator needs in the log (no device name: the caller adds it)

    bool ok() const { return outcome == Outcome::Ok; }
};

/// Modbus exception codes by name (Modbus Application Protocol V1.1b3, 7).
constexpr std::uint8_t kIllegalFunction = 0x01;
constexpr std::uint8_t kIllegalDataAddress = 0x02;
constexpr std::uint8_t kIllegalDataValue = 0x03;
constexpr std::uint8_t kSlaveDeviceFailure = 0x04;
constexpr std::uint8_t kSlaveDeviceBusy = 0x06;
constexpr std::uint8_t kGatewayPathUnavailable = 0x0A;
constexpr std::uint8_t kGatewayTargetFailed = 0x0B;

/// "illegal data address (0x02)"; unknown codes as "exception 0x42".
std::string exception_name(std::uint8_t code);

/// One Modbus line as the bus thread sees it: a serial port (RTU) or a TCP connection. Each is
/// used by one thread only, except interrupt(). The seam under BusPoller: unit tests hand in a
/// scripted fake, production code a libmodbus-backed one (make_transport).
class ModbusTransport {
public:
    virtual ~ModbusTransport() = default;

    /// Opens the port or connects, if not open yet. Ok, Closed (detail says why) or Stopped.
    virtual Result open() = 0;
    virtual bool is_open() const = 0;
    /// Closes the line; the next open() opens it again.
    virtual void close() = 0;

    /// One read request (function 1/2/3/4 by the block's table) to `unit`, waiting at most
    /// `timeout_ms` for the reply. On Ok fills out.registers or out.bits (block.count entries).
    /// Must be open.
    virtual Result read(std::uint8_t unit, const ReadBlock& block, std::int64_t timeout_ms, BlockData& out) = 0;

    /// One write request to `unit` at `address` of `table`: `data.bits` to coils (FC5 for one,
    /// FC15 for more), `data.registers` to holding registers (FC6 for one, FC16 for more),
    /// waiting at most `timeout_ms` for the device's acknowledgement. Must be open. A transport
    /// that cannot write answers Closed with the reason.
    virtual Result write(std::uint8_t unit, config::Table table, std::uint16_t address, const EncodedWrite& data,
                         std::int64_t timeout_ms) {
        (void)unit, (void)table, (void)address, (void)data, (void)timeout_ms;
        return Result{Outcome::Closed, 0, "this line cannot write"};
    }

    /// Brings the line back in step after a garbled or late reply: whatever is still arriving is
    /// discarded, so the next request's reply is not read behind stray bytes.
    virtual void flush() = 0;

    /// Thread-safe. A call blocked in this transport returns Stopped at once, and so does every
    /// later call: the owner is shutting down and must not wait out a device time-out.
    virtual void interrupt() = 0;
};

/// The libmodbus-backed transport for a bus: RTU on its serial device (frame_gap, rs485, rts
/// settings applied) or TCP to host:port.
std::unique_ptr<ModbusTransport> make_transport(const config::Bus& bus);

}  // namespace fieldgate::modbus
