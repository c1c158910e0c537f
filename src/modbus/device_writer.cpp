#include "fieldgate/modbus/device_writer.hpp"

namespace fieldgate::modbus {

namespace {

// The code and words of a failed step, per DESIGN.md's reply codes.
void fail(WriteOutcome& out, ModbusTransport& transport, const Result& r, const std::string& what) {
    switch (r.outcome) {
        case Outcome::Exception:
            out.code = 500;
            out.message = what + ": the device refused: " + r.detail;
            return;
        case Outcome::Timeout:
        case Outcome::Garbled:
            transport.flush();
            out.code = 504;
            out.message = what + ": the device did not answer (" + r.detail + ")";
            return;
        case Outcome::Closed:
            out.code = 503;
            out.message = what + ": " + r.detail;
            return;
        case Outcome::Stopped:
            out.code = 503;
            out.message = what + ": the gateway is stopping";
            return;
        case Outcome::Ok:
            return;
    }
}

}  // namespace

WriteOutcome perform_writes(ModbusTransport& transport, const config::Model& model, std::uint8_t unit,
                            std::int64_t timeout_ms, const WriteJob& job) {
    WriteOutcome out;
    out.token = job.token;
    out.device = job.device;
    for (const auto& w : job.writes) {
        const config::Point& p = model.points.at(w.point);
        const bool bits = p.table == config::Table::Coil;
        const std::size_t count = bits ? w.data.bits.size() : w.data.registers.size();
        if (!transport.is_open()) {
            fail(out, transport, Result{Outcome::Closed, 0, "the line is closed"}, "point " + p.id);
            return out;
        }
        Result r = transport.write(unit, p.table, p.address, w.data, timeout_ms);
        if (!r.ok()) {
            fail(out, transport, r, "point " + p.id);
            return out;
        }
        out.written.push_back(w.point);
        ReadBlock block;
        block.table = p.table;
        block.start = p.address;
        block.count = static_cast<std::uint16_t>(count);
        BlockData back;
        r = transport.read(unit, block, timeout_ms, back);
        if (!r.ok()) {
            fail(out, transport, r, "point " + p.id + " written, read back");
            return out;
        }
        const bool equal = bits ? back.bits == w.data.bits : back.registers == w.data.registers;
        if (!equal) {
            out.code = 500;
            out.message = "point " + p.id + ": written, but the device reads back another value";
            return out;
        }
    }
    return out;
}

}  // namespace fieldgate::modbus
