#include "fieldgate/modbus/encode.hpp"

#include <CppUTest/TestHarness.h>

#include <limits>
#include <string>

#include "fieldgate/modbus/decode.hpp"

using fieldgate::config::ByteOrder;
using fieldgate::config::Point;
using fieldgate::config::Table;
using fieldgate::config::ValueType;
using fieldgate::modbus::BlockData;
using fieldgate::modbus::check_set_request;
using fieldgate::modbus::encode_measurepoints;
using fieldgate::modbus::encode_write;
using fieldgate::modbus::EncodeResult;
using fieldgate::modbus::plan_single_reads;
using fieldgate::util::JsonValue;
using fieldgate::util::parse_json;

namespace {

Point point(ValueType type, ByteOrder order = ByteOrder::ABCD, Table table = Table::Holding) {
    Point p;
    p.id = "v";
    p.table = table;
    p.type = type;
    p.order = order;
    return p;
}

// A request's value as its JSON text.
JsonValue j(const std::string& text) {
    JsonValue v;
    std::string error;
    if (!parse_json(text, v, error)) FAIL(("bad test JSON " + text + ": " + error).c_str());
    return v;
}

std::string words(const EncodeResult& r) {
    std::string out;
    char buf[8];
    for (auto w : r.data.registers) {
        snprintf(buf, sizeof buf, "%s%04X", out.empty() ? "" : " ", w);
        out += buf;
    }
    return out;
}

// What the decoder makes of the encoded words: the round trip's other half.
std::string decoded(const Point& p, const EncodeResult& r) {
    CHECK_TRUE_TEXT(r.ok, r.error.c_str());
    BlockData data;
    data.ok = true;
    data.registers = r.data.registers;
    data.bits = r.data.bits;
    const std::vector<Point> points{p};
    return encode_measurepoints(points, plan_single_reads(points), {data}).json;
}

void check_round_trip(const Point& p, const JsonValue& v, const char* json) {
    STRCMP_EQUAL(json, decoded(p, encode_write(p, v)).c_str());
}

void check_refused(const Point& p, const JsonValue& v, const char* why) {
    const EncodeResult r = encode_write(p, v);
    CHECK_FALSE(r.ok);
    CHECK_TRUE(r.data.registers.empty() && r.data.bits.empty());
    if (r.error.find(why) == std::string::npos) FAIL(("error \"" + r.error + "\" lacks \"" + why + "\"").c_str());
}

constexpr ByteOrder kOrders[] = {ByteOrder::ABCD, ByteOrder::CDAB, ByteOrder::BADC, ByteOrder::DCBA};

}  // namespace

TEST_GROUP(Encode){};

TEST(Encode, known_words_for_each_order_of_a_32_bit_value) {
    const char* expected[] = {"1234 5678", "5678 1234", "3412 7856", "7856 3412"};
    for (int k = 0; k < 4; ++k) {
        STRCMP_EQUAL(expected[k], words(encode_write(point(ValueType::Uint32, kOrders[k]), j("305419896"))).c_str());
    }
}

TEST(Encode, known_words_for_each_order_of_a_64_bit_value) {
    const char* expected[] = {"0102 0304 0506 0708", "0708 0506 0304 0102", "0201 0403 0605 0807",
                              "0807 0605 0403 0201"};
    for (int k = 0; k < 4; ++k) {
        STRCMP_EQUAL(expected[k],
                     words(encode_write(point(ValueType::Uint64, kOrders[k]), j("72623859790382856"))).c_str());
    }
}

TEST(Encode, known_words_for_floats_and_16_bit_values) {
    STRCMP_EQUAL("3FC0 0000", words(encode_write(point(ValueType::Float32), j("1.5"))).c_str());
    STRCMP_EQUAL("0000 C03F", words(encode_write(point(ValueType::Float32, ByteOrder::DCBA), j("1.5"))).c_str());
    STRCMP_EQUAL("3FF8 0000 0000 0000", words(encode_write(point(ValueType::Float64), j("1.5"))).c_str());
    STRCMP_EQUAL("FFF9", words(encode_write(point(ValueType::Int16), j("-7"))).c_str());
    STRCMP_EQUAL("F9FF", words(encode_write(point(ValueType::Int16, ByteOrder::BADC), j("-7"))).c_str());
    STRCMP_EQUAL("FFFF FFFF FFFF FFFF",
                 words(encode_write(point(ValueType::Uint64), j("18446744073709551615"))).c_str());
    STRCMP_EQUAL("8000 0000 0000 0000",
                 words(encode_write(point(ValueType::Int64), j("-9223372036854775808"))).c_str());
}

