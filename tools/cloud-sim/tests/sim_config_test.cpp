
#include <string>

#include "sim_config.hpp"

// Last: CppUTest redefines new for leak detection, which must not reach the other headers.
#include <CppUTest/TestHarness.h>

using namespace fieldgate::cloudsim;

namespace {

const char* const kGood =
    "[hub]\n"
    "broker = tcp://127.0.0.1:18831   ; a comment\n"
    "records = /tmp/x/records.jsonl\n"
    "append_records = yes\n"
    "summary_interval = 2s\n"
    "\n"
    "[gateway]\n"
    "product_key = gwPk\n"
    "device_key = gwDk\n"
    "device_secret = s\n"
    "\n"
    "[product.demoMeter]\n"
    "tick = integer\n"
    "Power = number\n"
    "\n"
    "[device.meter1]\n"
    "product_key = demoMeter\n"
    "device_key = meter1\n"
    "device_secret = meter1Secret\n"
    "\n"
    "[faults]\n"
    "reply_code = 1206\n"
    "every = 5\n"
    "drop_replies = 2\n";

std::string first_error(const ConfigResult& r) {
    return r.errors.empty() ? std::string("(none)") : r.errors.front();
}

}  // namespace

TEST_GROUP(CloudSimConfig){};

TEST(CloudSimConfig, a_complete_file_is_read) {
    const ConfigResult r = parse_config(kGood, "sim.ini");
    STRCMP_EQUAL("(none)", first_error(r).c_str());
    CHECK(r.config.has_value());
    const SimConfig& c = *r.config;
    STRCMP_EQUAL("tcp://127.0.0.1:18831", c.broker.c_str());
    STRCMP_EQUAL("/tmp/x/records.jsonl", c.records.c_str());
    CHECK(c.append_records);
    CHECK_EQUAL(2000, c.summary_interval_ms);
    STRCMP_EQUAL("gwPk", c.hub.product_key.c_str());
    STRCMP_EQUAL("gwDk", c.hub.device_key.c_str());
    CHECK_EQUAL(2U, c.hub.products.at("demoMeter").size());
    CHECK(c.hub.products.at("demoMeter").at("Power") == PointType::Number);  // point ids keep their case
    CHECK_EQUAL(1U, c.hub.devices.size());
    STRCMP_EQUAL("meter1", c.hub.devices[0].name.c_str());
    STRCMP_EQUAL("meter1Secret", c.hub.devices[0].device_secret.c_str());
    CHECK_EQUAL(1206, c.hub.faults.reply_code);
    CHECK_EQUAL(5U, c.hub.faults.every);
    CHECK_EQUAL(2U, c.hub.faults.drop_replies);
    CHECK(r.notes.empty());
}

TEST(CloudSimConfig, defaults_apply_to_what_is_left_out) {
    const ConfigResult r = parse_config("[gateway]\nproduct_key = a\ndevice_key = b\n", "sim.ini");
    CHECK(r.config.has_value());
    STRCMP_EQUAL("tcp://127.0.0.1:18830", r.config->broker.c_str());
    STRCMP_EQUAL("fieldgate-cloud-sim", r.config->client_id.c_str());
    CHECK(!r.config->append_records);
    CHECK(r.config->logout_on_reconnect);
    CHECK_EQUAL(0, r.config->hub.faults.reply_code);
}

TEST(CloudSimConfig, errors_name_file_line_section_and_key) {
    const ConfigResult r = parse_config("[gateway]\nproduct_key = a\ndevice_key = b\ncolour = red\n", "sim.ini");
    CHECK(!r.config.has_value());
    CHECK_EQUAL(1U, r.errors.size());
    STRCMP_CONTAINS("sim.ini:4: [gateway] colour: unknown key", r.errors[0].c_str());
}

TEST(CloudSimConfig, bad_values_are_errors) {
    auto err = [](const std::string& extra) {
        return first_error(parse_config("[gateway]\nproduct_key = a\ndevice_key = b\n" + extra, "f"));
    };
    STRCMP_CONTAINS("f:5: [product.p] x: bad point type \"float\"; accepted: number integer string bool array any",
                    err("[product.p]\nx = float\n").c_str());
    STRCMP_CONTAINS("f:5: [hub] broker:", err("[hub]\nbroker = ssl://h:1\n").c_str());
    STRCMP_CONTAINS("f:5: [hub] append_records:", err("[hub]\nappend_records = maybe\n").c_str());
    STRCMP_CONTAINS("f:5: [faults] every:", err("[faults]\nevery = -1\n").c_str());
    STRCMP_CONTAINS("f:5: [faults] reply_code:", err("[faults]\nreply_code = 200\n").c_str());
    STRCMP_CONTAINS("reply_code and every go together", err("[faults]\nevery = 3\n").c_str());
    STRCMP_CONTAINS("f:4: [colours]: unknown section", err("[colours]\nred = 1\n").c_str());
    STRCMP_CONTAINS(
        "f:3: [gateway] device_key: given twice",
        parse_config("[gateway]\ndevice_key = a\ndevice_key = b\nproduct_key = c\n", "f").errors[0].c_str());
    STRCMP_CONTAINS("f:8: [hub]: section defined twice, first at f:4;",
                    err("[hub]\nrecords = x\n[faults]\nevery = 0\n[hub]\nclient_id = y\n").c_str());
    STRCMP_CONTAINS("f:4: not a setting \"no equals sign here\"", err("no equals sign here\n").c_str());
}

