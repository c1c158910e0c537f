#include "fieldgate/modbus/decode.hpp"

#include <CppUTest/TestHarness.h>

#include <cmath>
#include <limits>
#include <string>

using fieldgate::config::ByteOrder;
using fieldgate::config::Point;
using fieldgate::config::Table;
using fieldgate::config::ValueType;
using fieldgate::modbus::BlockData;
using fieldgate::modbus::encode_measurepoints;
using fieldgate::modbus::Measurepoints;
using fieldgate::modbus::Plan;
using fieldgate::modbus::plan_reads;
using fieldgate::modbus::plan_single_reads;

namespace {

Point point(const char* id, ValueType type, ByteOrder order = ByteOrder::ABCD, Table table = Table::Holding) {
    Point p;
    p.id = id;
    p.table = table;
    p.type = type;
    p.order = order;
    return p;
}

BlockData regs(std::vector<std::uint16_t> words) {
    BlockData d;
    d.ok = true;
    d.registers = std::move(words);
    return d;
}

BlockData bits(std::vector<std::uint8_t> values) {
    BlockData d;
    d.ok = true;
    d.bits = std::move(values);
    return d;
}

// One point at address 0 read as one block holding `data`.
Measurepoints encode_one(const Point& p, const BlockData& data) {
    const std::vector<Point> points{p};
    return encode_measurepoints(points, plan_single_reads(points), {data});
}

std::string json_of(const Point& p, std::vector<std::uint16_t> words) {
    return encode_one(p, regs(std::move(words))).json;
}

}  // namespace

TEST_GROUP(Decode){};

TEST(Decode, int16_negative) {
    STRCMP_EQUAL("{\"v\":-7}", json_of(point("v", ValueType::Int16), {0xFFF9}).c_str());
    STRCMP_EQUAL("{\"v\":-32768}", json_of(point("v", ValueType::Int16), {0x8000}).c_str());
}

TEST(Decode, uint16_full_range) {
    STRCMP_EQUAL("{\"v\":65535}", json_of(point("v", ValueType::Uint16), {0xFFFF}).c_str());
}

TEST(Decode, int16_byte_swapped_orders_swap_its_bytes) {
    STRCMP_EQUAL("{\"v\":258}", json_of(point("v", ValueType::Int16, ByteOrder::BADC), {0x0201}).c_str());
    STRCMP_EQUAL("{\"v\":258}", json_of(point("v", ValueType::Uint16, ByteOrder::DCBA), {0x0201}).c_str());
    STRCMP_EQUAL("{\"v\":258}", json_of(point("v", ValueType::Uint16, ByteOrder::CDAB), {0x0102}).c_str());
}

TEST(Decode, int32_in_every_order) {
    // 0x12345678 = 305419896
    STRCMP_EQUAL("{\"v\":305419896}", json_of(point("v", ValueType::Int32, ByteOrder::ABCD), {0x1234, 0x5678}).c_str());
    STRCMP_EQUAL("{\"v\":305419896}", json_of(point("v", ValueType::Int32, ByteOrder::CDAB), {0x5678, 0x1234}).c_str());
    STRCMP_EQUAL("{\"v\":305419896}", json_of(point("v", ValueType::Int32, ByteOrder::BADC), {0x3412, 0x7856}).c_str());
    STRCMP_EQUAL("{\"v\":305419896}", json_of(point("v", ValueType::Int32, ByteOrder::DCBA), {0x7856, 0x3412}).c_str());
}

TEST(Decode, int32_negative_and_uint32_max) {
    STRCMP_EQUAL("{\"v\":-2}", json_of(point("v", ValueType::Int32), {0xFFFF, 0xFFFE}).c_str());
    STRCMP_EQUAL("{\"v\":-2}", json_of(point("v", ValueType::Int32, ByteOrder::CDAB), {0xFFFE, 0xFFFF}).c_str());
    STRCMP_EQUAL("{\"v\":4294967295}", json_of(point("v", ValueType::Uint32), {0xFFFF, 0xFFFF}).c_str());
    STRCMP_EQUAL("{\"v\":2147483648}",
                 json_of(point("v", ValueType::Uint32, ByteOrder::DCBA), {0x0000, 0x0080}).c_str());
}

