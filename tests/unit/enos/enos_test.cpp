
#include "fieldgate/enos/batch.hpp"
#include "fieldgate/enos/sign.hpp"
#include "fieldgate/enos/topics.hpp"

// CppUTest's leak detector redefines new: it comes after every other header.
#include <CppUTest/TestHarness.h>

using namespace fieldgate::enos;

TEST_GROUP(Sign){};

TEST(Sign, matches_the_protocol_test_vector) {
    // ENOS-PROTOCOL.md: sha256("clientId123456deviceKeytestproductKey654321timestamp1548753362502abcdefg")
    const auto s =
        sign({{"productKey", "654321"}, {"timestamp", "1548753362502"}, {"clientId", "123456"}, {"deviceKey", "test"}},
             "abcdefg");
    STRCMP_EQUAL("B99032D49C706F7B27B22AB5CD2DD3C56A31E1BCBBC83BA0A2A6BB3272FBB166", s.c_str());
}

TEST(Sign, connect_fields_follow_the_hub_format) {
    const auto c = connect_credentials("pk", "dk", "secret", 1700000000000);
    STRCMP_EQUAL("pk.dk|securemode=2,signmethod=sha256,timestamp=1700000000000|", c.client_id.c_str());
    STRCMP_EQUAL("dk&pk", c.username.c_str());
    const auto expected = sha256_hex("clientIdpk.dkdeviceKeydkproductKeypktimestamp1700000000000secret");
    STRCMP_EQUAL(expected.c_str(), c.password.c_str());
}

TEST_GROUP(Topics){};

TEST(Topics, live_under_the_gateway_keys) {
    Topics t("gwPk", "gwDk");
    STRCMP_EQUAL("/sys/gwPk/gwDk/thing/measurepoint/post/batch", t.post_batch().c_str());
    STRCMP_EQUAL("/sys/gwPk/gwDk/thing/measurepoint/resume/batch", t.resume_batch().c_str());
    STRCMP_EQUAL("/ext/session/gwPk/gwDk/combine/login/batch", t.login_batch().c_str());
    STRCMP_EQUAL("/sys/gwPk/gwDk/thing/measurepoint/post/batch_reply", Topics::reply_of(t.post_batch()).c_str());
}

TEST_GROUP(BatchEncoding){};

TEST(BatchEncoding, record_of_a_subdevice_carries_its_keys) {
    const auto r = encode_record("subPk", "subDk", 1700000000123, "{\"temp\":1.02}");
    STRCMP_EQUAL(
        "{\"productKey\":\"subPk\",\"deviceKey\":\"subDk\",\"time\":1700000000123,\"measurepoints\":{\"temp\":1.02}}",
        r.c_str());
}

TEST(BatchEncoding, record_of_the_gateway_leaves_the_keys_out) {
    const auto r = encode_record("", "", 5, "{\"a\":1}");
    STRCMP_EQUAL("{\"time\":5,\"measurepoints\":{\"a\":1}}", r.c_str());
}

TEST(BatchEncoding, batch_is_the_seed_format_built_by_concatenation) {
    const std::string a = encode_record("p", "d1", 1, "{\"x\":1}");
    const std::string b = encode_record("p", "d2", 2, "{\"x\":2}");
    BatchFlags flags;
    flags.allow_offline_subdevice = true;
    const auto body = encode_batch("42", flags, {a, b});
    STRCMP_EQUAL(
        "{\"id\":\"42\",\"version\":\"1.0\",\"method\":\"thing.measurepoint.post.batch\","
        "\"allowOfflineSubDevice\":true,\"skipInvalidMeasurepoints\":false,\"params\":["
        "{\"productKey\":\"p\",\"deviceKey\":\"d1\",\"time\":1,\"measurepoints\":{\"x\":1}},"
        "{\"productKey\":\"p\",\"deviceKey\":\"d2\",\"time\":2,\"measurepoints\":{\"x\":2}}]}",
        body.c_str());
    CHECK(body.size() <= batch_overhead_bytes(2) + a.size() + b.size() + 2);
}

TEST(BatchEncoding, resume_batch_names_its_method) {
    BatchFlags flags;
    flags.resume = true;
    flags.skip_invalid_measurepoints = true;
    const auto body = encode_batch("7", flags, {});
    CHECK(body.find("\"method\":\"thing.measurepoint.resume.batch\"") != std::string::npos);
    CHECK(body.find("\"skipInvalidMeasurepoints\":true") != std::string::npos);
    CHECK(body.find("\"params\":[]") != std::string::npos);
}

TEST_GROUP(ReplyParsing){};

TEST(ReplyParsing, reads_id_code_and_message) {
    const auto r = parse_reply("{\"id\":\"12\",\"code\":1204,\"data\":{},\"message\":\"Model validate failed\"}");
    CHECK(r.has_value());
    STRCMP_EQUAL("12", r->id.c_str());
    LONGS_EQUAL(1204, r->code);
    STRCMP_EQUAL("Model validate failed", r->message.c_str());
}

TEST(ReplyParsing, refuses_what_is_not_a_reply) {
    CHECK_FALSE(parse_reply("not json"));
    CHECK_FALSE(parse_reply("[1,2]"));
    CHECK_FALSE(parse_reply("{\"id\":12,\"code\":200}"));  // id must be a string
    CHECK_FALSE(parse_reply("{\"id\":\"12\",\"code\":\"200\"}"));
    CHECK_FALSE(parse_reply("{\"id\":\"12\"}"));
    CHECK_FALSE(parse_reply(""));
}

TEST(ReplyParsing, policy_maps_every_code_family) {
    CHECK(classify(200) == ReplyAction::Delete);
    CHECK(classify(1204) == ReplyAction::Bisect);
    CHECK(classify(1206) == ReplyAction::Bisect);
    CHECK(classify(1220) == ReplyAction::Bisect);
    CHECK(classify(1212) == ReplyAction::Relogin);
    CHECK(classify(1008) == ReplyAction::Shrink);
    CHECK(classify(1009) == ReplyAction::Retry);
    CHECK(classify(500) == ReplyAction::Retry);
    CHECK(classify(0) == ReplyAction::Retry);
}
