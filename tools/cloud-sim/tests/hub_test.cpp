#include <json/json.h>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "fieldgate/enos/sign.hpp"
#include "hub.hpp"

// Last: CppUTest redefines new for leak detection, which must not reach the other headers.
#include <CppUTest/TestHarness.h>

using namespace fieldgate::cloudsim;

namespace {

constexpr std::int64_t kNow = 1'700'000'000'000;

HubConfig test_config() {
    HubConfig c;
    c.product_key = "gwPk";
    c.device_key = "gwDk";
    c.device_secret = "gwSecret";
    c.products["demoMeter"] = {{"tick", PointType::Integer}, {"power", PointType::Number}, {"name", PointType::String},
                               {"on", PointType::Bool},      {"branch", PointType::Array}, {"extra", PointType::Any}};
    c.products["gwPk"] = {{"cpu", PointType::Number}};
    c.devices.push_back({"meter1", "demoMeter", "meter1", "meter1Secret"});
    c.devices.push_back({"meter2", "demoMeter", "meter2", "meter2Secret"});
    c.devices.push_back({"free1", "freePk", "free1", "free1Secret"});  // product without a model
    return c;
}

Json::Value parse(const std::string& text) {
    Json::Value v;
    std::istringstream in(text);
    Json::CharReaderBuilder b;
    std::string errs;
    if (!Json::parseFromStream(b, in, &v, &errs)) FAIL(("not JSON: " + text).c_str());
    return v;
}

std::vector<Json::Value> record_lines(const Outcome& o) {
    std::vector<Json::Value> out;
    std::istringstream in(o.records);
    std::string line;
    while (std::getline(in, line))
        out.push_back(parse(line));
    return out;
}

std::string batch(const std::string& params, const std::string& extra = "",
                  const std::string& method = "thing.measurepoint.post.batch") {
    return R"({"id":"42","version":"1.0","method":")" + method + "\"" + extra + R"(,"params":)" + params + "}";
}

std::string login_request(const std::string& pk, const std::string& dk, const std::string& secret,
                          const std::string& id = "7") {
    const std::string client_id = pk + "." + dk;
    const std::string ts = "1700000000000";
    const std::string s = fieldgate::enos::sign(
        {{"clientId", client_id}, {"deviceKey", dk}, {"productKey", pk}, {"timestamp", ts}}, secret);
    return R"({"id":")" + id + R"(","version":"1.0","method":"combine.login","params":{"productKey":")" + pk +
           R"(","deviceKey":")" + dk + R"(","clientId":")" + client_id + R"(","timestamp":")" + ts +
           R"(","signMethod":"sha256","secureMode":"2","sign":")" + s + R"("}})";
}

int reply_code(const Outcome& o) {
    return parse(o.reply_body)["code"].asInt();
}

}  // namespace

TEST_GROUP(CloudSimHub) {
    Hub* hub = nullptr;
    void setup() override {
        hub = new Hub(test_config());
    }
    void teardown() override {
        delete hub;
    }

    Outcome post(const std::string& payload) {
        return hub->handle(RequestKind::PostBatch, payload, kNow);
    }
    void login_meter1() {
        CHECK_EQUAL(200,
                    hub->handle(RequestKind::Login, login_request("demoMeter", "meter1", "meter1Secret"), kNow).code);
    }
};

TEST(CloudSimHub, topics_and_reply_topics_follow_the_gateway_keys) {
    const auto topics = hub->topics();
    CHECK_EQUAL(5U, topics.size());
    CHECK(hub->kind_of("/sys/gwPk/gwDk/thing/measurepoint/post/batch") == RequestKind::PostBatch);
    CHECK(hub->kind_of("/sys/gwPk/gwDk/thing/measurepoint/resume/batch") == RequestKind::ResumeBatch);
    CHECK(hub->kind_of("/ext/session/gwPk/gwDk/combine/login") == RequestKind::Login);
    CHECK(hub->kind_of("/ext/session/gwPk/gwDk/combine/login/batch") == RequestKind::LoginBatch);
    CHECK(hub->kind_of("/ext/session/gwPk/gwDk/combine/logout") == RequestKind::Logout);
    CHECK(!hub->kind_of("/sys/other/gwDk/thing/measurepoint/post/batch"));
    STRCMP_EQUAL("/sys/gwPk/gwDk/thing/measurepoint/post/batch_reply",
                 hub->reply_topic(RequestKind::PostBatch).c_str());
}

