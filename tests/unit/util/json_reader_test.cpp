#include "fieldgate/util/json_reader.hpp"

#include <CppUTest/TestHarness.h>

#include <cmath>
#include <string>

using fieldgate::util::append_json;
using fieldgate::util::JsonValue;
using fieldgate::util::parse_json;
using Kind = JsonValue::Kind;

namespace {

JsonValue good(const std::string& text) {
    JsonValue v;
    std::string error;
    if (!parse_json(text, v, error)) FAIL(("refused " + text + ": " + error).c_str());
    return v;
}

void bad(const std::string& text, const char* why) {
    JsonValue v;
    std::string error;
    CHECK_FALSE_TEXT(parse_json(text, v, error), text.c_str());
    if (error.find(why) == std::string::npos) FAIL(("error \"" + error + "\" lacks \"" + why + "\"").c_str());
}

}  // namespace

TEST_GROUP(JsonReader){};

TEST(JsonReader, object_members_keep_their_document_order) {
    const auto v = good(R"({"z":1, "a":2 ,"m":{"y":true,"b":null}})");
    CHECK(v.kind == Kind::Object);
    LONGS_EQUAL(3, v.members.size());
    STRCMP_EQUAL("z", v.members[0].first.c_str());
    STRCMP_EQUAL("a", v.members[1].first.c_str());
    STRCMP_EQUAL("m", v.members[2].first.c_str());
    STRCMP_EQUAL("y", v.members[2].second.members[0].first.c_str());
    CHECK(v.find("m")->find("b")->kind == Kind::Null);
    POINTERS_EQUAL(nullptr, v.find("q"));
}

TEST(JsonReader, integers_stay_exact_and_larger_numbers_become_doubles) {
    CHECK(good("18446744073709551615").u == 18446744073709551615ULL);
    CHECK(good("18446744073709551615").kind == Kind::Uint);
    CHECK(good("-9223372036854775808").i == INT64_MIN);
    CHECK(good("-9223372036854775808").kind == Kind::Int);
    CHECK(good("-0").kind == Kind::Uint);
    CHECK(good("18446744073709551616").kind == Kind::Double);
    CHECK(good("1.0").kind == Kind::Double);
    DOUBLES_EQUAL(-1.5e-3, good("-1.5E-3").d, 0);
    bad("1e999", "out of range");
    bad("01", "unexpected text");
    bad("1.", "bad number");
    bad("-", "expected a value");
    bad("+1", "expected a value");
}

TEST(JsonReader, strings_unescape_to_utf8) {
    STRCMP_EQUAL("a\"\\/\b\f\n\r\t", good(R"("a\"\\\/\b\f\n\r\t")").s.c_str());
    STRCMP_EQUAL("\xC3\xA9\xE2\x82\xAC", good(R"("\u00e9\u20AC")").s.c_str());
    STRCMP_EQUAL("\xF0\x9F\x98\x80", good(R"("\ud83d\ude00")").s.c_str());
    STRCMP_EQUAL("caf\xC3\xA9", good("\"caf\xC3\xA9\"").s.c_str());
    bad(R"("\ud83d")", "lone high surrogate");
    bad(R"("\ude00")", "lone low surrogate");
    bad(R"("\x")", "bad escape");
    bad(R"("\u12zz")", "bad \\u escape");
    bad(R"("\u12")", "short \\u escape");
    bad("\"a\x01\"", "control character");
    bad("\"\xC0\xAF\"", "invalid UTF-8");
    bad("\"\xED\xA0\x80\"", "invalid UTF-8");
    bad("\"\xE2\x82\"", "invalid UTF-8");
    bad("\"abc", "unterminated string");
}

TEST(JsonReader, only_one_strict_document_is_accepted) {
    CHECK(good(" [ 1 , [ ] , { } , \"x\" ] ").items.size() == 4);
    bad("", "expected a value");
    bad("[1,]", "expected a value");
    bad("{\"a\":1,}", "expected a member name");
    bad("{\"a\" 1}", "expected ':'");
    bad("{\"a\":1} x", "unexpected text after the document");
    bad("[1 2]", "expected ',' or ']'");
    bad("tru", "invalid literal");
    bad("{a:1}", "expected a member name");
    bad(std::string(40, '[') + std::string(40, ']'), "nesting too deep");
    CHECK(good(std::string(30, '[') + std::string(30, ']')).kind == Kind::Array);
}

TEST(JsonReader, append_json_writes_back_what_was_read) {
    const char* texts[] = {R"({"z":1,"a":[true,false,null],"v":{"value":21.53,"quality":0}})",
                           "-9223372036854775808",
                           "18446744073709551615",
                           "123.456",
                           "1e+300",
                           R"("caf\u00e9 \"q\"")"};
    for (const char* t : texts) {
        std::string out;
        append_json(out, good(t));
        std::string again;
        append_json(again, good(out));
        STRCMP_EQUAL(out.c_str(), again.c_str());
    }
    std::string out;
    append_json(out, good(R"({"z":1,"a":[true,false,null],"v":{"value":21.53,"quality":0}})"));
    STRCMP_EQUAL(R"({"z":1,"a":[true,false,null],"v":{"value":21.53,"quality":0}})", out.c_str());
    out.clear();
    append_json(out, good("123.456"));
    STRCMP_EQUAL("123.456", out.c_str());
}

TEST(JsonReader, negative_zero_stays_a_negative_double) {
    // Found by make fuzz (corpus service/crash-negative-zero): "-0.0" came back as "-0", which
    // reads as the integer 0, so a float point would have lost its sign bit.
    std::string out;
    append_json(out, good("-0.0"));
    STRCMP_EQUAL("-0.0", out.c_str());
    const JsonValue again = good(out);
    CHECK(again.kind == Kind::Double);
    CHECK(std::signbit(again.d));
    out.clear();
    append_json(out, good("-0"));
    STRCMP_EQUAL("0", out.c_str());
}
