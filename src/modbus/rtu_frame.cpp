#include "fieldgate/modbus/rtu_frame.hpp"

#include <cstdio>
#include <cstring>

namespace fieldgate::modbus {

std::string exception_name(std::uint8_t code) {
    const char* name = nullptr;
    switch (code) {
        case kIllegalFunction:
            name = "illegal function";
            break;
        case kIllegalDataAddress:
            name = "illegal data address";
            break;
        case kIllegalDataValue:
            name = "illegal data value";
            break;
        case kSlaveDeviceFailure:
            name = "slave device failure";
            break;
        case 0x05:
            name = "acknowledge";
            break;
        case kSlaveDeviceBusy:
            name = "slave device busy";
            break;
        case 0x08:
            name = "memory parity error";
            break;
        case kGatewayPathUnavailable:
            name = "gateway path unavailable";
            break;
        case kGatewayTargetFailed:
            name = "gateway target device failed to respond";
            break;
        default:
            break;
    }
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02X", static_cast<unsigned>(code));
    return name ? std::string(name) + " (" + hex + ")" : std::string("exception ") + hex;
}

std::uint16_t rtu_crc(const std::uint8_t* data, std::size_t length) {
    std::uint16_t crc = 0xFFFF;
    for (std::size_t i = 0; i < length; ++i) {
        crc = static_cast<std::uint16_t>(crc ^ data[i]);
        for (int bit = 0; bit < 8; ++bit)
            crc = (crc & 1U) ? static_cast<std::uint16_t>((crc >> 1) ^ 0xA001U) : static_cast<std::uint16_t>(crc >> 1);
    }
    return crc;
}

std::uint8_t read_function(config::Table table) {
    switch (table) {
        case config::Table::Coil:
            return 1;
        case config::Table::Discrete:
            return 2;
        case config::Table::Holding:
            return 3;
        case config::Table::Input:
            return 4;
    }
    return 3;
}

std::array<std::uint8_t, 6> rtu_read_request(std::uint8_t unit, const ReadBlock& block) {
    return {unit,
            read_function(block.table),
            static_cast<std::uint8_t>(block.start >> 8),
            static_cast<std::uint8_t>(block.start & 0xFF),
            static_cast<std::uint8_t>(block.count >> 8),
            static_cast<std::uint8_t>(block.count & 0xFF)};
}

std::size_t rtu_expected_length(const std::uint8_t* data, std::size_t length) {
    if (length < 2) return 0;
    if (data[1] & 0x80) return 5;  // unit, function|0x80, code, CRC
    const std::uint8_t f = data[1];
    if (f == 5 || f == 6 || f == 15 || f == 16) return 8;  // unit, function, address, value/count, CRC
    if (length < 3) return 0;
    return 5 + std::size_t{data[2]};  // unit, function, byte count, data, CRC
}

namespace {

// A 16-bit word as it lay in memory in network order, in host order.
std::uint16_t from_big_endian(std::uint16_t w) {
    const auto* b = reinterpret_cast<const std::uint8_t*>(&w);
    return static_cast<std::uint16_t>((unsigned{b[0]} << 8) | b[1]);
}

Result garbled(std::string why) {
    return Result{Outcome::Garbled, 0, std::move(why)};
}

}  // namespace

namespace {

// The CRC of an RTU frame `length` bytes long that rtu_expected_length finds complete; Ok or
// Garbled. `expected` is set to the frame's length (CRC included).
Result check_rtu_frame(const std::uint8_t* data, std::size_t length, std::size_t& expected) {
    expected = rtu_expected_length(data, length);
    if (expected == 0 || length < expected) return garbled("short frame (" + std::to_string(length) + " bytes)");
    const std::uint16_t crc = rtu_crc(data, expected - 2);
    if (data[expected - 2] != (crc & 0xFF) || data[expected - 1] != (crc >> 8)) return garbled("CRC error");
    return Result{};
}

// The ADU (unit + PDU) is as long as its function says: rtu_expected_length counts the CRC too.
bool adu_length_fits(const std::uint8_t* adu, std::size_t length) {
    const std::size_t expected = rtu_expected_length(adu, length);
    return expected != 0 && expected - 2 == length;
}

}  // namespace

Result parse_read_adu(const std::uint8_t* adu, std::size_t length, std::uint8_t unit, const ReadBlock& block,
                      BlockData& out, bool check_unit) {
    if (!adu_length_fits(adu, length)) return garbled("malformed reply (" + std::to_string(length) + " bytes)");
    if (check_unit && adu[0] != unit) return garbled("reply from unit " + std::to_string(adu[0]));
    const std::uint8_t function = read_function(block.table);
    if ((adu[1] & 0x7F) != function) return garbled("reply to function " + std::to_string(adu[1] & 0x7F));
    if (adu[1] & 0x80) return Result{Outcome::Exception, adu[2], exception_name(adu[2])};

    const bool bits = block.table == config::Table::Coil || block.table == config::Table::Discrete;
    const std::size_t want = bits ? (std::size_t{block.count} + 7) / 8 : std::size_t{block.count} * 2;
    if (adu[2] != want) return garbled("byte count " + std::to_string(adu[2]) + ", expected " + std::to_string(want));
    const std::uint8_t* p = adu + 3;
    if (bits) {
        out.bits.resize(block.count);
        for (std::size_t i = 0; i < block.count; ++i)
            out.bits[i] = static_cast<std::uint8_t>((unsigned{p[i / 8]} >> (i % 8)) & 1U);
    } else {
        // Copied whole, then turned from big-endian in place: a loop over 16-bit words alone, which
        // the compiler vectorizes (reading the bytes pair by pair, it cannot rule out aliasing).
        out.registers.resize(block.count);
        std::uint16_t* words = out.registers.data();
        std::memcpy(words, p, std::size_t{block.count} * 2);
        for (std::size_t i = 0; i < block.count; ++i)
            words[i] = from_big_endian(words[i]);
    }
    return Result{};
}

Result parse_rtu_reply(const std::uint8_t* data, std::size_t length, std::uint8_t unit, const ReadBlock& block,
                       BlockData& out) {
    std::size_t expected = 0;
    Result r = check_rtu_frame(data, length, expected);
    if (!r.ok()) return r;
    return parse_read_adu(data, expected - 2, unit, block, out, true);
}

namespace {

std::uint8_t write_function(config::Table table, const EncodedWrite& data) {
    if (table == config::Table::Coil) return data.bits.size() == 1 ? 5 : 15;
    return data.registers.size() == 1 ? 6 : 16;
}

void put16(std::vector<std::uint8_t>& out, unsigned v) {
    out.push_back(static_cast<std::uint8_t>((v >> 8) & 0xFF));
    out.push_back(static_cast<std::uint8_t>(v & 0xFF));
}

// The 16-bit field after the address that the device echoes: the value (FC5/FC6) or the count.
unsigned echoed_field(std::uint8_t function, const EncodedWrite& data) {
    switch (function) {
        case 5:
            return data.bits.at(0) ? 0xFF00U : 0x0000U;
        case 6:
            return data.registers.at(0);
        case 15:
            return static_cast<unsigned>(data.bits.size());
        default:
            return static_cast<unsigned>(data.registers.size());
    }
}

}  // namespace

std::vector<std::uint8_t> rtu_write_request(std::uint8_t unit, config::Table table, std::uint16_t address,
                                            const EncodedWrite& data) {
    const std::uint8_t f = write_function(table, data);
    std::vector<std::uint8_t> out{unit, f};
    put16(out, address);
    if (f == 5 || f == 6) {
        put16(out, echoed_field(f, data));
        return out;
    }
    if (f == 15) {
        put16(out, static_cast<unsigned>(data.bits.size()));
        const std::size_t bytes = (data.bits.size() + 7) / 8;
        out.push_back(static_cast<std::uint8_t>(bytes));
        std::vector<std::uint8_t> packed(bytes, 0);
        for (std::size_t i = 0; i < data.bits.size(); ++i)
            if (data.bits[i]) packed[i / 8] = static_cast<std::uint8_t>(packed[i / 8] | (1U << (i % 8)));
        out.insert(out.end(), packed.begin(), packed.end());
        return out;
    }
    put16(out, static_cast<unsigned>(data.registers.size()));
    out.push_back(static_cast<std::uint8_t>(data.registers.size() * 2));
    for (auto w : data.registers)
        put16(out, w);
    return out;
}

Result parse_write_adu(const std::uint8_t* adu, std::size_t length, std::uint8_t unit, config::Table table,
                       std::uint16_t address, const EncodedWrite& written, bool check_unit) {
    if (!adu_length_fits(adu, length)) return garbled("malformed reply (" + std::to_string(length) + " bytes)");
    if (check_unit && adu[0] != unit) return garbled("reply from unit " + std::to_string(adu[0]));
    const std::uint8_t f = write_function(table, written);
    if ((adu[1] & 0x7F) != f) return garbled("reply to function " + std::to_string(adu[1] & 0x7F));
    if (adu[1] & 0x80) return Result{Outcome::Exception, adu[2], exception_name(adu[2])};
    const unsigned echoed_address = (unsigned{adu[2]} << 8) | adu[3];
    const unsigned echoed = (unsigned{adu[4]} << 8) | adu[5];
    if (echoed_address != address || echoed != echoed_field(f, written))
        return garbled("the device echoed another address or value");
    return Result{};
}

Result parse_rtu_write_reply(const std::uint8_t* data, std::size_t length, std::uint8_t unit, config::Table table,
                             std::uint16_t address, const EncodedWrite& written) {
    std::size_t expected = 0;
    Result r = check_rtu_frame(data, length, expected);
    if (!r.ok()) return r;
    return parse_write_adu(data, expected - 2, unit, table, address, written, true);
}

}  // namespace fieldgate::modbus