// The reader is fieldgated's (util/ini_reader.hpp): its comments, blanks and messages.
TEST(CloudSimConfig, the_file_is_read_in_fieldgateds_ini_dialect) {
    const ConfigResult good = parse_config(
        "\xEF\xBB\xBF# a comment\n  [gateway]  ; trailing comment\n\tproduct_key=a;b ; the ';' of a;b is kept\n"
        "device_key =   b  \n",
        "f");
    CHECK(good.config.has_value());
    STRCMP_EQUAL("a;b", good.config->hub.product_key.c_str());
    STRCMP_EQUAL("b", good.config->hub.device_key.c_str());

    const std::string base = "[gateway]\nproduct_key = a\ndevice_key = b\n";
    STRCMP_CONTAINS("f:4: bad section header \"[hub\"", first_error(parse_config(base + "[hub\n", "f")).c_str());
    STRCMP_CONTAINS("f:1: x: setting before any section", first_error(parse_config("x = 1\n" + base, "f")).c_str());
    STRCMP_CONTAINS("f:4: empty section name []; accepted: [hub] [gateway]",
                    first_error(parse_config(base + "[]\n", "f")).c_str());
    STRCMP_CONTAINS("f:5: [hub] front: \"70000\" out of range; accepted: 0..65535",
                    first_error(parse_config(base + "[hub]\nfront = 70000\n", "f")).c_str());
    // inih's `key: value` and indented continuation lines are not part of the dialect.
    STRCMP_CONTAINS("f:5: not a setting \"front: 1\"",
                    first_error(parse_config(base + "[hub]\nfront: 1\n", "f")).c_str());
}

TEST(CloudSimConfig, required_keys_and_cross_checks) {
    STRCMP_CONTAINS("[gateway] product_key: missing",
                    first_error(parse_config("[gateway]\ndevice_key = b\n", "f")).c_str());
    const std::string base = "[gateway]\nproduct_key = a\ndevice_key = b\n";
    STRCMP_CONTAINS("[device.m] device_secret: missing",
                    first_error(parse_config(base + "[device.m]\nproduct_key = p\ndevice_key = d\n", "f")).c_str());
    STRCMP_CONTAINS(
        "is the gateway itself",
        first_error(parse_config(base + "[device.m]\nproduct_key = a\ndevice_key = b\ndevice_secret = s\n", "f"))
            .c_str());
    STRCMP_CONTAINS("same product_key and device_key",
                    first_error(parse_config(base + "[device.m]\nproduct_key = p\ndevice_key = d\ndevice_secret = s\n"
                                                    "[device.n]\nproduct_key = p\ndevice_key = d\ndevice_secret = s\n",
                                             "f"))
                        .c_str());
}

TEST(CloudSimConfig, a_device_whose_product_has_no_model_is_noted) {
    const ConfigResult r = parse_config(
        "[gateway]\nproduct_key = a\ndevice_key = b\n[device.m]\nproduct_key = p\ndevice_key = d\ndevice_secret = s\n",
        "f");
    CHECK(r.config.has_value());
    CHECK_EQUAL(1U, r.notes.size());
    STRCMP_CONTAINS("product p has no [product.p] section", r.notes[0].c_str());
}

TEST(CloudSimConfig, broker_uri_is_tcp_host_port) {
    const auto a = parse_broker_uri("tcp://127.0.0.1:18830");
    CHECK(a.has_value());
    STRCMP_EQUAL("127.0.0.1", a->host.c_str());
    CHECK_EQUAL(18830, a->port);
    CHECK(!parse_broker_uri("ssl://127.0.0.1:18830"));
    CHECK(!parse_broker_uri("tcp://127.0.0.1"));
    CHECK(!parse_broker_uri("tcp://127.0.0.1:0"));
    CHECK(!parse_broker_uri("tcp://127.0.0.1:65536"));
    CHECK(!parse_broker_uri("tcp://:80"));
}
