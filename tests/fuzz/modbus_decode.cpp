// Fuzz target: the Modbus response decoder. The bytes choose a model (points written in the
// grammar, so only points the configuration would accept: every type, order, bit, scale,
// quality, as=string, string[N], arrays), the read plan is made as the daemon makes it, and the
// rest of the bytes are what the device answered: register words and bits, failed or short
// blocks. Oracle: the measurepoints are one valid JSON object and every point is accounted for.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fieldgate/config/point_grammar.hpp"
#include "fieldgate/modbus/decode.hpp"
#include "fieldgate/modbus/planner.hpp"
#include "fuzz_support.hpp"

using namespace fieldgate;

namespace {
const char* const kTables[] = {"holding", "input", "coil", "discrete"};
const char* const kTypes[] = {"bool",   "int16",   "uint16",  "int32",     "uint32",   "int64",
                              "uint64", "float32", "float64", "string[3]", "string[1]"};
const char* const kOrders[] = {"", " ABCD", " CDAB", " BADC", " DCBA"};

std::string spec_from(fuzz::Bytes& in) {
    const std::uint8_t a = in.u8(), b = in.u8(), c = in.u8();
    std::string s = std::string(kTables[a % 4]) + ":" + std::to_string(in.u8() % 24) + " " + kTypes[b % 11];
    if (c & 0x01) s += "[" + std::to_string(1 + in.u8() % 4) + "]";
    s += kOrders[(c >> 1) % 5];
    if (c & 0x10)
        s += " scale=" + std::to_string(static_cast<int>(in.u8()) - 128) + "e" +
             std::to_string(static_cast<int>(in.u8() % 80) - 40);
    if (c & 0x20) s += " offset=-1.5";
    if (c & 0x40) s += " bit=" + std::to_string(in.u8() % 16);
    if (c & 0x80) s += " quality";
    if (a & 0x80) s += " as=string";
    return s;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::Bytes in(data, size);
    std::vector<config::Point> points;
    const unsigned n = 1 + in.u8() % 6;
    for (unsigned i = 0; i < n; ++i) {
        auto r = config::parse_point("p" + std::to_string(i), spec_from(in));
        if (r.point) points.push_back(*r.point);
    }
    if (points.empty()) return 0;
    const modbus::Plan plan = (in.u8() & 1) ? modbus::plan_single_reads(points) : modbus::plan_reads(points);
    fuzz::require(plan.block_of_point.size() == points.size(), "every point has a block");
    std::vector<modbus::BlockData> blocks;
    for (const auto& blk : plan.blocks) {
        modbus::BlockData d;
        const std::uint8_t how = in.u8();
        d.ok = (how & 0x07) != 0;  // now and then a failed read
        std::size_t count = blk.count;
        if ((how & 0x38) == 0 && count > 0) count -= 1 + (how >> 6) % count;  // a short answer
        const bool bits = blk.table == config::Table::Coil || blk.table == config::Table::Discrete;
        for (std::size_t k = 0; k < count; ++k) {
            if (bits)
                d.bits.push_back(static_cast<std::uint8_t>(in.u8() & 1));
            else
                d.registers.push_back(in.u16());
        }
        blocks.push_back(std::move(d));
    }
    if (in.u8() == 0xA5 && !blocks.empty()) blocks.pop_back();  // fewer answers than blocks
    const modbus::Measurepoints m = modbus::encode_measurepoints(points, plan, blocks);
    const Json::Value v = fuzz::must_parse(m.json, "measurepoints");
    fuzz::require(v.isObject(), "measurepoints is an object");
    fuzz::require(v.size() == m.written, "written counts the keys");
    fuzz::require(m.written + m.non_finite + m.unreadable == points.size(), "every point accounted for");
    return 0;
}