TEST(Decode, int64_in_every_order) {
    // 0x0102030405060708 = 72623859790382856; ABCDEFGH GHEFCDAB BADCFEHG HGFEDCBA
    const char* expected = "{\"v\":72623859790382856}";
    STRCMP_EQUAL(expected,
                 json_of(point("v", ValueType::Int64, ByteOrder::ABCD), {0x0102, 0x0304, 0x0506, 0x0708}).c_str());
    STRCMP_EQUAL(expected,
                 json_of(point("v", ValueType::Int64, ByteOrder::CDAB), {0x0708, 0x0506, 0x0304, 0x0102}).c_str());
    STRCMP_EQUAL(expected,
                 json_of(point("v", ValueType::Int64, ByteOrder::BADC), {0x0201, 0x0403, 0x0605, 0x0807}).c_str());
    STRCMP_EQUAL(expected,
                 json_of(point("v", ValueType::Int64, ByteOrder::DCBA), {0x0807, 0x0605, 0x0403, 0x0201}).c_str());
}

TEST(Decode, int64_negative_and_uint64_max) {
    STRCMP_EQUAL("{\"v\":-1}", json_of(point("v", ValueType::Int64), {0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF}).c_str());
    STRCMP_EQUAL("{\"v\":-9223372036854775808}",
                 json_of(point("v", ValueType::Int64), {0x8000, 0x0000, 0x0000, 0x0000}).c_str());
    STRCMP_EQUAL("{\"v\":18446744073709551615}",
                 json_of(point("v", ValueType::Uint64), {0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF}).c_str());
    STRCMP_EQUAL("{\"v\":1}", json_of(point("v", ValueType::Uint64, ByteOrder::CDAB), {0x0001, 0, 0, 0}).c_str());
}

TEST(Decode, float32_in_every_order_is_shortest_text) {
    // 123.456f = 0x42F6E979
    const char* expected = "{\"v\":123.456}";
    STRCMP_EQUAL(expected, json_of(point("v", ValueType::Float32, ByteOrder::ABCD), {0x42F6, 0xE979}).c_str());
    STRCMP_EQUAL(expected, json_of(point("v", ValueType::Float32, ByteOrder::CDAB), {0xE979, 0x42F6}).c_str());
    STRCMP_EQUAL(expected, json_of(point("v", ValueType::Float32, ByteOrder::BADC), {0xF642, 0x79E9}).c_str());
    STRCMP_EQUAL(expected, json_of(point("v", ValueType::Float32, ByteOrder::DCBA), {0x79E9, 0xF642}).c_str());
}

TEST(Decode, float32_integral_and_negative) {
    STRCMP_EQUAL("{\"v\":21}", json_of(point("v", ValueType::Float32), {0x41A8, 0x0000}).c_str());
    STRCMP_EQUAL("{\"v\":-1.5}", json_of(point("v", ValueType::Float32), {0xBFC0, 0x0000}).c_str());
}

TEST(Decode, float64_in_every_order) {
    // 1.1 = 0x3FF199999999999A
    const char* expected = "{\"v\":1.1}";
    STRCMP_EQUAL(expected,
                 json_of(point("v", ValueType::Float64, ByteOrder::ABCD), {0x3FF1, 0x9999, 0x9999, 0x999A}).c_str());
    STRCMP_EQUAL(expected,
                 json_of(point("v", ValueType::Float64, ByteOrder::CDAB), {0x999A, 0x9999, 0x9999, 0x3FF1}).c_str());
    STRCMP_EQUAL(expected,
                 json_of(point("v", ValueType::Float64, ByteOrder::BADC), {0xF13F, 0x9999, 0x9999, 0x9A99}).c_str());
    STRCMP_EQUAL(expected,
                 json_of(point("v", ValueType::Float64, ByteOrder::DCBA), {0x9A99, 0x9999, 0x9999, 0xF13F}).c_str());
}