TEST(CloudSimHub, valid_batch_of_logged_in_subdevice_is_200_and_every_record_is_written) {
    login_meter1();
    const Outcome o = post(batch(
        R"([{"productKey":"demoMeter","deviceKey":"meter1","time":1700000000123,"measurepoints":{"tick":5,"power":1.5,"name":"a","on":1,"branch":["1.02",2],"extra":{"value":3,"quality":9}}},)"
        R"({"productKey":"demoMeter","deviceKey":"meter1","time":1700000000456,"measurepoints":{"tick":6}}])"));
    CHECK_EQUAL(200, o.code);
    CHECK(o.send_reply);
    const Json::Value reply = parse(o.reply_body);
    STRCMP_EQUAL("42", reply["id"].asCString());
    CHECK_EQUAL(200, reply["code"].asInt());
    CHECK(reply["data"].isObject());
    CHECK(reply["message"].isString());
    CHECK_EQUAL(2U, o.records_accepted);
    const auto lines = record_lines(o);
    CHECK_EQUAL(2U, lines.size());
    STRCMP_EQUAL("post", lines[0]["topic"].asCString());
    STRCMP_EQUAL("42", lines[0]["request_id"].asCString());
    STRCMP_EQUAL("demoMeter", lines[0]["productKey"].asCString());
    STRCMP_EQUAL("meter1", lines[0]["deviceKey"].asCString());
    CHECK_EQUAL(1700000000123LL, lines[0]["time"].asInt64());
    CHECK_EQUAL(5, lines[0]["measurepoints"]["tick"].asInt());
    DOUBLES_EQUAL(1.5, lines[0]["measurepoints"]["power"].asDouble(), 0.0);
    CHECK_EQUAL(9, lines[0]["measurepoints"]["extra"]["quality"].asInt());  // kept as sent
    CHECK_EQUAL(6, lines[1]["measurepoints"]["tick"].asInt());
}

TEST(CloudSimHub, gateway_records_carry_the_gateway_keys_and_use_its_model) {
    Outcome o = post(batch(R"([{"time":1,"measurepoints":{"cpu":12.5}}])"));
    CHECK_EQUAL(200, o.code);
    const auto lines = record_lines(o);
    STRCMP_EQUAL("gwPk", lines[0]["productKey"].asCString());
    STRCMP_EQUAL("gwDk", lines[0]["deviceKey"].asCString());
    CHECK_EQUAL(1204, post(batch(R"([{"time":1,"measurepoints":{"tick":1}}])")).code);
    // The gateway named explicitly is still the gateway: no login needed.
    CHECK_EQUAL(200,
                post(batch(R"([{"productKey":"gwPk","deviceKey":"gwDk","time":1,"measurepoints":{"cpu":1}}])")).code);
}