TEST(Encode, every_numeric_type_and_order_round_trips_through_the_decoder) {
    struct Case {
        ValueType type;
        const char* value;
        const char* json;
    };
    const Case cases[] = {
        {ValueType::Int16, "-32768", "{\"v\":-32768}"},
        {ValueType::Int16, "32767", "{\"v\":32767}"},
        {ValueType::Uint16, "65535", "{\"v\":65535}"},
        {ValueType::Int32, "-2147483648", "{\"v\":-2147483648}"},
        {ValueType::Uint32, "4294967295", "{\"v\":4294967295}"},
        {ValueType::Int64, "-9007199254740993", "{\"v\":-9007199254740993}"},
        {ValueType::Uint64, "18446744073709551615", "{\"v\":18446744073709551615}"},
        {ValueType::Float32, "123.456", "{\"v\":123.456}"},
        {ValueType::Float32, "-0.1", "{\"v\":-0.1}"},
        {ValueType::Float64, "123.456789012345", "{\"v\":123.456789012345}"},
        {ValueType::Float64, "-3", "{\"v\":-3}"},
        {ValueType::Int32, "7.0", "{\"v\":7}"},
    };
    for (const auto& c : cases) {
        for (auto order : kOrders) {
            const bool is16 = c.type == ValueType::Int16 || c.type == ValueType::Uint16;
            if (is16 && (order == ByteOrder::CDAB || order == ByteOrder::DCBA)) continue;
            check_round_trip(point(c.type, order), j(c.value), c.json);
        }
    }
}

TEST(Encode, scale_and_offset_are_inverted_exactly) {
    Point p = point(ValueType::Int16);
    p.scale = 0.01;
    STRCMP_EQUAL("0869", words(encode_write(p, j("21.53"))).c_str());  // 2153
    check_round_trip(p, j("21.53"), "{\"v\":21.53}");
    check_round_trip(p, j("-327.68"), "{\"v\":-327.68}");
    p.offset = -40;
    check_round_trip(p, j("-12.5"), "{\"v\":-12.5}");
    STRCMP_EQUAL("0AF0", words(encode_write(p, j("-12.0"))).c_str());  // (-12 + 40) / 0.01 = 2800

    Point f = point(ValueType::Float32, ByteOrder::CDAB);
    f.scale = 0.001;
    check_round_trip(f, j("1.5"), "{\"v\":1.5}");
}

TEST(Encode, a_value_out_of_range_is_refused_not_wrapped) {
    check_refused(point(ValueType::Uint16), j("65536"), "out of range for uint16");
    check_refused(point(ValueType::Int16), j("-32769"), "out of range for int16");
    check_refused(point(ValueType::Int16), j("32768"), "out of range for int16");
    check_refused(point(ValueType::Uint32), j("-1"), "out of range for uint32");
    check_refused(point(ValueType::Int64), j("9223372036854775808"), "out of range for int64");
    check_refused(point(ValueType::Uint64), j("1.9e19"), "out of range for uint64");
    check_refused(point(ValueType::Float32), j("1e39"), "out of range for float32");
    Point p = point(ValueType::Int16);
    p.scale = 0.01;
    check_refused(p, j("327.68"), "out of range for int16 after scale/offset");
    Point q = point(ValueType::Uint16);
    q.offset = 100;
    check_refused(q, j("99"), "out of range for uint16 after scale/offset");
}

TEST(Encode, a_value_the_register_cannot_hold_exactly_is_refused) {
    check_refused(point(ValueType::Int32), j("1.5"), "not a whole number");
    Point p = point(ValueType::Int16);
    p.scale = 0.01;
    check_refused(p, j("21.535"), "not a multiple of scale=0.01");
}

TEST(Encode, arrays_take_exactly_their_count_in_their_order) {
    Point p = point(ValueType::Float32, ByteOrder::CDAB);
    p.is_array = true;
    p.count = 3;
    check_round_trip(p, j("[1.5,-2,0.25]"), "{\"v\":[1.5,-2,0.25]}");
    STRCMP_EQUAL("0000 3FC0 0000 C000 0000 3E80", words(encode_write(p, j("[1.5,-2,0.25]"))).c_str());
    check_refused(p, j("[1.5,2]"), "takes 3 values, got 2");
    check_refused(p, j("1.5"), "takes a JSON array of 3 values");
    check_refused(point(ValueType::Int16), j("[1]"), "not an array");
    check_refused(p, j(R"([1.5,"x",2])"), "takes a JSON number");
}

