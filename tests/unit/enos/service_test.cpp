#include "fieldgate/enos/service.hpp"

#include <CppUTest/TestHarness.h>

using fieldgate::enos::parse_service_request;
using fieldgate::enos::parse_service_topic;
using fieldgate::enos::Service;
using fieldgate::enos::service_reply;
using fieldgate::enos::service_topic;

TEST_GROUP(ServiceRequest){};

TEST(ServiceRequest, topics_name_the_device_and_service) {
    STRCMP_EQUAL("/sys/pk/dk/thing/service/measurepoint/set", service_topic("pk", "dk", Service::Set).c_str());
    STRCMP_EQUAL("/sys/pk/dk/thing/service/measurepoint/get", service_topic("pk", "dk", Service::Get).c_str());
    const auto t = parse_service_topic("/sys/subPk/meter-07/thing/service/measurepoint/get");
    CHECK_TRUE(t.has_value());
    STRCMP_EQUAL("subPk", t->product_key.c_str());
    STRCMP_EQUAL("meter-07", t->device_key.c_str());
    CHECK(t->service == Service::Get);
    CHECK_FALSE(parse_service_topic("/sys/pk/dk/thing/service/measurepoint/set_reply").has_value());
    CHECK_FALSE(parse_service_topic("/sys/pk/thing/service/measurepoint/set").has_value());
    CHECK_FALSE(parse_service_topic("/sys/a/b/c/thing/service/measurepoint/set").has_value());
    CHECK_FALSE(parse_service_topic("/ext/session/pk/dk/combine/enable").has_value());
}

TEST(ServiceRequest, a_set_keeps_its_points_in_the_order_given) {
    const auto r = parse_service_request(
        Service::Set,
        R"({"id":"42","version":"1.0","method":"thing.service.measurepoint.set","params":{"z":1,"a":[1,2]}})");
    LONGS_EQUAL(0, r.code);
    STRCMP_EQUAL("42", r.id.c_str());
    LONGS_EQUAL(2, r.params.members.size());
    STRCMP_EQUAL("z", r.params.members[0].first.c_str());
    STRCMP_EQUAL("a", r.params.members[1].first.c_str());
}

TEST(ServiceRequest, a_get_lists_point_ids) {
    const auto r = parse_service_request(Service::Get,
                                         R"({"id":"7","method":"thing.service.measurepoint.get","params":["a","b"]})");
    LONGS_EQUAL(0, r.code);
    LONGS_EQUAL(2, r.params.items.size());
    LONGS_EQUAL(
        0, parse_service_request(Service::Get, R"({"id":"7","method":"thing.service.measurepoint.get","params":[]})")
               .code);
    LONGS_EQUAL(1220, parse_service_request(Service::Get,
                                            R"({"id":"7","method":"thing.service.measurepoint.get","params":[1]})")
                          .code);
    LONGS_EQUAL(
        1220, parse_service_request(Service::Get, R"({"id":"7","method":"thing.service.measurepoint.get","params":{}})")
                  .code);
}

TEST(ServiceRequest, malformed_requests_are_refused_with_the_hubs_codes) {
    auto r = parse_service_request(Service::Set, "  ");
    LONGS_EQUAL(1251, r.code);
    STRCMP_EQUAL("", r.id.c_str());

    r = parse_service_request(Service::Set, R"({"id":"9","method":"thing.service.measurepoint.set","params":{"a":1,})");
    LONGS_EQUAL(1220, r.code);
    STRCMP_EQUAL("9", r.id.c_str());  // salvaged from broken JSON so the cloud hears why

    r = parse_service_request(Service::Set, "not json");
    LONGS_EQUAL(1220, r.code);
    STRCMP_EQUAL("", r.id.c_str());

    r = parse_service_request(Service::Set, R"({"id":"9","method":"thing.service.measurepoint.get","params":{"a":1}})");
    LONGS_EQUAL(1260, r.code);
    STRCMP_EQUAL("9", r.id.c_str());

    r = parse_service_request(Service::Set, R"({"id":"9","method":"thing.service.measurepoint.set","params":{}})");
    LONGS_EQUAL(1220, r.code);
    r = parse_service_request(Service::Set, R"({"id":"9","method":"thing.service.measurepoint.set","params":[1]})");
    LONGS_EQUAL(1220, r.code);
    r = parse_service_request(Service::Set,
                              R"({"id":"9","method":"thing.service.measurepoint.set","params":{"a":1,"a":2}})");
    LONGS_EQUAL(1220, r.code);
    CHECK(r.message.find("given twice") != std::string::npos);
    r = parse_service_request(Service::Set, R"({"method":"thing.service.measurepoint.set","params":{"a":1}})");
    LONGS_EQUAL(1220, r.code);
    r = parse_service_request(Service::Set, R"([1,2])");
    LONGS_EQUAL(1220, r.code);
}

TEST(ServiceRequest, replies_carry_id_code_data_and_message) {
    STRCMP_EQUAL(R"({"id":"4\"2","code":200,"data":{}})", service_reply("4\"2", 200, "{}").c_str());
    STRCMP_EQUAL(R"({"id":"1","code":400,"data":{"written":["a"]},"message":"point b: unknown"})",
                 service_reply("1", 400, R"({"written":["a"]})", "point b: unknown").c_str());
}