TEST(Decode, bool_from_coils_and_discrete_inputs) {
    const std::vector<Point> points{point("c", ValueType::Bool, ByteOrder::ABCD, Table::Coil),
                                    point("d", ValueType::Bool, ByteOrder::ABCD, Table::Discrete)};
    const Measurepoints m = encode_measurepoints(points, plan_single_reads(points), {bits({1}), bits({0})});
    STRCMP_EQUAL("{\"c\":1,\"d\":0}", m.json.c_str());
    UNSIGNED_LONGS_EQUAL(2, m.written);
}

TEST(Decode, bool_from_bit_n_of_a_register) {
    Point p = point("b", ValueType::Bool);
    p.bit = 3;
    STRCMP_EQUAL("{\"b\":1}", json_of(p, {0x0008}).c_str());
    STRCMP_EQUAL("{\"b\":0}", json_of(p, {0xFFF7}).c_str());
    p.bit = 15;
    STRCMP_EQUAL("{\"b\":1}", json_of(p, {0x8000}).c_str());
    p.bit = 0;
    STRCMP_EQUAL("{\"b\":1}", json_of(p, {0x0001}).c_str());
}

TEST(Decode, bool_register_without_bit_is_non_zero) {
    STRCMP_EQUAL("{\"b\":1}", json_of(point("b", ValueType::Bool), {0x0100}).c_str());
    STRCMP_EQUAL("{\"b\":0}", json_of(point("b", ValueType::Bool), {0x0000}).c_str());
}

TEST(Decode, scale_applies_to_integers) {
    Point p = point("t", ValueType::Int16);
    p.scale = 0.01;
    STRCMP_EQUAL("{\"t\":21.51}", json_of(p, {2151}).c_str());
    STRCMP_EQUAL("{\"t\":-0.07}", json_of(p, {0xFFF9}).c_str());
}

TEST(Decode, offset_alone_applies_and_makes_a_number) {
    Point p = point("t", ValueType::Uint16);
    p.offset = -273.15;
    STRCMP_EQUAL("{\"t\":-263.15}", json_of(p, {10}).c_str());
}

TEST(Decode, scale_and_offset_together_on_a_float32) {
    Point p = point("t", ValueType::Float32);
    p.scale = 0.5;
    p.offset = 1;
    // 123.456f widened to double, then * 0.5 + 1
    STRCMP_EQUAL("{\"t\":62.72800064086914}", json_of(p, {0x42F6, 0xE979}).c_str());
}

TEST(Decode, integral_scaled_value_prints_without_fraction) {
    Point p = point("t", ValueType::Uint16);
    p.scale = 10;
    STRCMP_EQUAL("{\"t\":420}", json_of(p, {42}).c_str());
}

TEST(Decode, arrays_are_json_arrays) {
    Point p = point("a", ValueType::Uint16);
    p.count = 3;
    p.is_array = true;
    STRCMP_EQUAL("{\"a\":[1,2,65535]}", json_of(p, {1, 2, 0xFFFF}).c_str());
}

TEST(Decode, float32_array_in_word_swapped_order) {
    Point p = point("a", ValueType::Float32, ByteOrder::CDAB);
    p.count = 2;
    p.is_array = true;
    STRCMP_EQUAL("{\"a\":[123.456,-1.5]}", json_of(p, {0xE979, 0x42F6, 0x0000, 0xBFC0}).c_str());
}

TEST(Decode, array_of_one_stays_an_array) {
    Point p = point("a", ValueType::Int16);
    p.is_array = true;
    STRCMP_EQUAL("{\"a\":[5]}", json_of(p, {5}).c_str());
}

TEST(Decode, bool_array_from_coils) {
    Point p = point("a", ValueType::Bool, ByteOrder::ABCD, Table::Coil);
    p.count = 4;
    p.is_array = true;
    STRCMP_EQUAL("{\"a\":[1,0,0,1]}", encode_one(p, bits({1, 0, 0, 1})).json.c_str());
}