TEST(CloudSimHub, records_keep_numbers_exactly_as_sent_on_one_line_each) {
    login_meter1();
    Outcome o = post(batch(
        R"([{"productKey":"demoMeter","deviceKey":"meter1","time":1,"measurepoints":{"power":21.37,"tick":1}}])"));
    STRCMP_CONTAINS(R"("measurepoints":{"power":21.37,"tick":1}})", o.records.c_str());
    o = post(
        batch(R"([{"productKey":"demoMeter","deviceKey":"meter1","time":1,"measurepoints":{"power":21.37,"nope":1}}])",
              R"(,"skipInvalidMeasurepoints":true)"));
    STRCMP_CONTAINS(R"("measurepoints":{"power":21.37}})", o.records.c_str());
    // A pretty-printed request still gives one line per record.
    o = post(
        "{\n \"id\": \"p\",\n \"version\": \"1.0\",\n \"method\": \"thing.measurepoint.post.batch\",\n"
        " \"params\": [\n  {\"productKey\": \"demoMeter\", \"deviceKey\": \"meter1\", \"time\": 5,\n"
        "   \"measurepoints\": {\n    \"tick\": 1,\n    \"power\": 2.5\n   }\n  }\n ]\n}");
    CHECK_EQUAL(200, o.code);
    CHECK_EQUAL(1, static_cast<int>(std::count(o.records.begin(), o.records.end(), '\n')));
    CHECK_EQUAL(2U, record_lines(o)[0]["measurepoints"].size());
}

TEST(CloudSimHub, resume_records_are_marked_resume) {
    login_meter1();
    const Outcome o =
        hub->handle(RequestKind::ResumeBatch,
                    batch(R"([{"productKey":"demoMeter","deviceKey":"meter1","time":1,"measurepoints":{"tick":1}}])",
                          "", "thing.measurepoint.resume.batch"),
                    kNow);
    CHECK_EQUAL(200, o.code);
    STRCMP_EQUAL("resume", record_lines(o)[0]["topic"].asCString());
}

TEST(CloudSimHub, omitted_time_is_server_time) {
    const auto lines = record_lines(post(batch(R"([{"measurepoints":{"cpu":1}}])")));
    CHECK_EQUAL(kNow, lines[0]["time"].asInt64());
}

TEST(CloudSimHub, unknown_point_is_1204_and_nothing_is_recorded) {
    login_meter1();
    const Outcome o =
        post(batch(R"([{"productKey":"demoMeter","deviceKey":"meter1","time":1,"measurepoints":{"tick":1}},)"
                   R"({"productKey":"demoMeter","deviceKey":"meter1","time":2,"measurepoints":{"nope":1}}])"));
    CHECK_EQUAL(1204, o.code);
    CHECK_EQUAL(1204, reply_code(o));
    CHECK(o.records.empty());
    CHECK_EQUAL(0U, o.records_accepted);
}

TEST(CloudSimHub, value_types_are_checked_against_the_model) {
    login_meter1();
    auto one = [&](const std::string& points) {
        return post(batch(R"([{"productKey":"demoMeter","deviceKey":"meter1","time":1,"measurepoints":)" + points +
                          "}]"))
            .code;
    };
    CHECK_EQUAL(1204, one(R"({"tick":1.5})"));  // integer given a real
    CHECK_EQUAL(1204, one(R"({"tick":1.0})"));  // a real, even when integral
    CHECK_EQUAL(1204, one(R"({"tick":"1"})"));  // integer given a string
    CHECK_EQUAL(200, one(R"({"power":3})"));    // an integer is a number
    CHECK_EQUAL(1204, one(R"({"power":"3"})"));
    CHECK_EQUAL(1204, one(R"({"power":true})"));
    CHECK_EQUAL(1204, one(R"({"power":null})"));
    CHECK_EQUAL(1204, one(R"({"name":1})"));
    CHECK_EQUAL(200, one(R"({"on":true})"));
    CHECK_EQUAL(200, one(R"({"on":0})"));
    CHECK_EQUAL(1204, one(R"({"on":2})"));
    CHECK_EQUAL(1204, one(R"({"branch":1})"));
    CHECK_EQUAL(1204, one(R"({"branch":[{"a":1}]})"));
    CHECK_EQUAL(200, one(R"({"extra":[1,"x"]})"));
    std::string big = "[";
    for (int i = 0; i < 129; ++i)
        big += (i ? ",1" : "1");
    big += "]";
    CHECK_EQUAL(1204, one(R"({"branch":)" + big + "}"));
}

