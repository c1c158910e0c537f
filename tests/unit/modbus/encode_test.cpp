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
using fieldgate::modbus::encode_measurepoints;
using fieldgate::modbus::encode_write;
using fieldgate::modbus::EncodeResult;
using fieldgate::modbus::plan_single_reads;
using fieldgate::modbus::WriteElement;
using fieldgate::modbus::WriteValue;
using Kind = WriteElement::Kind;

namespace {

Point point(ValueType type, ByteOrder order = ByteOrder::ABCD, Table table = Table::Holding) {
    Point p;
    p.id = "v";
    p.table = table;
    p.type = type;
    p.order = order;
    return p;
}

WriteElement i(std::int64_t v) {
    WriteElement e;
    if (v < 0) {
        e.kind = Kind::Int;
        e.i = v;
    } else {
        e.kind = Kind::Uint;
        e.u = static_cast<std::uint64_t>(v);
    }
    return e;
}

WriteElement u(std::uint64_t v) {
    WriteElement e;
    e.kind = Kind::Uint;
    e.u = v;
    return e;
}

WriteElement d(double v) {
    WriteElement e;
    e.kind = Kind::Double;
    e.d = v;
    return e;
}

WriteElement s(std::string v) {
    WriteElement e;
    e.kind = Kind::String;
    e.s = std::move(v);
    return e;
}

WriteElement b(bool v) {
    WriteElement e;
    e.kind = Kind::Bool;
    e.b = v;
    return e;
}

WriteValue one(WriteElement e) {
    WriteValue v;
    v.elements.push_back(std::move(e));
    return v;
}

WriteValue many(std::vector<WriteElement> es) {
    WriteValue v;
    v.is_array = true;
    v.elements = std::move(es);
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

void check_round_trip(const Point& p, const WriteValue& v, const char* json) {
    STRCMP_EQUAL(json, decoded(p, encode_write(p, v)).c_str());
}

void check_refused(const Point& p, const WriteValue& v, const char* why) {
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
        STRCMP_EQUAL(expected[k], words(encode_write(point(ValueType::Uint32, kOrders[k]), one(u(0x12345678)))).c_str());
    }
}

TEST(Encode, known_words_for_each_order_of_a_64_bit_value) {
    const char* expected[] = {"0102 0304 0506 0708", "0708 0506 0304 0102", "0201 0403 0605 0807",
                              "0807 0605 0403 0201"};
    for (int k = 0; k < 4; ++k) {
        STRCMP_EQUAL(expected[k],
                     words(encode_write(point(ValueType::Uint64, kOrders[k]), one(u(0x0102030405060708ULL)))).c_str());
    }
}

TEST(Encode, known_words_for_floats_and_16_bit_values) {
    STRCMP_EQUAL("3FC0 0000", words(encode_write(point(ValueType::Float32), one(d(1.5)))).c_str());
    STRCMP_EQUAL("0000 C03F", words(encode_write(point(ValueType::Float32, ByteOrder::DCBA), one(d(1.5)))).c_str());
    STRCMP_EQUAL("3FF8 0000 0000 0000", words(encode_write(point(ValueType::Float64), one(d(1.5)))).c_str());
    STRCMP_EQUAL("FFF9", words(encode_write(point(ValueType::Int16), one(i(-7)))).c_str());
    STRCMP_EQUAL("F9FF", words(encode_write(point(ValueType::Int16, ByteOrder::BADC), one(i(-7)))).c_str());
    STRCMP_EQUAL("FFFF FFFF FFFF FFFF",
                 words(encode_write(point(ValueType::Uint64), one(u(std::numeric_limits<std::uint64_t>::max()))))
                     .c_str());
    STRCMP_EQUAL("8000 0000 0000 0000",
                 words(encode_write(point(ValueType::Int64), one(i(std::numeric_limits<std::int64_t>::min())))).c_str());
}

TEST(Encode, every_numeric_type_and_order_round_trips_through_the_decoder) {
    struct Case {
        ValueType type;
        WriteElement value;
        const char* json;
    };
    const Case cases[] = {
        {ValueType::Int16, i(-32768), "{\"v\":-32768}"},
        {ValueType::Int16, i(32767), "{\"v\":32767}"},
        {ValueType::Uint16, u(65535), "{\"v\":65535}"},
        {ValueType::Int32, i(-2147483647 - 1), "{\"v\":-2147483648}"},
        {ValueType::Uint32, u(4294967295U), "{\"v\":4294967295}"},
        {ValueType::Int64, i(-9007199254740993LL), "{\"v\":-9007199254740993}"},
        {ValueType::Uint64, u(18446744073709551615ULL), "{\"v\":18446744073709551615}"},
        {ValueType::Float32, d(123.456), "{\"v\":123.456}"},
        {ValueType::Float32, d(-0.1), "{\"v\":-0.1}"},
        {ValueType::Float64, d(123.456789012345), "{\"v\":123.456789012345}"},
        {ValueType::Float64, i(-3), "{\"v\":-3}"},
        {ValueType::Int32, d(7.0), "{\"v\":7}"},
    };
    for (const auto& c : cases) {
        for (auto order : kOrders) {
            const bool is16 = c.type == ValueType::Int16 || c.type == ValueType::Uint16;
            if (is16 && (order == ByteOrder::CDAB || order == ByteOrder::DCBA)) continue;
            check_round_trip(point(c.type, order), one(c.value), c.json);
        }
    }
}

TEST(Encode, scale_and_offset_are_inverted_exactly) {
    Point p = point(ValueType::Int16);
    p.scale = 0.01;
    STRCMP_EQUAL("0869", words(encode_write(p, one(d(21.53)))).c_str());  // 2153
    check_round_trip(p, one(d(21.53)), "{\"v\":21.53}");
    check_round_trip(p, one(d(-327.68)), "{\"v\":-327.68}");
    p.offset = -40;
    check_round_trip(p, one(d(-12.5)), "{\"v\":-12.5}");
    STRCMP_EQUAL("0AF0", words(encode_write(p, one(d(-12.0)))).c_str());  // (-12 + 40) / 0.01 = 2800

    Point f = point(ValueType::Float32, ByteOrder::CDAB);
    f.scale = 0.001;
    check_round_trip(f, one(d(1.5)), "{\"v\":1.5}");
}

TEST(Encode, a_value_out_of_range_is_refused_not_wrapped) {
    check_refused(point(ValueType::Uint16), one(u(65536)), "out of range for uint16");
    check_refused(point(ValueType::Int16), one(i(-32769)), "out of range for int16");
    check_refused(point(ValueType::Int16), one(u(32768)), "out of range for int16");
    check_refused(point(ValueType::Uint32), one(i(-1)), "out of range for uint32");
    check_refused(point(ValueType::Int64), one(u(9223372036854775808ULL)), "out of range for int64");
    check_refused(point(ValueType::Uint64), one(d(1.9e19)), "out of range for uint64");
    check_refused(point(ValueType::Float32), one(d(1e39)), "out of range for float32");
    Point p = point(ValueType::Int16);
    p.scale = 0.01;
    check_refused(p, one(d(327.68)), "out of range for int16 after scale/offset");
    Point q = point(ValueType::Uint16);
    q.offset = 100;
    check_refused(q, one(i(99)), "out of range for uint16 after scale/offset");
}

TEST(Encode, a_value_the_register_cannot_hold_exactly_is_refused) {
    check_refused(point(ValueType::Int32), one(d(1.5)), "not a whole number");
    Point p = point(ValueType::Int16);
    p.scale = 0.01;
    check_refused(p, one(d(21.535)), "not a multiple of scale=0.01");
}

TEST(Encode, arrays_take_exactly_their_count_in_their_order) {
    Point p = point(ValueType::Float32, ByteOrder::CDAB);
    p.is_array = true;
    p.count = 3;
    check_round_trip(p, many({d(1.5), d(-2), d(0.25)}), "{\"v\":[1.5,-2,0.25]}");
    STRCMP_EQUAL("0000 3FC0 0000 C000 0000 3E80", words(encode_write(p, many({d(1.5), d(-2), d(0.25)}))).c_str());
    check_refused(p, many({d(1.5), d(2)}), "takes 3 values, got 2");
    check_refused(p, one(d(1.5)), "takes a JSON array of 3 values");
    check_refused(point(ValueType::Int16), many({i(1)}), "not an array");
    check_refused(p, many({d(1.5), s("x"), d(2)}), "takes a JSON number");
}

TEST(Encode, strings_fill_their_registers_high_byte_first) {
    Point p = point(ValueType::String);
    p.string_length = 3;
    STRCMP_EQUAL("6162 6300 0000", words(encode_write(p, one(s("abc")))).c_str());
    check_round_trip(p, one(s("abc")), "{\"v\":\"abc\"}");
    check_round_trip(p, one(s("caf\xC3\xA9")), "{\"v\":\"caf\\u00e9\"}");
    check_round_trip(p, one(s("")), "{\"v\":\"\"}");
    check_refused(p, one(s("abcdefg")), "text of 7 characters, the point holds 6");
    check_refused(p, one(s("\xE2\x82\xAC")), "beyond Latin-1");
    check_refused(p, one(u(5)), "takes a JSON string");
}

TEST(Encode, coils_take_bools_and_0_or_1) {
    const Point c = point(ValueType::Bool, ByteOrder::ABCD, Table::Coil);
    check_round_trip(c, one(b(true)), "{\"v\":1}");
    check_round_trip(c, one(u(0)), "{\"v\":0}");
    check_refused(c, one(u(2)), "true, false, 0 or 1");
    check_refused(c, one(d(0.5)), "true, false, 0 or 1");
    Point arr = c;
    arr.is_array = true;
    arr.count = 3;
    check_round_trip(arr, many({b(true), b(false), u(1)}), "{\"v\":[1,0,1]}");
}

TEST(Encode, as_string_points_take_their_number_as_text) {
    Point p = point(ValueType::Float32);
    p.as_string = true;
    check_round_trip(p, one(s("12.5")), "{\"v\":\"12.5\"}");
    check_refused(p, one(d(12.5)), "as=string point takes its number as a JSON string");
    check_refused(p, one(s("12.5x")), "as=string point");
    Point q = point(ValueType::Int16);
    q.as_string = true;
    check_round_trip(q, one(s("-3")), "{\"v\":\"-3\"}");
    check_refused(q, one(s("70000")), "out of range for int16");
}

TEST(Encode, read_only_tables_and_bit_points_are_refused) {
    check_refused(point(ValueType::Uint16, ByteOrder::ABCD, Table::Input), one(u(1)), "read-only");
    check_refused(point(ValueType::Bool, ByteOrder::ABCD, Table::Discrete), one(b(true)), "read-only");
    Point p = point(ValueType::Uint16);
    p.bit = 3;
    check_refused(p, one(u(1)), "bit=N");
}

TEST(Encode, a_json_number_for_a_wrong_kind_is_refused) {
    check_refused(point(ValueType::Int16), one(s("5")), "takes a JSON number");
    check_refused(point(ValueType::Int16), one(b(true)), "takes a JSON number");
}