TEST(Decode, scaled_array_scales_every_element) {
    Point p = point("a", ValueType::Int16);
    p.count = 2;
    p.is_array = true;
    p.scale = 0.1;
    STRCMP_EQUAL("{\"a\":[1.5,-0.2]}", json_of(p, {15, 0xFFFE}).c_str());
}

TEST(Decode, string_stops_at_first_nul) {
    Point p = point("s", ValueType::String);
    p.string_length = 4;
    // "HELLO\0" then junk after the NUL that must not show
    STRCMP_EQUAL("{\"s\":\"HELLO\"}", json_of(p, {0x4845, 0x4C4C, 0x4F00, 0x5858}).c_str());
}

TEST(Decode, string_trailing_spaces_are_trimmed) {
    Point p = point("s", ValueType::String);
    p.string_length = 3;
    STRCMP_EQUAL("{\"s\":\"A B\"}", json_of(p, {0x4120, 0x4220, 0x2020}).c_str());
}

TEST(Decode, string_filling_every_register) {
    Point p = point("s", ValueType::String);
    p.string_length = 2;
    STRCMP_EQUAL("{\"s\":\"ABCD\"}", json_of(p, {0x4142, 0x4344}).c_str());
}

TEST(Decode, string_of_nuls_is_empty) {
    Point p = point("s", ValueType::String);
    p.string_length = 2;
    STRCMP_EQUAL("{\"s\":\"\"}", json_of(p, {0, 0}).c_str());
}

TEST(Decode, string_is_json_escaped) {
    Point p = point("s", ValueType::String);
    p.string_length = 3;
    // a " \ newline, and a Latin-1 byte 0xE9
    STRCMP_EQUAL("{\"s\":\"\\\"\\\\\\n\\u00e9\"}", json_of(p, {0x225C, 0x0AE9, 0x0000}).c_str());
}

TEST(Decode, quality_wraps_the_value) {
    Point p = point("t", ValueType::Int16);
    p.quality = true;
    STRCMP_EQUAL("{\"t\":{\"value\":21,\"quality\":0}}", json_of(p, {21}).c_str());
}

TEST(Decode, quality_wraps_a_whole_array) {
    Point p = point("a", ValueType::Uint16);
    p.quality = true;
    p.count = 2;
    p.is_array = true;
    STRCMP_EQUAL("{\"a\":{\"value\":[1,2],\"quality\":0}}", json_of(p, {1, 2}).c_str());
}

TEST(Decode, as_string_writes_the_number_text_as_a_string) {
    Point f = point("f", ValueType::Float32);
    f.as_string = true;
    STRCMP_EQUAL("{\"f\":\"123.456\"}", json_of(f, {0x42F6, 0xE979}).c_str());
    Point i = point("i", ValueType::Int16);
    i.as_string = true;
    STRCMP_EQUAL("{\"i\":\"-7\"}", json_of(i, {0xFFF9}).c_str());
}

TEST(Decode, as_string_with_quality_and_scale) {
    Point p = point("t", ValueType::Int16);
    p.as_string = true;
    p.quality = true;
    p.scale = 0.01;
    STRCMP_EQUAL("{\"t\":{\"value\":\"21.51\",\"quality\":0}}", json_of(p, {2151}).c_str());
}

TEST(Decode, as_string_array_is_an_array_of_strings) {
    Point p = point("a", ValueType::Float32, ByteOrder::CDAB);
    p.count = 2;
    p.is_array = true;
    p.as_string = true;
    STRCMP_EQUAL("{\"a\":[\"123.456\",\"-1.5\"]}", json_of(p, {0xE979, 0x42F6, 0x0000, 0xBFC0}).c_str());
}