TEST(CloudSimHub, quality_wrapper_unwraps_and_is_checked) {
    login_meter1();
    auto one = [&](const std::string& points) {
        return post(batch(R"([{"productKey":"demoMeter","deviceKey":"meter1","time":1,"measurepoints":)" + points +
                          "}]"))
            .code;
    };
    CHECK_EQUAL(200, one(R"({"power":{"value":1.5,"quality":0}})"));
    CHECK_EQUAL(200, one(R"({"tick":{"value":1,"quality":9}})"));
    CHECK_EQUAL(1204, one(R"({"tick":{"value":1.5,"quality":9}})"));
    CHECK_EQUAL(1204, one(R"({"power":{"value":1,"quality":10}})"));
    CHECK_EQUAL(1204, one(R"({"power":{"value":1,"quality":"9"}})"));
    CHECK_EQUAL(1204, one(R"({"power":{"value":1}})"));
    CHECK_EQUAL(1204, one(R"({"power":{"value":1,"quality":1,"x":2}})"));
}

TEST(CloudSimHub, skip_invalid_measurepoints_drops_only_the_bad_points) {
    login_meter1();
    const Outcome o = post(batch(
        R"([{"productKey":"demoMeter","deviceKey":"meter1","time":1,"measurepoints":{"tick":1,"nope":2,"power":"x"}},)"
        R"({"productKey":"demoMeter","deviceKey":"meter1","time":2,"measurepoints":{"nope":3}}])",
        R"(,"skipInvalidMeasurepoints":true)"));
    CHECK_EQUAL(200, o.code);
    CHECK_EQUAL(3U, o.points_dropped);
    const auto lines = record_lines(o);
    CHECK_EQUAL(1U, lines.size());  // the second record lost every point: nothing to store
    CHECK_EQUAL(1U, o.records_accepted);
    CHECK_EQUAL(1U, lines[0]["measurepoints"].size());
    CHECK_EQUAL(1, lines[0]["measurepoints"]["tick"].asInt());
}

TEST(CloudSimHub, unknown_subdevice_is_1212) {
    const Outcome o =
        post(batch(R"([{"productKey":"demoMeter","deviceKey":"meter9","time":1,"measurepoints":{"tick":1}}])",
                   R"(,"allowOfflineSubDevice":true)"));
    CHECK_EQUAL(1212, o.code);
    CHECK(o.records.empty());
}

TEST(CloudSimHub, subdevice_not_logged_in_is_1212_unless_offline_is_allowed) {
    const std::string params =
        R"([{"productKey":"demoMeter","deviceKey":"meter2","time":1,"measurepoints":{"tick":1}}])";
    CHECK_EQUAL(1212, post(batch(params)).code);
    CHECK_EQUAL(1212, post(batch(params, R"(,"allowOfflineSubDevice":false)")).code);
    CHECK_EQUAL(200, post(batch(params, R"(,"allowOfflineSubDevice":true)")).code);
}

TEST(CloudSimHub, product_without_model_accepts_any_point) {
    const Outcome o =
        post(batch(R"([{"productKey":"freePk","deviceKey":"free1","time":1,"measurepoints":{"whatever":"x"}}])",
                   R"(,"allowOfflineSubDevice":true)"));
    CHECK_EQUAL(200, o.code);
}

