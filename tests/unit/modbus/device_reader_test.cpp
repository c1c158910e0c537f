#include "fieldgate/modbus/device_reader.hpp"

#include <string>
#include <vector>

#include "fake_transport.hpp"
#include "fieldgate/util/clock.hpp"

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
    return p;
}

// Two holding points merged into one block 0+3 (a gap of one word), and one input register.
Model model() {
    Model m;
    m.name = "m";
    m.points = {point("a", Table::Holding, 0, ValueType::Uint16), point("b", Table::Holding, 2, ValueType::Uint16),
                point("t", Table::Input, 5, ValueType::Uint16)};
    return m;
}

}  // namespace

TEST_GROUP(DeviceReader) {
    Model m = model();
    fieldgate::util::FakeClock clock;
    FakeTransport t;
};

TEST(DeviceReader, reads_every_block_and_encodes_the_points) {
    DeviceReader r(m, 7, 500, "device=d");
    const DeviceRead got = r.read(t, clock);
    CHECK(got.ok);
    STRCMP_EQUAL("{\"a\":0,\"b\":2,\"t\":5}", got.points.json.c_str());
    STRCMP_EQUAL("read u7 h0+3, read u7 i5+1", joined(t.log).c_str());
    CHECK(got.error.empty());
}

TEST(DeviceReader, illegal_address_in_a_merged_block_falls_back_to_one_request_per_point) {
    DeviceReader r(m, 1, 500, "device=d");
    t.script.push_back(fails(Outcome::Exception, kIllegalDataAddress, "illegal data address (0x02)"));
    const DeviceRead got = r.read(t, clock);
    CHECK(got.ok);
    STRCMP_EQUAL("{\"a\":0,\"b\":2,\"t\":5}", got.points.json.c_str());
    STRCMP_EQUAL("read u1 h0+3, read u1 h0+1, read u1 h2+1, read u1 i5+1", joined(t.log).c_str());
    CHECK(r.single_reads());
    LONGS_EQUAL(1, r.exceptions().at(kIllegalDataAddress));
    // The next poll goes point by point from the start.
    t.log.clear();
    CHECK(r.read(t, clock).ok);
    STRCMP_EQUAL("read u1 h0+1, read u1 h2+1, read u1 i5+1", joined(t.log).c_str());
}

TEST(DeviceReader, an_illegal_address_on_a_single_point_leaves_that_point_out) {
    DeviceReader r(m, 1, 500, "device=d");
    t.script.push_back(fails(Outcome::Exception, kIllegalDataAddress, "illegal data address (0x02)"));
    t.script.push_back(Step{});                                                                         // h0+1
    t.script.push_back(fails(Outcome::Exception, kIllegalDataAddress, "illegal data address (0x02)"));  // h2+1
    const DeviceRead got = r.read(t, clock);
    CHECK(got.ok);
    STRCMP_EQUAL("{\"a\":0,\"t\":5}", got.points.json.c_str());
    STRCMP_CONTAINS("addr=2: Modbus exception illegal data address (0x02)", got.error.c_str());
    LONGS_EQUAL(2, r.exceptions().at(kIllegalDataAddress));
}

TEST(DeviceReader, a_garbled_reply_flushes_the_line_before_the_next_request) {
    DeviceReader r(m, 1, 500, "device=d");
    t.script.push_back(fails(Outcome::Garbled, 0, "CRC error"));
    const DeviceRead bad = r.read(t, clock);
    CHECK_FALSE(bad.ok);
    STRCMP_CONTAINS("garbled reply: CRC error", bad.error.c_str());
    STRCMP_EQUAL("read u1 h0+3, flush", joined(t.log).c_str());
    t.log.clear();
    CHECK(r.read(t, clock).ok);  // the next poll succeeds
}

TEST(DeviceReader, a_reply_from_the_wrong_unit_is_garbled_and_flushed) {
    DeviceReader r(m, 1, 500, "device=d");
    t.script.push_back(Step{});
    t.script.push_back(fails(Outcome::Garbled, 0, "reply from unit 3"));
    CHECK_FALSE(r.read(t, clock).ok);
    STRCMP_EQUAL("read u1 h0+3, read u1 i5+1, flush", joined(t.log).c_str());
}

