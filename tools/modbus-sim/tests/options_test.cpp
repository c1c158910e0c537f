#include <string>
#include <vector>

#include "options.hpp"

// Last: CppUTest redefines new for leak detection, which must not reach the other headers.
#include <CppUTest/TestHarness.h>

using namespace fieldgate::sim;

namespace {

struct Parsed {
    Options options;
    std::vector<std::string> errors;
};

Parsed parse(const std::string& text) {
    Parsed p;
    read_config_text("sim.ini", text, p.options, p.errors);
    return p;
}

std::string first_error(const Parsed& p) {
    return p.errors.empty() ? std::string("(none)") : p.errors.front();
}

}  // namespace

TEST_GROUP(ModbusSimConfig){};

TEST(ModbusSimConfig, a_complete_file_is_read) {
    const auto p = parse(
        "; devices\n"
        "[sim]\n"
        "listen = 127.0.0.2        ; a comment\n"
        "unknown_unit = silent\n"
        "\n"
        "[device.meter1]\n"
        "port = 15020\n"
        "unit_id = 7\n"
        "profile = bench\n"
        "seed = 12\n"
        "\n"
        "  [device.meter2]   # indented, with a comment\n"
        "port=0\n");
    CHECK_EQUAL(0U, p.errors.size());
    STRCMP_EQUAL("127.0.0.2", p.options.listen.c_str());
    CHECK(p.options.unknown_unit == UnknownUnit::Silent);
    CHECK_EQUAL(2U, p.options.devices.size());
    const DeviceSpec& a = p.options.devices[0];
    STRCMP_EQUAL("meter1", a.name.c_str());
    CHECK_EQUAL(15020, a.port);
    CHECK_EQUAL(7, a.unit_id);
    CHECK(a.profile == Profile::Bench);
    CHECK_EQUAL(12, a.seed);
    const DeviceSpec& b = p.options.devices[1];
    CHECK_EQUAL(0, b.port);
    CHECK_EQUAL(1, b.unit_id);
    CHECK(b.profile == Profile::Demo);
    CHECK_EQUAL(2, b.seed);  // its position among the file's devices
}

TEST(ModbusSimConfig, the_shipped_demo_file_is_read) {
    const std::string path = std::string(FG_SOURCE_DIR) + "/conf/demo/modbus-sim.ini";
    const char* argv[] = {"fieldgate-modbus-sim", "-c", path.c_str()};
    Options options;
    const auto errors = parse_options(3, argv, options);
    CHECK_EQUAL(0U, errors.size());
    CHECK_EQUAL(3U, options.devices.size());
    CHECK_EQUAL(15021, options.devices[2].port);
    CHECK_EQUAL(3, options.devices[2].seed);
}

TEST(ModbusSimConfig, a_bad_line_is_named_by_file_and_line) {
    STRCMP_EQUAL(
        "sim.ini:3: not a setting \"port 15020\"; accepted: key = value, [section], or a comment starting "
        "with ; or #",
        first_error(parse("[device.m]\nunit_id = 1\nport 15020\n")).c_str());
    STRCMP_CONTAINS("sim.ini:2: bad section header \"[device.n\"",
                    first_error(parse("[sim]\n[device.n\nport = 1\n")).c_str());
    STRCMP_CONTAINS("sim.ini:1: empty section name []; accepted: [sim] [device.NAME]",
                    first_error(parse("[]\n")).c_str());
}

TEST(ModbusSimConfig, bad_values_name_section_key_and_what_is_accepted) {
    STRCMP_EQUAL("sim.ini:2: [device.m] port: \"70000\" out of range; accepted: 0..65535",
                 first_error(parse("[device.m]\nport = 70000\n")).c_str());
    STRCMP_EQUAL("sim.ini:3: [device.m] unit_id: not an integer \"one\"; accepted: 0..255",
                 first_error(parse("[device.m]\nport = 1\nunit_id = one\n")).c_str());
    STRCMP_EQUAL("sim.ini:3: [device.m] profile: bad value \"fast\"; accepted: demo | bench",
                 first_error(parse("[device.m]\nport = 1\nprofile = fast\n")).c_str());
    STRCMP_CONTAINS("sim.ini:3: [device.m] seed: \"4001\" out of range; accepted: 0..4000",
                    first_error(parse("[device.m]\nport = 1\nseed = 4001\n")).c_str());
    STRCMP_CONTAINS("sim.ini:2: [sim] listen: bad address \"localhost\"; accepted: an IPv4 address",
                    first_error(parse("[sim]\nlisten = localhost\n")).c_str());
    STRCMP_EQUAL("sim.ini:2: [sim] unknown_unit: bad value \"loud\"; accepted: exception | silent",
                 first_error(parse("[sim]\nunknown_unit = loud\n")).c_str());
}

TEST(ModbusSimConfig, unknown_twice_and_missing_are_errors) {
    STRCMP_EQUAL("sim.ini:3: [device.m] colour: unknown key; accepted: port unit_id profile seed",
                 first_error(parse("[device.m]\nport = 1\ncolour = red\n")).c_str());
    STRCMP_EQUAL("sim.ini:3: [device.m] port: given twice, first at line 2; accepted: each key once per section",
                 first_error(parse("[device.m]\nport = 1\nport = 2\n")).c_str());
    STRCMP_EQUAL("sim.ini:3: [device.m]: section defined twice, first at sim.ini:1; accepted: each section once",
                 first_error(parse("[device.m]\nport = 1\n[device.m]\nport = 2\n")).c_str());
    STRCMP_EQUAL("sim.ini:1: [slaves]: unknown section; accepted: [sim] [device.NAME]",
                 first_error(parse("[slaves]\nport = 1\n")).c_str());
    STRCMP_CONTAINS("sim.ini:1: [device.]: unknown section", first_error(parse("[device.]\nport = 1\n")).c_str());
    STRCMP_CONTAINS("sim.ini:1: [device.m] port: missing", first_error(parse("[device.m]\nunit_id = 2\n")).c_str());
}

TEST(ModbusSimConfig, a_file_that_cannot_be_read_is_one_error) {
    const char* argv[] = {"fieldgate-modbus-sim", "-c", "/nonexistent/sim.ini"};
    Options options;
    const auto errors = parse_options(3, argv, options);
    CHECK_EQUAL(1U, errors.size());
    STRCMP_EQUAL("/nonexistent/sim.ini: cannot read", errors[0].c_str());
}