TEST(Encode, strings_fill_their_registers_high_byte_first) {
    Point p = point(ValueType::String);
    p.string_length = 3;
    STRCMP_EQUAL("6162 6300 0000", words(encode_write(p, j(R"("abc")"))).c_str());
    check_round_trip(p, j(R"("abc")"), "{\"v\":\"abc\"}");
    check_round_trip(p, j("\"caf\xC3\xA9\""), "{\"v\":\"caf\\u00e9\"}");
    check_round_trip(p, j(R"("")"), "{\"v\":\"\"}");
    check_refused(p, j(R"("abcdefg")"), "text of 7 characters, the point holds 6");
    check_refused(p, j("\"\xE2\x82\xAC\""), "beyond Latin-1");
    check_refused(p, j("5"), "takes a JSON string");
}

TEST(Encode, coils_take_bools_and_0_or_1) {
    const Point c = point(ValueType::Bool, ByteOrder::ABCD, Table::Coil);
    check_round_trip(c, j("true"), "{\"v\":1}");
    check_round_trip(c, j("0"), "{\"v\":0}");
    check_refused(c, j("2"), "true, false, 0 or 1");
    check_refused(c, j("0.5"), "true, false, 0 or 1");
    Point arr = c;
    arr.is_array = true;
    arr.count = 3;
    check_round_trip(arr, j("[true,false,1]"), "{\"v\":[1,0,1]}");
}

TEST(Encode, as_string_points_take_their_number_as_text) {
    Point p = point(ValueType::Float32);
    p.as_string = true;
    check_round_trip(p, j(R"("12.5")"), "{\"v\":\"12.5\"}");
    check_refused(p, j("12.5"), "as=string point takes its number as a JSON string");
    check_refused(p, j(R"("12.5x")"), "as=string point");
    Point q = point(ValueType::Int16);
    q.as_string = true;
    check_round_trip(q, j(R"("-3")"), "{\"v\":\"-3\"}");
    check_refused(q, j(R"("70000")"), "out of range for int16");
}

TEST(Encode, read_only_tables_and_bit_points_are_refused) {
    check_refused(point(ValueType::Uint16, ByteOrder::ABCD, Table::Input), j("1"), "read-only");
    check_refused(point(ValueType::Bool, ByteOrder::ABCD, Table::Discrete), j("true"), "read-only");
    Point p = point(ValueType::Uint16);
    p.bit = 3;
    check_refused(p, j("1"), "bit=N");
}

TEST(Encode, a_json_number_for_a_wrong_kind_is_refused) {
    check_refused(point(ValueType::Int16), j(R"("5")"), "takes a JSON number");
    check_refused(point(ValueType::Int16), j("true"), "takes a JSON number");
}

TEST_GROUP(CheckSetRequest) {
    std::vector<Point> points;
    void setup() override {
        Point a = point(ValueType::Float32);
        a.id = "setpoint";
        a.address = 10;
        a.writable = true;
        Point b = point(ValueType::Uint16);
        b.id = "mode";
        b.address = 12;
        b.writable = true;
        Point c = point(ValueType::Uint16);
        c.id = "status";
        c.address = 13;
        points = {a, b, c};
    }
};

TEST(CheckSetRequest, every_point_is_checked_before_any_is_accepted) {
    auto plan = check_set_request(points, j(R"({"mode":3,"setpoint":1.5})"));
    CHECK_TRUE(plan.ok);
    LONGS_EQUAL(2, plan.writes.size());
    LONGS_EQUAL(1, plan.writes[0].point);  // in the order given
    LONGS_EQUAL(0, plan.writes[1].point);
    LONGS_EQUAL(3, plan.writes[0].data.registers[0]);

    plan = check_set_request(points, j(R"({"mode":3,"nosuch":1})"));
    CHECK_FALSE(plan.ok);
    CHECK_TRUE(plan.writes.empty());
    STRCMP_EQUAL("point nosuch: unknown to this device", plan.error.c_str());

    plan = check_set_request(points, j(R"({"mode":3,"status":1})"));
    CHECK_FALSE(plan.ok);
    STRCMP_EQUAL("point status: not writable", plan.error.c_str());

    plan = check_set_request(points, j(R"({"mode":70000,"setpoint":1})"));
    CHECK_FALSE(plan.ok);
    STRCMP_EQUAL("point mode: 70000 out of range for uint16", plan.error.c_str());

    plan = check_set_request(points, j(R"({"setpoint":"high"})"));
    CHECK_FALSE(plan.ok);
    STRCMP_EQUAL("point setpoint: a float32 point takes a JSON number", plan.error.c_str());

    CHECK_FALSE(check_set_request(points, j("{}")).ok);
}
