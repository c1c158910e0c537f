// Fuzz target: the reply frames a Modbus device sends, as both transports take them apart. The
// first bytes choose the request (table, start, count, unit, transaction); the rest is what came
// back: an RTU frame (CRC and all) and the same bytes as a Modbus TCP frame (MBAP header + ADU).
// Oracle: nothing is read beyond the bytes given (ASan), a reply that parses Ok has exactly the
// length its header or function says and fills exactly the count asked for.
#include <cstddef>
#include <cstdint>

#include "fieldgate/modbus/rtu_frame.hpp"
#include "fieldgate/modbus/tcp_frame.hpp"
#include "fuzz_support.hpp"

using namespace fieldgate;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::Bytes in(data, size);
    const config::Table tables[] = {config::Table::Coil, config::Table::Discrete, config::Table::Holding,
                                    config::Table::Input};
    const std::uint8_t how = in.u8();
    const modbus::ReadBlock block{tables[how % 4], in.u16(), static_cast<std::uint16_t>(1 + in.u8() % 125)};
    const std::uint8_t unit = in.u8();
    const std::uint16_t transaction = in.u16();
    const std::size_t used = size < 7 ? size : 7;
    const std::uint8_t* reply = data + used;
    const std::size_t length = size - used;
    const bool bits = block.table == config::Table::Coil || block.table == config::Table::Discrete;

    modbus::BlockData out;
    if (modbus::parse_rtu_reply(reply, length, unit, block, out).ok()) {
        fuzz::require(modbus::rtu_expected_length(reply, length) <= length, "an RTU reply is complete");
        fuzz::require((bits ? out.bits.size() : out.registers.size()) == block.count, "RTU fills the count");
    }
    modbus::BlockData tcp_out;
    if (modbus::check_tcp_frame(reply, length, transaction).ok()) {
        fuzz::require(modbus::tcp_expected_length(reply, length) == length, "a TCP frame has its own length");
        const modbus::Result r = modbus::parse_read_adu(reply + modbus::kMbapLength, length - modbus::kMbapLength, unit,
                                                        block, tcp_out, how & 0x80);
        if (r.ok())
            fuzz::require((bits ? tcp_out.bits.size() : tcp_out.registers.size()) == block.count,
                          "TCP fills the count");
    }
    // Writes: the echo of FC5/6/15/16 against one register or coil written.
    modbus::EncodedWrite w;
    if (bits)
        w.bits = {static_cast<std::uint8_t>(how & 1)};
    else
        w.registers = {block.start};
    (void)modbus::parse_rtu_write_reply(reply, length, unit, block.table, block.start, w);
    if (length >= modbus::kMbapLength)
        (void)modbus::parse_write_adu(reply + modbus::kMbapLength, length - modbus::kMbapLength, unit, block.table,
                                      block.start, w, false);
    return 0;
}
