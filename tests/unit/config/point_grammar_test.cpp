#include "fieldgate/config/point_grammar.hpp"

#include <CppUTest/TestHarness.h>

#include <string>

using namespace fieldgate::config;

namespace {

Point ok(const char* spec, const char* id = "p") {
    auto r = parse_point(id, spec);
    if (!r.errors.empty()) FAIL(("unexpected: " + r.errors.front()).c_str());
    CHECK_TRUE(r.point.has_value());
    return *r.point;
}

// The one error a spec gives, which must start with `start`.
void fails(const char* spec, const std::string& start, const char* id = "p") {
    auto r = parse_point(id, spec);
    CHECK_FALSE(r.point.has_value());
    if (r.errors.size() != 1) {
        std::string all;
        for (const auto& e : r.errors)
            all += e + " | ";
        FAIL(("expected one error for '" + std::string(spec) + "', got " + std::to_string(r.errors.size()) + ": " + all)
                 .c_str());
    }
    if (r.errors[0].compare(0, start.size(), start) != 0) FAIL(("got: " + r.errors[0]).c_str());
    CHECK(r.errors[0].find("; accepted: ") != std::string::npos);
}

}  // namespace

TEST_GROUP(PointGrammar){};

TEST(PointGrammar, plain_register_defaults_to_one_big_endian_word) {
    const auto p = ok("holding:100 uint16", "Power_1");
    STRCMP_EQUAL("Power_1", p.id.c_str());
    CHECK(p.table == Table::Holding);
    LONGS_EQUAL(100, p.address);
    CHECK(p.type == ValueType::Uint16);
    CHECK(p.order == ByteOrder::ABCD);
    LONGS_EQUAL(1, p.count);
    CHECK_FALSE(p.is_array);
    CHECK_FALSE(p.scale.has_value());
    CHECK_FALSE(p.offset.has_value());
    CHECK_FALSE(p.bit.has_value());
    CHECK_FALSE(p.quality);
    CHECK_FALSE(p.as_string);
    LONGS_EQUAL(1, p.width());
}

TEST(PointGrammar, address_accepts_hex) {
    LONGS_EQUAL(0x1F4, ok("input:0x1f4 int16").address);
}

TEST(PointGrammar, every_option_parses_in_any_order) {
    const auto p = ok("holding:100 float32 as=string quality offset=-2.5 DCBA scale=1e-3");
    CHECK(p.type == ValueType::Float32);
    CHECK(p.order == ByteOrder::DCBA);
    DOUBLES_EQUAL(0.001, *p.scale, 1e-12);
    DOUBLES_EQUAL(-2.5, *p.offset, 0);
    CHECK_TRUE(p.quality);
    CHECK_TRUE(p.as_string);
}

TEST(PointGrammar, widths_follow_the_type) {
    LONGS_EQUAL(2, ok("holding:0 int32").width());
    LONGS_EQUAL(2, ok("holding:0 uint32 CDAB").width());
    LONGS_EQUAL(4, ok("holding:0 int64 BADC").width());
    LONGS_EQUAL(4, ok("input:0 uint64").width());
    LONGS_EQUAL(4, ok("input:0 float64").width());
    LONGS_EQUAL(1, ok("coil:0 bool").width());
}

TEST(PointGrammar, string_takes_its_length_in_registers) {
    const auto p = ok("holding:10 string[8]");
    CHECK(p.type == ValueType::String);
    LONGS_EQUAL(8, p.string_length);
    LONGS_EQUAL(1, p.count);
    CHECK_FALSE(p.is_array);
    LONGS_EQUAL(8, p.width());
}

TEST(PointGrammar, array_multiplies_the_element_width) {
    const auto p = ok("holding:200 float32[3] CDAB as=string");
    CHECK_TRUE(p.is_array);
    LONGS_EQUAL(3, p.count);
    CHECK(p.order == ByteOrder::CDAB);
    LONGS_EQUAL(6, p.width());
    LONGS_EQUAL(16, ok("discrete:0 bool[16]").width());
}

TEST(PointGrammar, array_of_one_is_still_an_array) {
    const auto p = ok("holding:0 int16[1]");
    CHECK_TRUE(p.is_array);
    LONGS_EQUAL(1, p.count);
}

TEST(PointGrammar, bit_of_a_register_is_a_uint16_option) {
    const auto p = ok("holding:7 uint16 bit=15");
    LONGS_EQUAL(15, *p.bit);
    LONGS_EQUAL(3, *ok("input:7 int16 bit=3").bit);
}

TEST(PointGrammar, int16_accepts_byte_swap_only) {
    CHECK(ok("holding:0 int16 BADC").order == ByteOrder::BADC);
    CHECK(ok("holding:0 uint16 ABCD").order == ByteOrder::ABCD);
    fails("holding:0 int16 CDAB", "word order on a 16-bit type");
    fails("holding:0 uint16 DCBA", "word order on a 16-bit type");
}

TEST(PointGrammar, point_fits_exactly_at_the_end_of_the_table) {
    LONGS_EQUAL(65534, ok("holding:65534 float32").address);
    LONGS_EQUAL(65535, ok("coil:65535 bool").address);
}

