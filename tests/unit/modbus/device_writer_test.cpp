#include "fieldgate/modbus/device_writer.hpp"

#include <string>
#include <vector>

#include "fake_transport.hpp"
#include "fieldgate/modbus/rtu_frame.hpp"
#include "fieldgate/util/json_reader.hpp"

#include <CppUTest/TestHarness.h>

using namespace fieldgate::modbus;
using fieldgate::config::Model;
using fieldgate::config::Point;
using fieldgate::config::Table;
using fieldgate::config::ValueType;
using fieldgate::modbus::test::fails;
using fieldgate::modbus::test::FakeTransport;
using fieldgate::modbus::test::joined;
using fieldgate::modbus::test::Step;

namespace {

Point point(const char* id, Table table, std::uint16_t address, ValueType type) {
    Point p;
    p.id = id;
    p.table = table;
    p.address = address;
    p.type = type;
    p.writable = true;
    return p;
}

Model model() {
    Model m;
    m.name = "m";
    m.points = {point("setpoint", Table::Holding, 10, ValueType::Float32),
                point("mode", Table::Holding, 20, ValueType::Uint16), point("run", Table::Coil, 3, ValueType::Bool)};
    return m;
}

WriteJob job(const Model& m, const char* params) {
    fieldgate::util::JsonValue v;
    std::string error;
    CHECK_TRUE(fieldgate::util::parse_json(params, v, error));
    const WritePlan plan = check_set_request(m.points, v);
    CHECK_TRUE_TEXT(plan.ok, plan.error.c_str());
    WriteJob j;
    j.token = 7;
    j.device = 2;
    j.writes = plan.writes;
    return j;
}

}  // namespace

TEST_GROUP(DeviceWriter) {
    Model m = model();
    FakeTransport t;
    void setup() override {
        t.open_ = true;
    }
};

TEST(DeviceWriter, each_point_is_written_in_order_and_read_back) {
    const WriteOutcome o = perform_writes(t, m, 4, 500, job(m, R"({"run":true,"setpoint":1.5,"mode":3})"));
    LONGS_EQUAL(200, o.code);
    LONGS_EQUAL(7, o.token);
    LONGS_EQUAL(2, o.device);
    STRCMP_EQUAL("write u4 c3+1, read u4 c3+1, write u4 h10+2, read u4 h10+2, write u4 h20+1, read u4 h20+1",
                 joined(t.log).c_str());
    LONGS_EQUAL(3, o.written.size());
    LONGS_EQUAL(0x3FC0, (t.memory[{Table::Holding, 10}]));
}

TEST(DeviceWriter, an_exception_stops_the_rest_and_names_the_refusal) {
    t.script = {Step{}, Step{}, fails(Outcome::Exception, kIllegalDataValue, "illegal data value (0x03)")};
    const WriteOutcome o = perform_writes(t, m, 1, 500, job(m, R"({"mode":3,"setpoint":1.5,"run":true})"));
    LONGS_EQUAL(500, o.code);
    STRCMP_EQUAL("point setpoint: the device refused: illegal data value (0x03)", o.message.c_str());
    LONGS_EQUAL(1, o.written.size());
    LONGS_EQUAL(1, o.written[0]);  // mode
    STRCMP_EQUAL("write u1 h20+1, read u1 h20+1, write u1 h10+2", joined(t.log).c_str());
}

TEST(DeviceWriter, a_silent_device_is_504_and_the_line_is_flushed) {
    t.script = {fails(Outcome::Timeout, 0, "timeout")};
    const WriteOutcome o = perform_writes(t, m, 1, 500, job(m, R"({"mode":3})"));
    LONGS_EQUAL(504, o.code);
    CHECK_TRUE(o.written.empty());
    STRCMP_EQUAL("write u1 h20+1, flush", joined(t.log).c_str());
}

TEST(DeviceWriter, a_value_that_does_not_stick_is_500) {
    t.ignore_writes = true;
    const WriteOutcome o = perform_writes(t, m, 1, 500, job(m, R"({"mode":3})"));
    LONGS_EQUAL(500, o.code);
    STRCMP_EQUAL("point mode: written, but the device reads back another value", o.message.c_str());
    LONGS_EQUAL(1, o.written.size());
}

TEST(DeviceWriter, a_closed_line_writes_nothing_and_is_503) {
    t.open_ = false;
    const WriteOutcome o = perform_writes(t, m, 1, 500, job(m, R"({"mode":3})"));
    LONGS_EQUAL(503, o.code);
    CHECK_TRUE(t.log.empty());
}

TEST_GROUP(RtuWriteFrame){};

TEST(RtuWriteFrame, requests_use_fc5_fc6_fc15_fc16_by_table_and_size) {
    EncodedWrite one_reg;
    one_reg.registers = {0x1234};
    CHECK((std::vector<std::uint8_t>{1, 6, 0, 20, 0x12, 0x34}) == rtu_write_request(1, Table::Holding, 20, one_reg));
    EncodedWrite two_regs;
    two_regs.registers = {0x3FC0, 0x0000};
    CHECK((std::vector<std::uint8_t>{1, 16, 0, 10, 0, 2, 4, 0x3F, 0xC0, 0, 0}) ==
          rtu_write_request(1, Table::Holding, 10, two_regs));
    EncodedWrite coil;
    coil.bits = {1};
    CHECK((std::vector<std::uint8_t>{9, 5, 0, 3, 0xFF, 0x00}) == rtu_write_request(9, Table::Coil, 3, coil));
    EncodedWrite coils;
    coils.bits = {1, 0, 1, 1, 0, 0, 0, 0, 1};
    CHECK((std::vector<std::uint8_t>{9, 15, 0, 3, 0, 9, 2, 0x0D, 0x01}) == rtu_write_request(9, Table::Coil, 3, coils));
}

TEST(RtuWriteFrame, the_reply_must_echo_address_and_value) {
    EncodedWrite w;
    w.registers = {0x1234};
    std::vector<std::uint8_t> reply{1, 6, 0, 20, 0x12, 0x34};
    const auto crc = rtu_crc(reply.data(), reply.size());
    reply.push_back(static_cast<std::uint8_t>(crc & 0xFF));
    reply.push_back(static_cast<std::uint8_t>(crc >> 8));
    LONGS_EQUAL(8, rtu_expected_length(reply.data(), 2));
    CHECK_TRUE(parse_rtu_write_reply(reply.data(), reply.size(), 1, Table::Holding, 20, w).ok());
    CHECK(Outcome::Garbled == parse_rtu_write_reply(reply.data(), reply.size(), 2, Table::Holding, 20, w).outcome);
    CHECK(Outcome::Garbled == parse_rtu_write_reply(reply.data(), reply.size(), 1, Table::Holding, 21, w).outcome);
    reply[5] ^= 1;
    CHECK(Outcome::Garbled == parse_rtu_write_reply(reply.data(), reply.size(), 1, Table::Holding, 20, w).outcome);

    std::vector<std::uint8_t> refused{1, 0x86, 2};
    const auto c2 = rtu_crc(refused.data(), refused.size());
    refused.push_back(static_cast<std::uint8_t>(c2 & 0xFF));
    refused.push_back(static_cast<std::uint8_t>(c2 >> 8));
    const Result r = parse_rtu_write_reply(refused.data(), refused.size(), 1, Table::Holding, 20, w);
    CHECK(Outcome::Exception == r.outcome);
    LONGS_EQUAL(2, r.exception);
}