TEST(CloudSimHub, malformed_requests_get_their_codes) {
    CHECK_EQUAL(1251, post("").code);
    const Outcome garbage = post("{not json");
    CHECK_EQUAL(1220, garbage.code);
    STRCMP_EQUAL("", parse(garbage.reply_body)["id"].asCString());
    CHECK_EQUAL(1206, post("[1,2]").code);
    CHECK_EQUAL(1206, post(R"({"version":"1.0","method":"thing.measurepoint.post.batch","params":[]})").code);
    CHECK_EQUAL(1206, post(R"({"id":5,"version":"1.0","method":"thing.measurepoint.post.batch","params":[]})").code);
    CHECK_EQUAL(
        1206,
        post(R"({"id":"1","version":"2.0","method":"thing.measurepoint.post.batch","params":[{"measurepoints":{}}]})")
            .code);
    CHECK_EQUAL(1206,
                post(R"({"id":"1","method":"thing.measurepoint.post.batch","params":[{"measurepoints":{}}]})").code);
    CHECK_EQUAL(1260, post(batch(R"([{"measurepoints":{"cpu":1}}])", "", "thing.measurepoint.resume.batch")).code);
    CHECK_EQUAL(1260, post(R"({"id":"1","version":"1.0","params":[{"measurepoints":{}}]})").code);
    CHECK_EQUAL(1206, post(R"({"id":"1","version":"1.0","method":"thing.measurepoint.post.batch"})").code);
    CHECK_EQUAL(1206, post(batch(R"({"a":1})")).code);
    CHECK_EQUAL(1251, post(batch("[]")).code);
    CHECK_EQUAL(1206, post(batch("[1]")).code);
    CHECK_EQUAL(1206, post(batch(R"([{"productKey":"demoMeter","time":1,"measurepoints":{}}])")).code);
    CHECK_EQUAL(1206, post(batch(R"([{"productKey":"demoMeter","deviceKey":7,"time":1,"measurepoints":{}}])")).code);
    CHECK_EQUAL(1206, post(batch(R"([{"time":1.5,"measurepoints":{"cpu":1}}])")).code);
    CHECK_EQUAL(1206, post(batch(R"([{"time":"1","measurepoints":{"cpu":1}}])")).code);
    CHECK_EQUAL(1206, post(batch(R"([{"time":-1,"measurepoints":{"cpu":1}}])")).code);
    CHECK_EQUAL(1206, post(batch(R"([{"time":1}])")).code);
    CHECK_EQUAL(1206, post(batch(R"([{"time":1,"measurepoints":[1]}])")).code);
    CHECK_EQUAL(1206, post(batch(R"([{"measurepoints":{"cpu":1}}])", R"(,"skipInvalidMeasurepoints":"yes")")).code);
    CHECK_EQUAL(1206, post(batch(R"([{"measurepoints":{"cpu":1}}])", R"(,"allowOfflineSubDevice":1)")).code);
    // Every malformed request keeps its id in the reply when it has one.
    STRCMP_EQUAL("42", parse(post(batch("[1]")).reply_body)["id"].asCString());
}

TEST(CloudSimHub, format_errors_anywhere_come_before_model_errors) {
    const Outcome o = post(batch(R"([{"measurepoints":{"nope":1}},{"time":"x","measurepoints":{}}])"));
    CHECK_EQUAL(1206, o.code);
}

TEST(CloudSimHub, the_first_failing_record_decides_between_1212_and_1204) {
    CHECK_EQUAL(
        1204,
        post(
            batch(
                R"([{"measurepoints":{"nope":1}},{"productKey":"demoMeter","deviceKey":"meter9","measurepoints":{}}])"))
            .code);
    CHECK_EQUAL(
        1212,
        post(
            batch(
                R"([{"productKey":"demoMeter","deviceKey":"meter9","measurepoints":{}},{"measurepoints":{"nope":1}}])"))
            .code);
}

TEST(CloudSimHub, login_with_the_right_sign_logs_in) {
    CHECK(!hub->logged_in("demoMeter", "meter1"));
    const Outcome o = hub->handle(RequestKind::Login, login_request("demoMeter", "meter1", "meter1Secret"), kNow);
    CHECK_EQUAL(200, o.code);
    STRCMP_EQUAL("7", parse(o.reply_body)["id"].asCString());
    CHECK(hub->logged_in("demoMeter", "meter1"));
    CHECK_EQUAL(1U, hub->sessions());
}

TEST(CloudSimHub, login_with_a_wrong_sign_is_742_and_an_unknown_device_705) {
    CHECK_EQUAL(742, hub->handle(RequestKind::Login, login_request("demoMeter", "meter1", "wrong"), kNow).code);
    CHECK_EQUAL(705, hub->handle(RequestKind::Login, login_request("demoMeter", "meter9", "x"), kNow).code);
    CHECK_EQUAL(705, hub->handle(RequestKind::Login, login_request("gwPk", "gwDk", "gwSecret"), kNow).code);
    CHECK_EQUAL(0U, hub->sessions());
}

