#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "fieldgate/config/config.hpp"
#include "fieldgate/modbus/decode.hpp"
#include "fieldgate/modbus/planner.hpp"
#include "fieldgate/modbus/transport.hpp"
#include "fieldgate/util/clock.hpp"
#include "fieldgate/util/log.hpp"

namespace fieldgate::modbus {

/// What one poll of a device got.
struct DeviceRead {
    bool ok = false;                       ///< the device answered and at least one point was decoded
    Outcome last = Outcome::Ok;            ///< how the poll's last request ended (Closed: the line is gone)
    bool answered = false;                 ///< a reply came to the last request: data, an exception (0x0A/0x0B
                                           ///< too, though they fail the poll) or a garbled frame; not a
                                           ///< time-out nor a lost line
    Measurepoints points;                  ///< valid when ok
    std::string error;                     ///< why a block or the poll failed (empty when every block was read)
    std::vector<std::uint8_t> exceptions;  ///< exception codes received, one per refused request
    std::int64_t time_ms = 0;              ///< wall time of the first reply (acquisition time), else of the end
};

/// Reads one device's plan over a transport, with the recovery a real bus needs and no thread
/// or socket of its own (unit-tested with a fake transport):
/// - a merged block refused with "illegal data address" (it crosses a hole in the device's map)
///   switches the device to one request per point, and the poll is done again that way;
/// - after a garbled reply (CRC error, short frame, wrong unit) or a time-out the line is flushed
///   before anything else is sent, so stray bytes cannot put the next replies out of step;
/// - Modbus exceptions are counted per code and named in the log (rate-limited). A block refused
///   with an exception is left out and the others are still read, except for the gateway codes
///   0x0A/0x0B (the slave behind a gateway is not there): those fail the poll like a time-out.
class DeviceReader {
public:
    /// `where` prefixes log lines: "device=meter-07 bus=rs485-1 unit=7".
    DeviceReader(const config::Model& model, std::uint8_t unit, std::int64_t timeout_ms, std::string where);

    /// One poll. The transport must be open.
    DeviceRead read(ModbusTransport& transport, const util::Clock& clock);

    /// Exceptions received so far, by code.
    const std::map<std::uint8_t, std::uint64_t>& exceptions() const { return exceptions_; }
    bool single_reads() const { return single_reads_; }
    const Plan& plan() const { return plan_; }

private:
    enum class Pass { Done, Again };
    std::size_t points_in_block(std::size_t block) const;
    Pass read_blocks(ModbusTransport& transport, const util::Clock& clock, DeviceRead& out);
    /// Handles a block's failure; false when the poll cannot go on.
    bool on_block_failure(ModbusTransport& transport, const ReadBlock& block, const Result& r, DeviceRead& out,
                          std::int64_t now_mono);

    const config::Model& model_;
    std::uint8_t unit_;
    std::int64_t timeout_ms_;
    std::string where_;
    Plan plan_;
    bool single_reads_ = false;
    std::vector<BlockData> data_;  ///< reused from poll to poll, as is:
    std::string json_scratch_;     ///< where the measurepoints are written before their hand-over
    std::map<std::uint8_t, std::uint64_t> exceptions_;
    util::RateLimit exception_log_{60'000};
};

}  // namespace fieldgate::modbus