TEST(Decode, nan_point_is_left_out_and_counted) {
    std::vector<Point> points{point("nan", ValueType::Float32), point("ok", ValueType::Uint16)};
    points[1].address = 2;
    const Plan plan = plan_reads(points);
    const Measurepoints m = encode_measurepoints(points, plan, {regs({0x7FC0, 0x0000, 42})});
    STRCMP_EQUAL("{\"ok\":42}", m.json.c_str());
    UNSIGNED_LONGS_EQUAL(1, m.written);
    UNSIGNED_LONGS_EQUAL(1, m.non_finite);
    UNSIGNED_LONGS_EQUAL(0, m.unreadable);
}

TEST(Decode, infinities_are_left_out) {
    const Measurepoints pos = encode_one(point("v", ValueType::Float32), regs({0x7F80, 0x0000}));
    const Measurepoints neg = encode_one(point("v", ValueType::Float64), regs({0xFFF0, 0, 0, 0}));
    STRCMP_EQUAL("{}", pos.json.c_str());
    STRCMP_EQUAL("{}", neg.json.c_str());
    UNSIGNED_LONGS_EQUAL(1, pos.non_finite);
    UNSIGNED_LONGS_EQUAL(1, neg.non_finite);
}

TEST(Decode, scale_overflowing_to_infinity_is_left_out) {
    Point p = point("v", ValueType::Float64);
    p.scale = 10;
    // DBL_MAX = 0x7FEFFFFFFFFFFFFF
    const Measurepoints m = encode_one(p, regs({0x7FEF, 0xFFFF, 0xFFFF, 0xFFFF}));
    STRCMP_EQUAL("{}", m.json.c_str());
    UNSIGNED_LONGS_EQUAL(1, m.non_finite);
}

TEST(Decode, nan_inside_an_array_leaves_the_whole_point_out) {
    Point a = point("a", ValueType::Float32);
    a.count = 2;
    a.is_array = true;
    a.quality = true;
    std::vector<Point> points{point("first", ValueType::Uint16), a, point("last", ValueType::Uint16)};
    points[1].address = 1;  // 1.0f then a NaN
    points[2].address = 5;
    const Measurepoints m =
        encode_measurepoints(points, plan_reads(points), {regs({7, 0x3F80, 0x0000, 0x7FC0, 0x0001, 8})});
    STRCMP_EQUAL("{\"first\":7,\"last\":8}", m.json.c_str());
    UNSIGNED_LONGS_EQUAL(2, m.written);
    UNSIGNED_LONGS_EQUAL(1, m.non_finite);
}

TEST(Decode, points_of_a_failed_block_are_left_out_and_counted) {
    std::vector<Point> points{point("a", ValueType::Uint16), point("b", ValueType::Uint16),
                              point("c", ValueType::Uint16)};
    points[1].address = 100;
    points[2].address = 1;
    const Plan plan = plan_reads(points);
    UNSIGNED_LONGS_EQUAL(2, plan.blocks.size());
    std::vector<BlockData> data(2);
    data[plan.block_of_point[0]] = regs({1, 2});
    data[plan.block_of_point[1]].ok = false;
    const Measurepoints m = encode_measurepoints(points, plan, data);
    STRCMP_EQUAL("{\"a\":1,\"c\":2}", m.json.c_str());
    UNSIGNED_LONGS_EQUAL(2, m.written);
    UNSIGNED_LONGS_EQUAL(1, m.unreadable);
}

TEST(Decode, all_blocks_failed_gives_an_empty_object) {
    BlockData failed;
    const Measurepoints m = encode_one(point("a", ValueType::Uint16), failed);
    STRCMP_EQUAL("{}", m.json.c_str());
    UNSIGNED_LONGS_EQUAL(0, m.written);
    UNSIGNED_LONGS_EQUAL(1, m.unreadable);
}

TEST(Decode, short_or_missing_block_data_is_unreadable_not_read_past_the_end) {
    const std::vector<Point> points{point("a", ValueType::Float64)};
    const Plan plan = plan_single_reads(points);
    UNSIGNED_LONGS_EQUAL(1, encode_measurepoints(points, plan, {regs({1, 2})}).unreadable);
    UNSIGNED_LONGS_EQUAL(1, encode_measurepoints(points, plan, {}).unreadable);
}