TEST(PointGrammar, point_past_the_end_of_the_table_is_refused) {
    fails("holding:65535 float32", "point runs past the end of the table");
    fails("input:65533 float64", "point runs past the end of the table");
    fails("coil:65535 bool[2]", "point runs past the end of the table");
    fails("holding:65530 string[10]", "point runs past the end of the table");
}

TEST(PointGrammar, point_wider_than_one_read_is_refused) {
    LONGS_EQUAL(124, ok("holding:0 float64[31]").width());
    fails("holding:0 float64[32]", "point occupies 128 registers");
    fails("holding:0 string[126]", "string needs its length");
}

TEST(PointGrammar, table_and_address_errors_name_the_text) {
    fails("holding100 uint16", "expected <table>:<address>, got \"holding100\"");
    fails("register:1 uint16", "unknown table \"register\"");
    fails("holding:65536 uint16", "bad address \"65536\"");
    fails("holding:-1 uint16", "bad address \"-1\"");
    fails("holding:12x uint16", "bad address \"12x\"");
    fails("holding: uint16", "bad address \"\"");
    fails("holding:99999999999999999999999 uint16", "bad address");
}

TEST(PointGrammar, type_errors_name_the_text) {
    fails("holding:0", "no type");
    fails("holding:0 float", "unknown type \"float\"");
    fails("holding:0 int16[", "unknown type \"int16[\"");
    fails("holding:0 int16[x]", "unknown type \"int16[x]\"");
    fails("holding:0 string", "string needs its length");
    fails("holding:0 string[0]", "string needs its length");
    fails("holding:0 int16[0]", "array length \"int16[0]\" out of range");
    fails("holding:0 int16[129]", "array length \"int16[129]\" out of range");
}

TEST(PointGrammar, bit_tables_hold_only_bool) {
    fails("coil:0 int16", "coil table holds single bits");
    fails("discrete:0 float32", "discrete table holds single bits");
    fails("holding:0 bool", "bool needs a coil or discrete table");
}

TEST(PointGrammar, bit_option_errors) {
    fails("holding:0 uint16 bit=16", "bad bit in \"bit=16\"");
    fails("holding:0 uint16 bit=x", "bad bit in \"bit=x\"");
    fails("holding:0 float32 bit=1", "bit=N applies to a single int16 or uint16 only");
    fails("holding:0 uint16[2] bit=1", "bit=N applies to a single int16 or uint16 only");
    fails("coil:0 bool bit=1", "bit=N on a bit table");
    fails("holding:0 uint16 bit=1 scale=2", "scale/offset with bit=N");
}

TEST(PointGrammar, options_that_do_not_apply_to_the_type_are_refused) {
    fails("holding:0 string[4] ABCD", "byte order on a bool or string");
    fails("coil:0 bool CDAB", "byte order on a bool or string");
    fails("coil:0 bool scale=2", "scale/offset on a bool or string");
    fails("holding:0 string[4] offset=1", "scale/offset on a bool or string");
    fails("holding:0 string[4] as=string", "as=string on a string");
}

TEST(PointGrammar, bad_numbers_are_refused) {
    fails("holding:0 int16 scale=abc", "bad number in \"scale=abc\"");
    fails("holding:0 int16 scale=nan", "bad number in \"scale=nan\"");
    fails("holding:0 int16 offset=inf", "bad number in \"offset=inf\"");
    fails("holding:0 int16 scale=1e999", "bad number in \"scale=1e999\"");
    fails("holding:0 int16 scale=", "bad number in \"scale=\"");
}

TEST(PointGrammar, unknown_token_is_named) {
    fails("holding:0 int16 qualty", "unknown token \"qualty\"");
    fails("holding:0 int16 as=number", "unknown token \"as=number\"");
    fails("holding:0 int16 abcd", "unknown token \"abcd\"");
}

TEST(PointGrammar, option_given_twice_is_refused) {
    fails("holding:0 int32 ABCD CDAB", "byte order given twice");
    fails("holding:0 int32 quality quality", "\"quality\" given twice");
    fails("holding:0 int32 scale=1 scale=2", "\"scale\" given twice");
}

TEST(PointGrammar, id_must_be_an_identifier) {
    CHECK_TRUE(is_point_id("_a1"));
    CHECK_FALSE(is_point_id("1a"));
    CHECK_FALSE(is_point_id("a-b"));
    CHECK_FALSE(is_point_id(""));
    fails("holding:0 int16", "bad point id \"a.b\"", "a.b");
}

TEST(PointGrammar, empty_definition_is_refused) {
    fails("   ", "no point definition");
}

TEST(PointGrammar, every_problem_of_a_line_is_reported) {
    const auto r = parse_point("9x", "tables:x floaty junk");
    CHECK_FALSE(r.point.has_value());
    LONGS_EQUAL(5, r.errors.size());  // id, table, address, type, token
}

TEST(PointGrammar, writable_on_holding_and_coil_points) {
    CHECK_TRUE(ok("holding:10 float32 CDAB scale=0.1 writable").writable);
    CHECK_TRUE(ok("coil:3 bool writable").writable);
    CHECK_FALSE(ok("holding:10 float32").writable);
    fails("input:10 int16 writable", "input points are read-only");
    fails("discrete:1 bool writable", "discrete points are read-only");
    fails("holding:7 uint16 bit=3 writable", "writable with bit=N");
    fails("holding:7 uint16 writable writable", "\"writable\" given twice");
}