TEST(DeviceReader, a_timeout_flushes_and_fails_the_poll_without_trying_more_blocks) {
    DeviceReader r(m, 1, 500, "device=d");
    t.script.push_back(fails(Outcome::Timeout, 0, "timeout"));
    const DeviceRead got = r.read(t, clock);
    CHECK_FALSE(got.ok);
    CHECK(got.last == Outcome::Timeout);
    CHECK_FALSE(got.answered);  // the poll waited out a time-out
    STRCMP_CONTAINS("timed out after 500 ms", got.error.c_str());
    STRCMP_EQUAL("read u1 h0+3, flush", joined(t.log).c_str());
}

TEST(DeviceReader, exceptions_are_counted_per_code_and_other_blocks_still_read) {
    DeviceReader r(m, 1, 500, "device=d");
    t.script.push_back(fails(Outcome::Exception, kSlaveDeviceBusy, "slave device busy (0x06)"));
    const DeviceRead got = r.read(t, clock);
    CHECK(got.ok);
    STRCMP_EQUAL("{\"t\":5}", got.points.json.c_str());
    STRCMP_CONTAINS("slave device busy (0x06)", got.error.c_str());
    t.script.push_back(fails(Outcome::Exception, kSlaveDeviceBusy, "slave device busy (0x06)"));
    t.script.push_back(fails(Outcome::Exception, kIllegalFunction, "illegal function (0x01)"));
    const DeviceRead both = r.read(t, clock);
    CHECK_FALSE(both.ok);
    CHECK(both.answered);
    LONGS_EQUAL(2, both.exceptions.size());  // this poll's, for the device's status counts
    LONGS_EQUAL(kSlaveDeviceBusy, both.exceptions[0]);
    LONGS_EQUAL(kIllegalFunction, both.exceptions[1]);
    LONGS_EQUAL(2, r.exceptions().at(kSlaveDeviceBusy));
    LONGS_EQUAL(1, r.exceptions().at(kIllegalFunction));
}

TEST(DeviceReader, gateway_exceptions_fail_the_poll_like_a_dead_device) {
    DeviceReader r(m, 9, 500, "device=d");
    t.script.push_back(
        fails(Outcome::Exception, kGatewayTargetFailed, "gateway target device failed to respond (0x0B)"));
    const DeviceRead got = r.read(t, clock);
    CHECK_FALSE(got.ok);
    CHECK(got.last == Outcome::Timeout);
    CHECK(got.answered);  // the gateway answered at once: nobody waited (BusPoller keeps its thread)
    STRCMP_EQUAL("read u9 h0+3", joined(t.log).c_str());
    LONGS_EQUAL(1, r.exceptions().at(kGatewayTargetFailed));
    t.script.push_back(fails(Outcome::Exception, kGatewayPathUnavailable, "gateway path unavailable (0x0A)"));
    CHECK_FALSE(r.read(t, clock).ok);
    LONGS_EQUAL(1, r.exceptions().at(kGatewayPathUnavailable));
}

TEST(DeviceReader, a_closed_line_fails_the_poll) {
    DeviceReader r(m, 1, 500, "device=d");
    t.open_ = true;
    t.script.push_back(fails(Outcome::Closed, 0, "/dev/ttyUSB0: the port hung up"));
    const DeviceRead got = r.read(t, clock);
    CHECK_FALSE(got.ok);
    CHECK(got.last == Outcome::Closed);
    CHECK_FALSE(got.answered);
    STRCMP_CONTAINS("hung up", got.error.c_str());
}

TEST(DeviceReader, an_illegal_address_on_a_one_point_block_does_not_fall_back) {
    Model one;
    one.points = {point("arr", Table::Holding, 0, ValueType::Uint16)};
    one.points[0].count = 4;
    one.points[0].is_array = true;
    DeviceReader r(one, 1, 500, "device=d");
    t.script.push_back(fails(Outcome::Exception, kIllegalDataAddress, "illegal data address (0x02)"));
    CHECK_FALSE(r.read(t, clock).ok);
    CHECK_FALSE(r.single_reads());
    STRCMP_EQUAL("read u1 h0+4", joined(t.log).c_str());
}