TEST(Decode, point_ids_are_json_escaped) {
    STRCMP_EQUAL("{\"a\\\"b\\\\c\":1}", json_of(point("a\"b\\c", ValueType::Uint16), {1}).c_str());
}

TEST(Decode, keys_follow_model_order_in_compact_json) {
    std::vector<Point> points{
        point("Power", ValueType::Float32), point("temp", ValueType::Int16, ByteOrder::ABCD, Table::Input),
        point("breaker", ValueType::Bool, ByteOrder::ABCD, Table::Coil), point("count", ValueType::Uint32)};
    points[0].address = 100;
    points[0].quality = true;
    points[1].address = 10;
    points[1].scale = 0.01;
    points[2].address = 5;
    points[3].address = 98;
    const Plan plan = plan_reads(points);
    std::vector<BlockData> data(plan.blocks.size());
    data[plan.block_of_point[0]] = regs({0, 7, 0x42F6, 0xE979});  // holding 98..101
    data[plan.block_of_point[1]] = regs({2150});
    data[plan.block_of_point[2]] = bits({1});
    const Measurepoints m = encode_measurepoints(points, plan, data);
    STRCMP_EQUAL("{\"Power\":{\"value\":123.456,\"quality\":0},\"temp\":21.5,\"breaker\":1,\"count\":7}",
                 m.json.c_str());
    UNSIGNED_LONGS_EQUAL(4, m.written);
}

TEST(Decode, point_inside_a_merged_block_reads_at_its_offset) {
    std::vector<Point> points{point("hi", ValueType::Uint16), point("lo", ValueType::Uint16),
                              point("both", ValueType::Uint32)};
    points[0].address = 20;
    points[1].address = 21;
    points[2].address = 20;
    const Measurepoints m = encode_measurepoints(points, plan_reads(points), {regs({0x0001, 0x0002})});
    STRCMP_EQUAL("{\"hi\":1,\"lo\":2,\"both\":65538}", m.json.c_str());
}

TEST(Decode, append_number_is_shortest_round_trip) {
    std::string out;
    fieldgate::modbus::append_number(out, 0.1);
    out.push_back(' ');
    fieldgate::modbus::append_number(out, 123.456f);
    out.push_back(' ');
    fieldgate::modbus::append_number(out, 21.0);
    out.push_back(' ');
    fieldgate::modbus::append_number(out, std::numeric_limits<double>::quiet_NaN());
    STRCMP_EQUAL("0.1 123.456 21 null", out.c_str());
}

TEST(Decode, every_16_bit_word_is_written_as_the_standard_library_writes_it) {
    // All 65,536 words as one array, both signs and both byte orders, against std::to_string.
    std::vector<std::uint16_t> words(65536);
    for (std::size_t i = 0; i < words.size(); ++i)
        words[i] = static_cast<std::uint16_t>(i);
    for (const ValueType type : {ValueType::Uint16, ValueType::Int16})
        for (const ByteOrder order : {ByteOrder::ABCD, ByteOrder::BADC}) {
            Point p = point("v", type, order);
            p.count = 65535;  // the largest count a point takes; the last word on its own below
            p.is_array = true;
            std::string want = "{\"v\":[";
            for (std::size_t i = 0; i < 65535; ++i) {
                std::uint16_t w = words[i];
                if (order == ByteOrder::BADC) w = static_cast<std::uint16_t>((w << 8) | (w >> 8));
                if (i > 0) want += ',';
                want += type == ValueType::Int16 ? std::to_string(static_cast<std::int16_t>(w)) : std::to_string(w);
            }
            want += "]}";
            CHECK(want == json_of(p, words));
        }
    STRCMP_EQUAL("{\"v\":-1}", json_of(point("v", ValueType::Int16), {0xFFFF}).c_str());
    STRCMP_EQUAL("{\"v\":65535}", json_of(point("v", ValueType::Uint16, ByteOrder::BADC), {0xFFFF}).c_str());
}