TEST(CloudSimHub, login_accepts_lower_case_sign_and_integer_timestamp) {
    const std::string s = fieldgate::enos::sign(
        {{"clientId", "c"}, {"deviceKey", "meter2"}, {"productKey", "demoMeter"}, {"timestamp", "123"}},
        "meter2Secret");
    std::string lower = s;
    for (auto& ch : lower)
        ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    const std::string req =
        R"({"id":"1","version":"1.0","method":"combine.login","params":{"productKey":"demoMeter","deviceKey":"meter2","clientId":"c","timestamp":123,"signMethod":"sha256","secureMode":"2","sign":")" +
        lower + R"("}})";
    CHECK_EQUAL(200, hub->handle(RequestKind::Login, req, kNow).code);
}

TEST(CloudSimHub, malformed_login_is_1220) {
    CHECK_EQUAL(
        1220,
        hub->handle(RequestKind::Login,
                    R"({"id":"1","version":"1.0","method":"combine.login","params":{"productKey":"demoMeter"}})", kNow)
            .code);
    CHECK_EQUAL(1260, hub->handle(RequestKind::Login,
                                  R"({"id":"1","version":"1.0","method":"combine.logout","params":{}})", kNow)
                          .code);
    CHECK_EQUAL(1220, hub->handle(RequestKind::Login, R"([])", kNow).code);
}

TEST(CloudSimHub, login_batch_reports_each_device_and_723_on_partial_success) {
    const std::string ts = "1700000000000";
    auto sign_of = [&](const std::string& dk, const std::string& secret) {
        return fieldgate::enos::sign(
            {{"clientId", "gw"}, {"deviceKey", dk}, {"productKey", "demoMeter"}, {"timestamp", ts}}, secret);
    };
    const std::string req =
        R"({"id":"9","version":"1.0","method":"combine.login.batch","params":{"clientId":"gw","timestamp":")" + ts +
        R"(","signMethod":"sha256","subDevices":[{"productKey":"demoMeter","deviceKey":"meter1","sign":")" +
        sign_of("meter1", "meter1Secret") + R"("},{"productKey":"demoMeter","deviceKey":"meter2","sign":")" +
        sign_of("meter2", "bad") + R"("},{"productKey":"demoMeter","deviceKey":"meter9","sign":"00"}]}})";
    const Outcome o = hub->handle(RequestKind::LoginBatch, req, kNow);
    CHECK_EQUAL(723, o.code);
    const Json::Value reply = parse(o.reply_body);
    CHECK_EQUAL(1U, reply["data"]["loginedSubDevices"].size());
    STRCMP_EQUAL("meter1", reply["data"]["loginedSubDevices"][0]["deviceKey"].asCString());
    CHECK_EQUAL(2U, reply["data"]["failedSubDevices"].size());
    CHECK_EQUAL(742, reply["data"]["failedSubDevices"][0]["code"].asInt());
    CHECK_EQUAL(705, reply["data"]["failedSubDevices"][1]["code"].asInt());
    CHECK(hub->logged_in("demoMeter", "meter1"));
    CHECK(!hub->logged_in("demoMeter", "meter2"));

    const std::string good =
        R"({"id":"10","version":"1.0","method":"combine.login.batch","params":{"clientId":"gw","timestamp":")" + ts +
        R"(","signMethod":"sha256","subDevices":[{"productKey":"demoMeter","deviceKey":"meter2","sign":")" +
        sign_of("meter2", "meter2Secret") + R"("}]}})";
    CHECK_EQUAL(200, hub->handle(RequestKind::LoginBatch, good, kNow).code);
    CHECK(hub->logged_in("demoMeter", "meter2"));
}

