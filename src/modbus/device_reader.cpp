#include "fieldgate/modbus/device_reader.hpp"

#include <utility>

namespace fieldgate::modbus {

DeviceReader::DeviceReader(const config::Model& model, std::uint8_t unit, std::int64_t timeout_ms, std::string where)
    : model_(model), unit_(unit), timeout_ms_(timeout_ms), where_(std::move(where)), plan_(plan_reads(model.points)) {}

std::size_t DeviceReader::points_in_block(std::size_t block) const {
    std::size_t n = 0;
    for (const auto b : plan_.block_of_point)
        n += b == block ? 1 : 0;
    return n;
}

DeviceRead DeviceReader::read(ModbusTransport& transport, const util::Clock& clock) {
    DeviceRead out;
    // At most two passes: the merged plan, then (after an illegal address) point by point.
    while (read_blocks(transport, clock, out) == Pass::Again) {
        out = DeviceRead{};
        out.exceptions.push_back(kIllegalDataAddress);  // the merged read the fall-back replaced
    }
    if (out.time_ms == 0) out.time_ms = clock.wall_ms();
    const bool line_ok = out.last == Outcome::Ok || out.last == Outcome::Exception;
    if (line_ok) {
        out.points = encode_measurepoints(model_.points, plan_, data_, json_scratch_);
        out.ok = out.points.written > 0;
    }
    if (!out.ok && out.error.empty()) out.error = "no point could be read";
    return out;
}

DeviceReader::Pass DeviceReader::read_blocks(ModbusTransport& transport, const util::Clock& clock, DeviceRead& out) {
    // Emptied, not replaced: the buffers keep their size from poll to poll.
    data_.resize(plan_.blocks.size());
    for (auto& d : data_) {
        d.ok = false;
        d.registers.clear();
        d.bits.clear();
    }
    for (std::size_t b = 0; b < plan_.blocks.size(); ++b) {
        const ReadBlock& block = plan_.blocks[b];
        const Result r = transport.read(unit_, block, timeout_ms_, data_[b]);
        if (out.time_ms == 0 && (r.outcome == Outcome::Ok || r.outcome == Outcome::Exception))
            out.time_ms = clock.wall_ms();
        out.last = r.outcome;
        out.answered = r.outcome == Outcome::Ok || r.outcome == Outcome::Exception || r.outcome == Outcome::Garbled;
        if (r.ok()) {
            data_[b].ok = true;
            continue;
        }
        if (r.outcome == Outcome::Exception && r.exception == kIllegalDataAddress && !single_reads_ &&
            points_in_block(b) > 1) {
            ++exceptions_[r.exception];
            // A merged block crossed a hole in the device's map: read point by point from now on
            // (Telegraf's planner lacks this fall-back).
            util::log_notice(where_ + " addr=" + std::to_string(block.start) +
                             ": illegal data address in a merged read; reading points one by one");
            plan_ = plan_single_reads(model_.points);
            single_reads_ = true;
            return Pass::Again;
        }
        if (!on_block_failure(transport, block, r, out, clock.mono_ms())) return Pass::Done;
    }
    return Pass::Done;
}

bool DeviceReader::on_block_failure(ModbusTransport& transport, const ReadBlock& block, const Result& r,
                                    DeviceRead& out, std::int64_t now_mono) {
    const std::string at = "addr=" + std::to_string(block.start) + ": ";
    switch (r.outcome) {
        case Outcome::Exception: {
            const std::uint64_t n = ++exceptions_[r.exception];
            out.exceptions.push_back(r.exception);
            out.error = at + "Modbus exception " + r.detail;
            if (exception_log_.allow(now_mono)) {
                const auto held = exception_log_.suppressed();
                util::log_warning(where_ + " " + out.error + " (" + std::to_string(n) + " so far" +
                                  (held ? ", " + std::to_string(held) + " similar messages suppressed" : "") + ")");
            }
            // The gateway in front of the slave says it is not there: the device did not answer.
            if (r.exception == kGatewayPathUnavailable || r.exception == kGatewayTargetFailed) {
                out.last = Outcome::Timeout;
                return false;
            }
            return true;
        }
        case Outcome::Timeout:
            out.error = at + "no reply: timed out after " + std::to_string(timeout_ms_) + " ms";
            transport.flush();  // a late reply must not be taken for the next request's
            return false;
        case Outcome::Garbled:
            out.error = at + "garbled reply: " + r.detail;
            transport.flush();
            return false;
        case Outcome::Closed:
        case Outcome::Stopped:
        case Outcome::Ok:
            out.error = at + r.detail;
            return false;
    }
    return false;
}

}  // namespace fieldgate::modbus
