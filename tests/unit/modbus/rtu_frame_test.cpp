#include "fieldgate/modbus/rtu_frame.hpp"

#include <vector>

#include <CppUTest/TestHarness.h>

using namespace fieldgate::modbus;
using fieldgate::config::Table;

namespace {

std::vector<std::uint8_t> with_crc(std::vector<std::uint8_t> frame) {
    const std::uint16_t crc = rtu_crc(frame.data(), frame.size());
    frame.push_back(static_cast<std::uint8_t>(crc & 0xFF));
    frame.push_back(static_cast<std::uint8_t>(crc >> 8));
    return frame;
}

Result parse(const std::vector<std::uint8_t>& f, BlockData& out, std::uint8_t unit = 1,
             ReadBlock block = ReadBlock{Table::Holding, 0, 2}) {
    return parse_rtu_reply(f.data(), f.size(), unit, block, out);
}

}  // namespace

TEST_GROUP(RtuFrame){};

TEST(RtuFrame, crc_matches_the_specifications_example) {
    // Modbus over serial line V1.02, 6.2.2: 01 03 00 00 00 01 -> CRC 84 0A (low byte first).
    const std::uint8_t req[] = {0x01, 0x03, 0x00, 0x00, 0x00, 0x01};
    LONGS_EQUAL(0x0A84, rtu_crc(req, sizeof req));
}

TEST(RtuFrame, a_good_register_reply_decodes) {
    BlockData out;
    const auto f = with_crc({0x01, 0x03, 0x04, 0x12, 0x34, 0xAB, 0xCD});
    LONGS_EQUAL(f.size(), rtu_expected_length(f.data(), 3));
    CHECK(parse(f, out).ok());
    LONGS_EQUAL(0x1234, out.registers[0]);
    LONGS_EQUAL(0xABCD, out.registers[1]);
}

TEST(RtuFrame, a_good_bit_reply_decodes_lsb_first) {
    BlockData out;
    const auto f = with_crc({0x02, 0x01, 0x02, 0x05, 0x01});
    CHECK(parse(f, out, 2, ReadBlock{Table::Coil, 0, 9}).ok());
    LONGS_EQUAL(9, out.bits.size());
    LONGS_EQUAL(1, out.bits[0]);
    LONGS_EQUAL(0, out.bits[1]);
    LONGS_EQUAL(1, out.bits[2]);
    LONGS_EQUAL(1, out.bits[8]);
}

TEST(RtuFrame, an_exception_reply_gives_its_code) {
    BlockData out;
    const auto f = with_crc({0x01, 0x83, 0x02});
    LONGS_EQUAL(5, rtu_expected_length(f.data(), 2));
    const Result r = parse(f, out);
    CHECK(r.outcome == Outcome::Exception);
    LONGS_EQUAL(2, r.exception);
    STRCMP_EQUAL("illegal data address (0x02)", r.detail.c_str());
}

TEST(RtuFrame, bad_frames_are_garbled_with_the_reason) {
    BlockData out;
    auto f = with_crc({0x01, 0x03, 0x04, 0x12, 0x34, 0xAB, 0xCD});
    f[3] ^= 0x01;
    STRCMP_EQUAL("CRC error", parse(f, out).detail.c_str());
    CHECK(parse(f, out).outcome == Outcome::Garbled);
    STRCMP_EQUAL("reply from unit 3", parse(with_crc({0x03, 0x03, 0x04, 1, 2, 3, 4}), out).detail.c_str());
    STRCMP_EQUAL("reply to function 4", parse(with_crc({0x01, 0x04, 0x04, 1, 2, 3, 4}), out).detail.c_str());
    STRCMP_EQUAL("byte count 2, expected 4", parse(with_crc({0x01, 0x03, 0x02, 1, 2}), out).detail.c_str());
    const std::vector<std::uint8_t> cut = {0x01, 0x03, 0x04, 0x12};
    STRCMP_EQUAL("short frame (4 bytes)", parse(cut, out).detail.c_str());
}

TEST(RtuFrame, exception_names_cover_the_gateway_codes) {
    STRCMP_EQUAL("gateway path unavailable (0x0A)", exception_name(0x0A).c_str());
    STRCMP_EQUAL("gateway target device failed to respond (0x0B)", exception_name(0x0B).c_str());
    STRCMP_EQUAL("slave device busy (0x06)", exception_name(0x06).c_str());
    STRCMP_EQUAL("exception 0x42", exception_name(0x42).c_str());
}