TEST(CloudSimHub, logout_ends_the_session_and_later_batches_get_1212) {
    login_meter1();
    const std::string params =
        R"([{"productKey":"demoMeter","deviceKey":"meter1","time":1,"measurepoints":{"tick":1}}])";
    CHECK_EQUAL(200, post(batch(params)).code);
    const Outcome o = hub->handle(
        RequestKind::Logout,
        R"({"id":"3","version":"1.0","method":"combine.logout","params":{"productKey":"demoMeter","deviceKey":"meter1"}})",
        kNow);
    CHECK_EQUAL(200, o.code);
    CHECK(!hub->logged_in("demoMeter", "meter1"));
    CHECK_EQUAL(1212, post(batch(params)).code);
    CHECK_EQUAL(
        705,
        hub->handle(
               RequestKind::Logout,
               R"({"id":"3","version":"1.0","method":"combine.logout","params":{"productKey":"demoMeter","deviceKey":"meterX"}})",
               kNow)
            .code);
}

TEST(CloudSimHub, logout_all_forgets_every_session) {
    login_meter1();
    hub->logout_all();
    CHECK_EQUAL(0U, hub->sessions());
}

TEST_GROUP(CloudSimHubFaults){};

TEST(CloudSimHubFaults, every_nth_batch_gets_the_forced_code_and_is_not_recorded) {
    HubConfig c = test_config();
    c.faults.reply_code = 1008;
    c.faults.every = 3;
    Hub hub(c);
    const std::string req = batch(R"([{"measurepoints":{"cpu":1}}])");
    // Session requests neither count nor get faults.
    CHECK_EQUAL(200, hub.handle(RequestKind::Login, login_request("demoMeter", "meter1", "meter1Secret"), kNow).code);
    for (int round = 0; round < 2; ++round) {
        CHECK_EQUAL(200, hub.handle(RequestKind::PostBatch, req, kNow).code);
        CHECK_EQUAL(200,
                    hub.handle(RequestKind::ResumeBatch,
                               batch(R"([{"measurepoints":{"cpu":1}}])", "", "thing.measurepoint.resume.batch"), kNow)
                        .code);
        const Outcome forced = hub.handle(RequestKind::PostBatch, req, kNow);
        CHECK_EQUAL(1008, forced.code);
        CHECK(forced.fault_injected);
        CHECK(forced.records.empty());
        STRCMP_EQUAL("42", parse(forced.reply_body)["id"].asCString());
    }
}

TEST(CloudSimHubFaults, dropped_replies_are_still_recorded) {
    HubConfig c = test_config();
    c.faults.drop_replies = 2;
    Hub hub(c);
    const std::string req = batch(R"([{"measurepoints":{"cpu":1}}])");
    for (int i = 0; i < 2; ++i) {
        const Outcome o = hub.handle(RequestKind::PostBatch, req, kNow);
        CHECK(!o.send_reply);
        CHECK_EQUAL(200, o.code);
        CHECK_EQUAL(1U, o.records_accepted);
    }
    CHECK(hub.handle(RequestKind::PostBatch, req, kNow).send_reply);
}

TEST(CloudSimHubFaults, override_reply_discards_the_records) {
    Hub hub(test_config());
    Outcome o = hub.handle(RequestKind::PostBatch, batch(R"([{"measurepoints":{"cpu":1}}])"), kNow);
    hub.override_reply(o, kCodeSimStorageFailed, "disk full");
    CHECK_EQUAL(500, o.code);
    CHECK(o.records.empty());
    CHECK_EQUAL(0U, o.records_accepted);
    CHECK_EQUAL(500, parse(o.reply_body)["code"].asInt());
}

TEST_GROUP(CloudSimPointType){};

TEST(CloudSimPointType, names_round_trip) {
    for (const char* name : {"number", "integer", "string", "bool", "array", "any"}) {
        const auto t = parse_point_type(name);
        CHECK(t.has_value());
        STRCMP_EQUAL(name, std::string(point_type_name(*t)).c_str());
    }
    CHECK(!parse_point_type("float"));
    CHECK(!parse_point_type("Number"));
}
