#include "fieldgate/config/config.hpp"

#include <CppUTest/TestHarness.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

using namespace fieldgate::config;
namespace fs = std::filesystem;

namespace {

const std::string kGateway =
    "[gateway]\n"
    "product_key = gwPk\n"
    "device_key = gwDk\n"
    "device_secret = s3cret\n"
    "\n"
    "[mqtt]\n"
    "uri = tcp://127.0.0.1:1883\n";  // lines 1..7

LoadResult load_one(const std::string& text) {
    return load_texts({{"main.ini", text}});
}

std::string all(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& l : lines)
        out += l + "\n";
    return out;
}

Config valid(const std::string& text) {
    auto r = load_one(text);
    if (!r.errors.empty()) FAIL(("unexpected errors:\n" + all(r.errors)).c_str());
    CHECK_TRUE(r.config.has_value());
    return *r.config;
}

bool starts_with(const std::string& s, const std::string& start) {
    return s.compare(0, start.size(), start) == 0;
}

// Exactly one error, starting with `start` and in the contract's shape.
void one_error(const LoadResult& r, const std::string& start) {
    CHECK_FALSE(r.config.has_value());
    if (r.errors.size() != 1 || !starts_with(r.errors[0], start)) {
        FAIL(("expected one error starting '" + start + "', got:\n" + all(r.errors)).c_str());
    }
}

void one_error(const std::string& text, const std::string& start) {
    const auto r = load_one(text);
    one_error(r, start);
    CHECK(r.errors[0].find("; accepted: ") != std::string::npos);
}

bool has(const std::vector<std::string>& lines, const std::string& start) {
    for (const auto& l : lines) {
        if (starts_with(l, start)) return true;
    }
    return false;
}

void write(const fs::path& path, const std::string& text, mode_t mode = 0600) {
    std::ofstream(path) << text;
    ::chmod(path.c_str(), mode);
}

const std::string kModel =
    "[model.m]\n"
    "v = holding:0 uint16\n";

}  // namespace

// PEM fixtures made once with `openssl req -x509 -newkey ec` (valid until 2125): a CA, a client
// certificate it signed with its key, and a key of no certificate.
const std::string kCaPem =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBgTCCASegAwIBAgIUXYw4tG+0TBQybMG90sWak9YxmfEwCgYIKoZIzj0EAwIw\n"
    "FTETMBEGA1UEAwwKZml4dHVyZS1jYTAgFw0yNjExMzAwMDE4MjNaGA8yMTI2MTEw\n"
    "NjAwMTgyM1owFTETMBEGA1UEAwwKZml4dHVyZS1jYTBZMBMGByqGSM49AgEGCCqG\n"
    "SM49AwEHA0IABOPIJ3RR8FS2OGiiLTjCOUejjVmpJBxmVfRxvBiM1UPf7q+RBTen\n"
    "5MaMwRi4hQ6qt7kgv2GEy16TA5kC/BuavP2jUzBRMB0GA1UdDgQWBBTuYfbhoGrT\n"
    "0yAug9nfS+aCHQmYpjAfBgNVHSMEGDAWgBTuYfbhoGrT0yAug9nfS+aCHQmYpjAP\n"
    "BgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIQCfUXppXV+kDvqSfC1F\n"
    "8PBnFj/tCq3G0+IxvPrZ5ephmgIgLNAMKza/UJUsfCvjWFiMtQ9IrsawsM50YCsz\n"
    "+6NSRY0=\n"
    "-----END CERTIFICATE-----\n";
const std::string kClientPem =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBHjCBxQIUOXNMSipRvvXo8mlksStJKzTEX7swCgYIKoZIzj0EAwIwFTETMBEG\n"
    "A1UEAwwKZml4dHVyZS1jYTAgFw0yNjExMzAwMDE4MjRaGA8yMTI2MTEwNjAwMTgy\n"
    "NFowDTELMAkGA1UEAwwCZ3cwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAARYuCiV\n"
    "VT2sCfKBBrFMDG0XUH4pAwzfmKQlXhVMh2RXxN2cCLdW0I75F9BYRqFskkDBbNeK\n"
    "bzbcKieBrBMW0jWZMAoGCCqGSM49BAMCA0gAMEUCIFVVcPcols6bUp+eZ6cES8ur\n"
    "KG8RjTXy+ecDyf0tfgwIAiEA7/DidE0Z7onEUW0HPYOjOOleHd4VE5siyvQEjxgl\n"
    "N6s=\n"
    "-----END CERTIFICATE-----\n";
const std::string kClientKey =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgj0YHzItFtnfMjjuq\n"
    "Hk1jb+8PWZG/b8hU5x2BpOfPXEmhRANCAARYuCiVVT2sCfKBBrFMDG0XUH4pAwzf\n"
    "mKQlXhVMh2RXxN2cCLdW0I75F9BYRqFskkDBbNeKbzbcKieBrBMW0jWZ\n"
    "-----END PRIVATE KEY-----\n";
const std::string kOtherKey =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgjlHSTNcEGPqfebG/\n"
    "r321IZUGqnAYXLbPvkjADR15FaShRANCAAQO1+pi7hiP9aHhjP8IR5havMIZiCdY\n"
    "krxM8akWvQSjv8G6rxGCxZGL366NYTMitiIlMARdUz5M8UtTpwtUZa0w\n"
    "-----END PRIVATE KEY-----\n";

TEST_GROUP(Config) {
    fs::path dir;
    void setup() override {
        char tmpl[] = "/tmp/fg-config-test-XXXXXX";
        CHECK(::mkdtemp(tmpl) != nullptr);
        dir = tmpl;
    }
    void teardown() override {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
};

TEST(Config, full_config_reads_every_section) {
    const auto c = valid(
        "[gateway]\n"
        "product_key = gwPk\n"
        "device_key = gwDk\n"
        "device_secret = abc ; not part of the secret\n"
        "control_socket = /run/fg.sock\n"
        "[mqtt]\n"
        "uri = ssl://mqtt.example.com:18883   ; comment\n"
        "keepalive = 2min\n"
        "cert_file =\n"
        "key_file =\n"
        "[store]\n"
        "path = /tmp/x.db\n"
        "max_bytes = 64MiB\n"
        "max_age = 2d\n"
        "overflow = drop_newest\n"
        "commit_interval = 250ms\n"
        "durability = full\n"
        "[uplink]\n"
        "batch_max_records = 50\n"
        "batch_max_bytes = 512KiB\n"
        "inflight = 64\n"
        "reply_timeout = 10s\n"
        "resume_after = 1h\n"
        "retry_min = 500ms\n"
        "retry_max = 1min\n"
        "allow_offline_subdevice = false\n"
        "skip_invalid_measurepoints = yes\n"
        "[bus.rs485-1]\n"
        "type = rtu\n"
        "device = /dev/ttyS1\n"
        "baud = 19200\n"
        "parity = E\n"
        "data_bits = 7\n"
        "stop_bits = 2\n"
        "timeout = 300ms\n"
        "frame_gap = 10ms\n"
        "[bus.plant-lan]\n"
        "type = tcp\n"
        "host = 10.0.0.50\n"
        "port = 1502\n"
        "timeout = 2s\n"
        "[model.acme-pm5000]\n"
        "Power = holding:100 float32 ABCD scale=0.001 quality\n"
        "temp = input:10 int16 scale=0.01\n"
        "branchCurr = holding:200 float32[3] CDAB as=string\n"
        "breaker = coil:5 bool\n"
        "[device.meter-07]\n"
        "product_key = subPk\n"
        "device_key = subDk07\n"
        "device_secret = x\n"
        "model = acme-pm5000\n"
        "bus = rs485-1\n"
        "unit_id = 7\n"
        "interval = 5s\n"
        "offline_after = 5\n"
        "timeout = 700ms\n"
        "probe_max = 1min\n"
        "[device.own]\n"
        "model = acme-pm5000\n"
        "bus = plant-lan\n"
        "unit_id = 0\n"
        "[device.inline]\n"
        "product_key = subPk\n"
        "device_key = subDk08\n"
        "device_secret = y\n"
        "model = acme-pm5000\n"
        "bus = tcp://10.0.0.9:502\n");
    STRCMP_EQUAL("main.ini", c.path.c_str());
    STRCMP_EQUAL("gwPk", c.gateway.product_key.c_str());
    STRCMP_EQUAL("abc", c.gateway.device_secret.c_str());
    STRCMP_EQUAL("/run/fg.sock", c.gateway.control_socket.c_str());
    STRCMP_EQUAL("ssl://mqtt.example.com:18883", c.mqtt.uri.c_str());
    LONGS_EQUAL(120'000, c.mqtt.keepalive_ms);
    CHECK_TRUE(c.mqtt.cert_file.empty());
    STRCMP_EQUAL("/tmp/x.db", c.store.path.c_str());
    CHECK_EQUAL(64ULL << 20, c.store.max_bytes);
    LONGS_EQUAL(2 * 86'400'000LL, c.store.max_age_ms);
    CHECK(c.store.overflow == Overflow::DropNewest);
    LONGS_EQUAL(250, c.store.commit_interval_ms);
    CHECK(c.store.durability == Durability::Full);
    LONGS_EQUAL(50, c.uplink.batch_max_records);
    CHECK_EQUAL(512ULL * 1024, c.uplink.batch_max_bytes);
    LONGS_EQUAL(64, c.uplink.inflight);
    LONGS_EQUAL(10'000, c.uplink.reply_timeout_ms);
    LONGS_EQUAL(3'600'000, c.uplink.resume_after_ms);
    LONGS_EQUAL(500, c.uplink.retry_min_ms);
    LONGS_EQUAL(60'000, c.uplink.retry_max_ms);
    CHECK(c.uplink.allow_offline_subdevice == AllowOffline::False);
    CHECK_TRUE(c.uplink.skip_invalid_measurepoints);

    LONGS_EQUAL(3, c.buses.size());
    const Bus& rtu = c.buses.at("rs485-1");
    STRCMP_EQUAL("rs485-1", rtu.name.c_str());
    CHECK(rtu.type == BusType::Rtu);
    STRCMP_EQUAL("/dev/ttyS1", rtu.device.c_str());
    LONGS_EQUAL(19200, rtu.baud);
    CHECK(rtu.parity == Parity::Even);
    LONGS_EQUAL(7, rtu.data_bits);
    LONGS_EQUAL(2, rtu.stop_bits);
    LONGS_EQUAL(300, rtu.timeout_ms);
    LONGS_EQUAL(10, rtu.frame_gap_ms);
    LONGS_EQUAL(28, rtu.line);
    const Bus& tcp = c.buses.at("plant-lan");
    CHECK(tcp.type == BusType::Tcp);
    STRCMP_EQUAL("10.0.0.50", tcp.host.c_str());
    LONGS_EQUAL(1502, tcp.port);
    LONGS_EQUAL(2000, tcp.timeout_ms);

    const Model& m = c.models.at("acme-pm5000");
    LONGS_EQUAL(4, m.points.size());
    STRCMP_EQUAL("Power", m.points[0].id.c_str());
    LONGS_EQUAL(43, m.points[0].line);
    STRCMP_EQUAL("breaker", m.points[3].id.c_str());
    CHECK(m.points[3].table == Table::Coil);

    LONGS_EQUAL(3, c.devices.size());
    const Device& meter = c.devices[0];
    STRCMP_EQUAL("meter-07", meter.name.c_str());
    STRCMP_EQUAL("subDk07", meter.device_key.c_str());
    STRCMP_EQUAL("x", meter.device_secret.c_str());
    LONGS_EQUAL(7, meter.unit_id);
    LONGS_EQUAL(5000, meter.interval_ms);
    LONGS_EQUAL(5, meter.offline_after);
    LONGS_EQUAL(60'000, meter.probe_max_ms);
    LONGS_EQUAL(700, c.timeout_of(meter));
    CHECK_TRUE(c.devices[1].is_gateway());
    LONGS_EQUAL(0, c.devices[1].unit_id);
    LONGS_EQUAL(2000, c.timeout_of(c.devices[1]));
    CHECK(&c.model_of(meter) == &m);
}

TEST(Config, defaults_apply_when_keys_are_left_out) {
    const auto c = valid(kGateway + kModel +
                         "[bus.serial]\ntype = rtu\ndevice = /dev/ttyUSB0\n"
                         "[bus.lan]\ntype = tcp\nhost = plc\n"
                         "[device.a]\nmodel = m\nbus = lan\n");
    const Store defaults_store;
    STRCMP_EQUAL(defaults_store.path.c_str(), c.store.path.c_str());
    CHECK_EQUAL(1ULL << 30, c.store.max_bytes);
    LONGS_EQUAL(1000, c.store.commit_interval_ms);
    LONGS_EQUAL(60'000, c.mqtt.keepalive_ms);
    LONGS_EQUAL(1000, c.uplink.batch_max_records);
    LONGS_EQUAL(8, c.uplink.inflight);
    STRCMP_EQUAL("/run/fieldgate/control.sock", c.gateway.control_socket.c_str());
    const Bus& serial = c.buses.at("serial");
    LONGS_EQUAL(500, serial.timeout_ms);  // RTU default
    LONGS_EQUAL(9600, serial.baud);
    CHECK(serial.parity == Parity::None);
    LONGS_EQUAL(8, serial.data_bits);
    LONGS_EQUAL(1, serial.stop_bits);
    LONGS_EQUAL(1000, c.buses.at("lan").timeout_ms);  // TCP default
    LONGS_EQUAL(502, c.buses.at("lan").port);
    const Device& d = c.devices.at(0);
    LONGS_EQUAL(1, d.unit_id);  // default on TCP
    LONGS_EQUAL(1000, d.interval_ms);
    LONGS_EQUAL(3, d.offline_after);
    LONGS_EQUAL(30'000, d.probe_max_ms);
    CHECK_FALSE(d.timeout_ms.has_value());
    LONGS_EQUAL(1000, c.timeout_of(d));
}

TEST(Config, inline_tcp_bus_is_added_once_under_its_uri) {
    const auto c =
        valid(kGateway + kModel +
              "[device.a]\nproduct_key = p\ndevice_key = a\ndevice_secret = s\nmodel = m\nbus = tcp://10.0.0.9:1502\n"
              "[device.b]\nproduct_key = p\ndevice_key = b\ndevice_secret = s\nmodel = m\nbus = tcp://10.0.0.9:1502\n"
              "unit_id = 3\n");
    LONGS_EQUAL(1, c.buses.size());
    const Bus& bus = c.buses.at("tcp://10.0.0.9:1502");
    STRCMP_EQUAL("tcp://10.0.0.9:1502", bus.name.c_str());
    CHECK(bus.type == BusType::Tcp);
    STRCMP_EQUAL("10.0.0.9", bus.host.c_str());
    LONGS_EQUAL(1502, bus.port);
    LONGS_EQUAL(1000, bus.timeout_ms);
    CHECK(&c.bus_of(c.devices[0]) == &c.bus_of(c.devices[1]));
    LONGS_EQUAL(3, c.devices[1].unit_id);
}

TEST(Config, shipped_fieldgate_ini_loads_without_error_or_warning) {
    const auto source = fs::path(__FILE__).parent_path().parent_path().parent_path().parent_path();
    const auto r = load((source / "conf" / "fieldgate.ini").string());
    if (!r.errors.empty()) FAIL(all(r.errors).c_str());
    CHECK_TRUE(r.config.has_value());
    CHECK_TRUE(r.warnings.empty());
}

TEST(Config, shipped_fieldgate_ini_examples_load_when_uncommented) {
    const auto source = fs::path(__FILE__).parent_path().parent_path().parent_path().parent_path();
    std::ifstream in(source / "conf" / "fieldgate.ini");
    std::string text, line;
    // Uncomment `;key = value` and `;[section]` lines, the way a user would.
    while (std::getline(in, line)) {
        const bool setting = line.size() > 1 && line[0] == ';' && line[1] != ' ' && line[1] != ';';
        text += (setting ? line.substr(1) : line) + "\n";
    }
    text.insert(text.find("\ndevice_secret_file") + 1, ";");  // one secret only
    const auto r = load_texts({{"fieldgate.ini", text}});
    std::vector<std::string> left;
    for (const auto& e : r.errors) {
        // Files named by the example do not exist on a build machine.
        if (e.find("cannot read") == std::string::npos) left.push_back(e);
    }
    if (!left.empty()) FAIL(all(left).c_str());
    CHECK(r.errors.size() <= 3);
}

TEST(Config, conf_d_files_are_read_after_the_main_file_in_name_order) {
    write(dir / "fieldgate.ini", kGateway + kModel);
    fs::create_directory(dir / "conf.d");
    write(dir / "conf.d" / "20-b.ini", "[device.b]\nmodel = m\nbus = tcp://h:1\n");
    write(dir / "conf.d" / "10-a.ini",
          "[device.a]\nproduct_key = p\ndevice_key = a\ndevice_secret = s\nmodel = m\nbus = tcp://h:1\n");
    write(dir / "conf.d" / "notes.txt", "\x01 junk that is never read");
    write(dir / "conf.d" / ".10-a.ini.swp", "junk");
    fs::create_directory(dir / "conf.d" / ".hidden.ini");
    const auto r = load((dir / "fieldgate.ini").string());
    if (!r.errors.empty()) FAIL(all(r.errors).c_str());
    LONGS_EQUAL(2, r.config->devices.size());
    STRCMP_EQUAL("a", r.config->devices[0].name.c_str());
    STRCMP_EQUAL("b", r.config->devices[1].name.c_str());
    STRCMP_EQUAL((dir / "fieldgate.ini").c_str(), r.config->path.c_str());
}

TEST(Config, section_defined_twice_across_files_is_an_error) {
    write(dir / "fieldgate.ini", kGateway + kModel);
    fs::create_directory(dir / "conf.d");
    write(dir / "conf.d" / "a.ini", "\n[model.m]\nw = holding:1 uint16\n");
    const auto r = load((dir / "fieldgate.ini").string());
    one_error(r, (dir / "conf.d" / "a.ini").string() + ":2: [model.m]: section defined twice, first at " +
                     (dir / "fieldgate.ini").string() + ":8;");
}

TEST(Config, duplicate_section_is_still_checked_for_its_own_errors) {
    const auto r = load_texts({{"a.ini", kGateway}, {"b.ini", "[mqtt]\nkeepalive = 1s\n"}});
    LONGS_EQUAL(2, r.errors.size());
    CHECK(has(r.errors, "b.ini:1: [mqtt]: section defined twice, first at a.ini:6;"));
    CHECK(has(r.errors, "b.ini:2: [mqtt] keepalive: \"1s\" out of range; accepted: 1min..5min"));
}

TEST(Config, missing_file_names_the_system_error) {
    const auto r = load((dir / "nope.ini").string());
    one_error(r, (dir / "nope.ini").string() + ": cannot read: No such file or directory");
}

TEST(Config, folder_given_as_file_is_an_error) {
    const auto r = load(dir.string());
    one_error(r, dir.string() + ": cannot read: Is a directory");
}

TEST(Config, empty_file_misses_gateway_and_mqtt) {
    const auto r = load_one("");
    LONGS_EQUAL(2, r.errors.size());
    STRCMP_CONTAINS("main.ini: [gateway]: section missing", r.errors[0].c_str());
    STRCMP_CONTAINS("main.ini: [mqtt]: section missing", r.errors[1].c_str());
}

TEST(Config, garbage_input_gives_errors_not_a_crash) {
    std::string junk;
    for (int i = 0; i < 4096; ++i)
        junk += static_cast<char>((i * 7919) % 256);
    junk += "\n[\n]]]\n=\n[bus.\x01]\nx=\x7f\n[device.d]\nunit_id = 99999999999999999999999999\n";
    junk += std::string(100'000, 'k') + " = " + std::string(100'000, 'v') + "\n";
    const auto r = load_texts({{"junk.ini", junk}, {"bom.ini", "\xEF\xBB\xBF[uplink]\ninflight = -5\n"}});
    CHECK_FALSE(r.config.has_value());
    CHECK(r.errors.size() > 3);
    CHECK(has(r.errors, "bom.ini:2: [uplink] inflight: \"-5\" out of range; accepted: 1..64"));
    for (const auto& e : r.errors)
        CHECK(e.size() < 600);  // junk is quoted and cut, not echoed whole
}

TEST(Config, every_error_is_collected) {
    const auto r = load_one(kGateway + "keepalive = 1s\ninflight = 3\n[store]\nmax_bytes = lots\n[bogus]\n");
    LONGS_EQUAL(4, r.errors.size());
    CHECK(has(r.errors, "main.ini:8: [mqtt] keepalive: "));
    CHECK(has(r.errors, "main.ini:12: [bogus]: unknown section;"));
    CHECK(has(r.errors,
              "main.ini:9: [mqtt] inflight: unknown key; accepted: uri keepalive connect_timeout ca_file cert_file "
              "key_file"));
    CHECK(has(r.errors, "main.ini:11: [store] max_bytes: bad size \"lots\""));
}

TEST(Config, lines_that_are_not_settings_are_errors) {
    one_error("x = 1\n" + kGateway, "main.ini:1: x: setting before any section;");
    one_error(kGateway + "just words\n", "main.ini:8: not a setting \"just words\";");
    one_error(kGateway + " = 3\n", "main.ini:8: no key before '=';");
    one_error(kGateway + "[store\npath = x\n", "main.ini:8: bad section header \"[store\";");
    one_error(kGateway + "[ ]\n", "main.ini:8: empty section name [];");
}

TEST(Config, comments_and_blank_lines_are_ignored) {
    const auto c = valid("; top\n# also\n\n" + kGateway + "  ; indented\nkeepalive = 90s ;trailing\n");
    LONGS_EQUAL(90'000, c.mqtt.keepalive_ms);
}

TEST(Config, key_given_twice_in_a_section_is_an_error) {
    one_error(kGateway + "keepalive = 60s\nkeepalive = 61s\n",
              "main.ini:9: [mqtt] keepalive: given twice, first at line 8;");
}

TEST(Config, unknown_key_and_section_are_errors) {
    one_error(kGateway + "uri2 = x\n", "main.ini:8: [mqtt] uri2: unknown key;");
    one_error(kGateway + "[mqqt]\nuri = x\n", "main.ini:8: [mqqt]: unknown section; accepted: [gateway] [mqtt]");
    one_error(kGateway + "[bus]\n", "main.ini:8: [bus]: unknown section;");
}

TEST(Config, bad_section_names_are_errors) {
    one_error(kGateway + "[bus.]\ntype = tcp\nhost = h\n", "main.ini:8: [bus.]: bad name \"\";");
    one_error(kGateway + "[model.a b]\nv = holding:0 int16\n", "main.ini:8: [\"model.a b\"]: bad name \"a b\";");
}

TEST(Config, missing_required_keys_are_reported_at_the_section_line) {
    const auto r = load_one("\n[gateway]\nproduct_key = p\n[mqtt]\nkeepalive = 60s\n");
    LONGS_EQUAL(3, r.errors.size());
    CHECK(has(r.errors, "main.ini:2: [gateway] device_key: missing;"));
    CHECK(has(
        r.errors,
        "main.ini:2: [gateway] device_secret: missing; accepted: device_secret = SECRET or device_secret_file = PATH"));
    CHECK(has(r.errors, "main.ini:4: [mqtt] uri: missing;"));
}

TEST(Config, empty_required_value_is_an_error) {
    one_error("[gateway]\nproduct_key =\ndevice_key = d\ndevice_secret = s\n[mqtt]\nuri = tcp://h:1\n",
              "main.ini:2: [gateway] product_key: empty;");
}

TEST(Config, bad_durations_sizes_and_booleans_are_errors) {
    one_error(kGateway + "keepalive = 60\n", "main.ini:8: [mqtt] keepalive: bad duration \"60\"; accepted: 1min..5min");
    one_error(kGateway + "keepalive = 5mins\n", "main.ini:8: [mqtt] keepalive: bad duration \"5mins\";");
    one_error(kGateway + "keepalive = -60s\n", "main.ini:8: [mqtt] keepalive: bad duration \"-60s\";");
    one_error(kGateway + "keepalive = 99999999999999999999d\n", "main.ini:8: [mqtt] keepalive: bad duration");
    one_error(kGateway + "[store]\nmax_bytes = 1GB\n", "main.ini:9: [store] max_bytes: bad size \"1GB\";");
    one_error(kGateway + "[store]\nmax_bytes =\n", "main.ini:9: [store] max_bytes: bad size \"\";");
    one_error(
        kGateway + "[uplink]\nskip_invalid_measurepoints = True\n",
        "main.ini:9: [uplink] skip_invalid_measurepoints: bad boolean \"True\"; accepted: true false yes no on off");
    one_error(kGateway + "[store]\noverflow = drop\n",
              "main.ini:9: [store] overflow: bad value \"drop\"; accepted: drop_oldest | drop_newest");
    one_error(kGateway + "[uplink]\nbatch_max_records = 1e3\n",
              "main.ini:9: [uplink] batch_max_records: not an integer \"1e3\";");
}

TEST(Config, values_out_of_range_are_errors) {
    one_error(kGateway + "keepalive = 301s\n",
              "main.ini:8: [mqtt] keepalive: \"301s\" out of range; accepted: 1min..5min");
    one_error(kGateway + "connect_timeout = 500ms\n",
              "main.ini:8: [mqtt] connect_timeout: \"500ms\" out of range; accepted: 1s..5min");
    one_error(kGateway + "connect_timeout = 6min\n", "main.ini:8: [mqtt] connect_timeout:");
    LONGS_EQUAL(5'000, valid(kGateway + "connect_timeout = 5s\n").mqtt.connect_timeout_ms);
    LONGS_EQUAL(30'000, valid(kGateway).mqtt.connect_timeout_ms);
    one_error(kGateway + "[uplink]\ninflight = 65\n",
              "main.ini:9: [uplink] inflight: \"65\" out of range; accepted: 1..64");
    one_error(kGateway + "[uplink]\ninflight = 0\n", "main.ini:9: [uplink] inflight:");
    one_error(kGateway + "[uplink]\nbatch_max_bytes = 513KiB\n",
              "main.ini:9: [uplink] batch_max_bytes: \"513KiB\" out of range; accepted: 1KiB..512KiB");
    one_error(kGateway + "[uplink]\nbatch_max_bytes = 1023\n", "main.ini:9: [uplink] batch_max_bytes:");
    one_error(kGateway + "[uplink]\nbatch_max_records = 0\n", "main.ini:9: [uplink] batch_max_records:");
    one_error(kGateway + "[store]\ncommit_interval = 9ms\n",
              "main.ini:9: [store] commit_interval: \"9ms\" out of range; accepted: 10ms..1min");
    one_error(kGateway + "[store]\ncommit_interval = 61s\n", "main.ini:9: [store] commit_interval:");
    one_error(
        kGateway + "[uplink]\nretry_min = 2min\nretry_max = 1min\n",
        "main.ini:10: [uplink] retry_max: retry_min 2min is above retry_max 1min; accepted: retry_min <= retry_max");
    one_error(kGateway + "[uplink]\nretry_min = 10min\n",
              "main.ini:9: [uplink] retry_min: retry_min 10min is above retry_max 5min");
}

TEST(Config, mqtt_uri_must_be_tcp_or_ssl_with_host_and_port) {
    for (const char* bad :
         {"mqtt://h:1", "tcp://h", "tcp://:1883", "tcp://h:0", "tcp://h:65536", "tcp://h:1/x", "h:1", "tcp://a b:1"}) {
        one_error(
            std::string("[gateway]\nproduct_key = p\ndevice_key = d\ndevice_secret = s\n[mqtt]\nuri = ") + bad + "\n",
            "main.ini:6: [mqtt] uri: bad broker address");
    }
    STRCMP_EQUAL("ssl://[::1]:8883",
                 valid(kGateway.substr(0, kGateway.find("uri")) + "uri = ssl://[::1]:8883\n").mqtt.uri.c_str());
}

TEST(Config, tls_files_need_ssl_and_must_be_readable) {
    write(dir / "ca.pem", kCaPem, 0644);
    write(dir / "c.pem", kClientPem, 0644);
    write(dir / "c.key", kClientKey, 0600);
    const std::string ca = (dir / "ca.pem").string();
    const std::string cert = (dir / "c.pem").string();
    const std::string key = (dir / "c.key").string();
    one_error(kGateway + "ca_file = " + ca + "\n", "main.ini:8: [mqtt] ca_file: TLS file with a tcp:// uri;");
    const std::string ssl =
        "[gateway]\nproduct_key = p\ndevice_key = d\ndevice_secret = s\n[mqtt]\nuri = ssl://h:8883\n";
    STRCMP_EQUAL(ca.c_str(), valid(ssl + "ca_file = " + ca + "\n").mqtt.ca_file.c_str());
    one_error(ssl + "ca_file = " + (dir / "none.pem").string() + "\n", "main.ini:7: [mqtt] ca_file: cannot read \"");
    one_error(ssl + "cert_file = " + cert + "\n",
              "main.ini:7: [mqtt] cert_file: client certificate and key go together;");
    one_error(ssl + "key_file = " + key + "\n", "main.ini:7: [mqtt] key_file: client certificate and key go together;");
    const auto both = valid(ssl + "ca_file = " + ca + "\ncert_file = " + cert + "\nkey_file = " + key + "\n");
    STRCMP_EQUAL(key.c_str(), both.mqtt.key_file.c_str());
    STRCMP_EQUAL(cert.c_str(), both.mqtt.cert_file.c_str());
}

TEST(Config, tls_files_must_hold_what_their_key_says) {
    write(dir / "ca.pem", kCaPem, 0644);
    write(dir / "c.pem", kClientPem, 0644);
    write(dir / "c.key", kClientKey, 0600);
    write(dir / "other.key", kOtherKey, 0600);
    write(dir / "junk", "not a certificate\n", 0644);
    const std::string ssl =
        "[gateway]\nproduct_key = p\ndevice_key = d\ndevice_secret = s\n[mqtt]\nuri = ssl://h:8883\n";
    const std::string ca = "ca_file = " + (dir / "ca.pem").string() + "\n";
    one_error(ssl + "ca_file = " + (dir / "junk").string() + "\n", "main.ini:7: [mqtt] ca_file: no CA certificate in");
    one_error(ssl + ca + "cert_file = " + (dir / "junk").string() + "\nkey_file = " + (dir / "c.key").string() + "\n",
              "main.ini:8: [mqtt] cert_file: no certificate in");
    one_error(ssl + ca + "cert_file = " + (dir / "c.pem").string() + "\nkey_file = " + (dir / "junk").string() + "\n",
              "main.ini:9: [mqtt] key_file: no private key in");
    one_error(
        ssl + ca + "cert_file = " + (dir / "c.pem").string() + "\nkey_file = " + (dir / "other.key").string() + "\n",
        "main.ini:9: [mqtt] key_file: the key does not match the certificate in");
    // A key file holding a certificate: no key.
    one_error(ssl + ca + "cert_file = " + (dir / "c.pem").string() + "\nkey_file = " + (dir / "c.pem").string() + "\n",
              "main.ini:9: [mqtt] key_file: no private key in");
}

TEST(Config, control_socket_must_fit_sockaddr_un) {
    one_error("[gateway]\nproduct_key = p\ndevice_key = d\ndevice_secret = s\ncontrol_socket = /" +
                  std::string(107, 'a') + "\n[mqtt]\nuri = tcp://h:1\n",
              "main.ini:5: [gateway] control_socket: bad socket path");
    one_error(
        "[gateway]\nproduct_key = p\ndevice_key = d\ndevice_secret = s\ncontrol_socket = run/x\n[mqtt]\nuri = "
        "tcp://h:1\n",
        "main.ini:5: [gateway] control_socket: bad socket path");
}

TEST(Config, gateway_needs_exactly_one_secret) {
    one_error(
        "[gateway]\nproduct_key = p\ndevice_key = d\ndevice_secret = s\ndevice_secret_file = /x\n[mqtt]\nuri = "
        "tcp://h:1\n",
        "main.ini:5: [gateway] device_secret_file: device_secret given too; accepted: exactly one of");
}

TEST(Config, secret_file_is_read_without_its_newline) {
    write(dir / "gw.secret", "t0p\n", 0600);
    const auto r =
        load_one("[gateway]\nproduct_key = p\ndevice_key = d\ndevice_secret_file = " + (dir / "gw.secret").string() +
                 "\n[mqtt]\nuri = tcp://h:1\n");
    if (!r.errors.empty()) FAIL(all(r.errors).c_str());
    STRCMP_EQUAL("t0p", r.config->gateway.device_secret.c_str());
    STRCMP_EQUAL((dir / "gw.secret").c_str(), r.config->gateway.device_secret_file.c_str());
    CHECK_TRUE(r.warnings.empty());
}

TEST(Config, secret_file_readable_by_others_gives_a_warning) {
    write(dir / "gw.secret", "t0p\r\n", 0644);
    const auto r =
        load_one("[gateway]\nproduct_key = p\ndevice_key = d\ndevice_secret_file = " + (dir / "gw.secret").string() +
                 "\n[mqtt]\nuri = tcp://h:1\n");
    CHECK_TRUE(r.errors.empty());
    CHECK_TRUE(r.config.has_value());
    STRCMP_EQUAL("t0p", r.config->gateway.device_secret.c_str());
    LONGS_EQUAL(1, r.warnings.size());
    STRCMP_CONTAINS("main.ini:4: [gateway] device_secret_file: ", r.warnings[0].c_str());
    STRCMP_CONTAINS("readable by others (mode 0644)", r.warnings[0].c_str());
}

TEST(Config, secret_file_readable_by_the_daemon_group_only_gives_no_warning) {
    write(dir / "gw.secret", "t0p\n", 0640);
    const auto r =
        load_one("[gateway]\nproduct_key = p\ndevice_key = d\ndevice_secret_file = " + (dir / "gw.secret").string() +
                 "\n[mqtt]\nuri = tcp://h:1\n");
    CHECK_TRUE(r.errors.empty());
    LONGS_EQUAL(0, r.warnings.size());
}

TEST(Config, secret_file_relative_path_is_taken_from_the_config_folder) {
    write(dir / "gw.secret", "rel", 0600);
    const auto r = load_texts(
        {{(dir / "fieldgate.ini").string(),
          "[gateway]\nproduct_key = p\ndevice_key = d\ndevice_secret_file = gw.secret\n[mqtt]\nuri = tcp://h:1\n"}});
    if (!r.errors.empty()) FAIL(all(r.errors).c_str());
    STRCMP_EQUAL("rel", r.config->gateway.device_secret.c_str());
}

TEST(Config, unreadable_or_empty_secret_file_is_an_error) {
    one_error("[gateway]\nproduct_key = p\ndevice_key = d\ndevice_secret_file = " + (dir / "none").string() +
                  "\n[mqtt]\nuri = tcp://h:1\n",
              "main.ini:4: [gateway] device_secret_file: cannot read \"" + (dir / "none").string() +
                  "\": No such file or directory;");
    write(dir / "empty", "\n", 0600);
    one_error("[gateway]\nproduct_key = p\ndevice_key = d\ndevice_secret_file = " + (dir / "empty").string() +
                  "\n[mqtt]\nuri = tcp://h:1\n",
              "main.ini:4: [gateway] device_secret_file: \"" + (dir / "empty").string() + "\" is empty;");
    one_error("[gateway]\nproduct_key = p\ndevice_key = d\ndevice_secret_file = " + dir.string() +
                  "\n[mqtt]\nuri = tcp://h:1\n",
              "main.ini:4: [gateway] device_secret_file: cannot read");
}

TEST(Config, bus_type_and_transport_are_required) {
    one_error(kGateway + "[bus.b]\nhost = h\n", "main.ini:8: [bus.b] type: missing; accepted: rtu | tcp");
    one_error(kGateway + "[bus.b]\ntype = udp\n", "main.ini:9: [bus.b] type: bad value \"udp\"; accepted: rtu | tcp");
    one_error(kGateway + "[bus.b]\ntype = rtu\n", "main.ini:8: [bus.b] device: missing;");
    one_error(kGateway + "[bus.b]\ntype = tcp\n", "main.ini:8: [bus.b] host: missing;");
}

TEST(Config, mixed_up_rtu_and_tcp_options_are_errors) {
    one_error(kGateway + "[bus.b]\ntype = rtu\ndevice = /dev/ttyS0\nhost = h\n",
              "main.ini:11: [bus.b] host: mixed up RTU and TCP options;");
    const auto r = load_one(kGateway + "[bus.b]\ntype = tcp\nhost = h\nbaud = 9600\nframe_gap = 1ms\n");
    LONGS_EQUAL(2, r.errors.size());
    CHECK(has(r.errors, "main.ini:11: [bus.b] baud: mixed up RTU and TCP options;"));
    CHECK(has(r.errors, "main.ini:12: [bus.b] frame_gap: mixed up RTU and TCP options;"));
}

TEST(Config, serial_settings_are_range_checked) {
    const std::string rtu = kGateway + "[bus.b]\ntype = rtu\ndevice = /dev/ttyS0\n";
    one_error(rtu + "baud = 9601\n", "main.ini:11: [bus.b] baud: \"9601\" is not a standard rate;");
    one_error(rtu + "baud = fast\n", "main.ini:11: [bus.b] baud: not an integer \"fast\";");
    one_error(rtu + "parity = n\n", "main.ini:11: [bus.b] parity: bad value \"n\"; accepted: N | E | O");
    one_error(rtu + "data_bits = 9\n", "main.ini:11: [bus.b] data_bits: \"9\" out of range; accepted: 5..8");
    one_error(rtu + "stop_bits = 0\n", "main.ini:11: [bus.b] stop_bits: \"0\" out of range; accepted: 1..2");
    one_error(kGateway + "[bus.b]\ntype = tcp\nhost = h\nport = 0\n",
              "main.ini:11: [bus.b] port: \"0\" out of range; accepted: 1..65535");
    LONGS_EQUAL(115200, valid(rtu + "baud = 115200\n").buses.at("b").baud);
}

TEST(Config, model_without_points_is_an_error) {
    one_error(kGateway + "[model.empty]\n", "main.ini:8: [model.empty]: model has no point;");
}

TEST(Config, point_errors_carry_file_line_section_and_id) {
    one_error(kGateway + "[model.m]\nok = holding:0 int16\nPower = holding:65535 float32\n",
              "main.ini:10: [model.m] Power: point runs past the end of the table");
    one_error(kGateway + "[model.m]\nPower = holding:0 float32 quality\nPower = holding:2 float32\n",
              "main.ini:10: [model.m] Power: given twice, first at line 9;");
    one_error(kGateway + "[model.m]\n9lives = holding:0 int16\n",
              "main.ini:9: [model.m] 9lives: bad point id \"9lives\";");
}

TEST(Config, device_needs_a_known_model_and_bus) {
    const auto r = load_one(kGateway + kModel + "[device.d]\nmodel = nope\nbus = nowhere\n");
    LONGS_EQUAL(2, r.errors.size());
    CHECK(has(r.errors, "main.ini:11: [device.d] model: no [model.nope] section;"));
    CHECK(has(r.errors,
              "main.ini:12: [device.d] bus: no [bus.nowhere] section; accepted: the name of a [bus.*] section or "
              "tcp://host:port"));
    const auto missing = load_one(kGateway + kModel + "\n[device.d]\n");
    LONGS_EQUAL(2, missing.errors.size());
    CHECK(has(missing.errors, "main.ini:11: [device.d] model: missing;"));
    CHECK(has(missing.errors, "main.ini:11: [device.d] bus: missing;"));
    one_error(kGateway + kModel + "[device.d]\nmodel = m\nbus = tcp://h\n",
              "main.ini:12: [device.d] bus: bad address \"tcp://h\";");
}

TEST(Config, unit_id_is_required_and_1_to_247_on_rtu) {
    const std::string bus = kGateway + kModel + "[bus.s]\ntype = rtu\ndevice = /dev/ttyS0\n";
    one_error(bus + "[device.d]\nmodel = m\nbus = s\n",
              "main.ini:13: [device.d] unit_id: missing, the bus is RTU; accepted: 1..247");
    one_error(bus + "[device.d]\nmodel = m\nbus = s\nunit_id = 248\n",
              "main.ini:16: [device.d] unit_id: 248 on an RTU bus; accepted: 1..247");
    one_error(bus + "[device.d]\nmodel = m\nbus = s\nunit_id = 0\n",
              "main.ini:16: [device.d] unit_id: 0 on an RTU bus;");
    one_error(bus + "[device.d]\nmodel = m\nbus = s\nunit_id = 256\n",
              "main.ini:16: [device.d] unit_id: \"256\" out of range; accepted: 0..255");
    LONGS_EQUAL(247, valid(bus + "[device.d]\nmodel = m\nbus = s\nunit_id = 247\n").devices[0].unit_id);
    LONGS_EQUAL(
        255, valid(kGateway + kModel + "[device.d]\nmodel = m\nbus = tcp://h:502\nunit_id = 255\n").devices[0].unit_id);
}

TEST(Config, device_timeout_overrides_the_bus) {
    const auto c = valid(kGateway + kModel +
                         "[bus.s]\ntype = rtu\ndevice = /dev/ttyS0\n"
                         "[device.a]\nmodel = m\nbus = s\nunit_id = 1\ntimeout = 2s\n");
    LONGS_EQUAL(2000, c.timeout_of(c.devices[0]));
    LONGS_EQUAL(500, c.bus_of(c.devices[0]).timeout_ms);
}

TEST(Config, device_keys_are_range_checked) {
    const std::string d = kGateway + kModel + "[device.d]\nmodel = m\nbus = tcp://h:1\n";
    one_error(d + "interval = 9ms\n", "main.ini:13: [device.d] interval: \"9ms\" out of range;");
    one_error(d + "offline_after = 0\n", "main.ini:13: [device.d] offline_after: \"0\" out of range;");
    one_error(d + "timeout = 0ms\n", "main.ini:13: [device.d] timeout: \"0ms\" out of range;");
    one_error(d + "probe_max = soon\n", "main.ini:13: [device.d] probe_max: bad duration \"soon\";");
    one_error(d + "colour = red\n",
              "main.ini:13: [device.d] colour: unknown key; accepted: product_key device_key device_secret "
              "device_secret_file model bus unit_id interval offline_after timeout probe_max");
}

TEST(Config, sub_device_needs_both_keys_and_a_secret) {
    const std::string d = kGateway + kModel + "[device.d]\nmodel = m\nbus = tcp://h:1\n";
    one_error(d + "product_key = p\ndevice_secret = s\n",
              "main.ini:13: [device.d] product_key: product_key and device_key go together;");
    one_error(d + "product_key = p\ndevice_key = k\n", "main.ini:10: [device.d] device_secret: missing;");
    one_error(d + "device_secret = s\n",
              "main.ini:13: [device.d] device_secret: a device without product_key/device_key is the gateway itself;");
}

TEST(Config, secret_file_of_a_sub_device_is_read) {
    write(dir / "meter.secret", "m3\n", 0604);
    const auto r = load_one(kGateway + kModel +
                            "[device.d]\nmodel = m\nbus = tcp://h:1\nproduct_key = p\ndevice_key = k\n"
                            "device_secret_file = " +
                            (dir / "meter.secret").string() + "\n");
    CHECK_TRUE(r.errors.empty());
    STRCMP_EQUAL("m3", r.config->devices[0].device_secret.c_str());
    LONGS_EQUAL(1, r.warnings.size());
    STRCMP_CONTAINS("main.ini:15: [device.d] device_secret_file: ", r.warnings[0].c_str());
}

TEST(Config, two_devices_with_one_identity_are_an_error) {
    const std::string sub = "model = m\nbus = tcp://h:1\nproduct_key = p\ndevice_key = k\ndevice_secret = s\n";
    one_error(kGateway + kModel + "[device.a]\n" + sub + "[device.b]\n" + sub,
              "main.ini:16: [device.b]: product_key/device_key used twice, first by [device.a] at main.ini:10;");
    one_error(kGateway + kModel + "[device.a]\nmodel = m\nbus = tcp://h:1\n[device.b]\nmodel = m\nbus = tcp://h:2\n",
              "main.ini:13: [device.b]: a second device for the gateway itself, first by [device.a] at main.ini:10;");
    one_error(kGateway + kModel +
                  "[device.a]\nmodel = m\nbus = tcp://h:1\nproduct_key = gwPk\ndevice_key = gwDk\ndevice_secret = s\n",
              "main.ini:10: [device.a] device_key: the gateway's own product_key/device_key;");
}

TEST(Config, rs485_and_rts_settings_are_read_and_checked) {
    const std::string rtu = kGateway + "[bus.b]\ntype = rtu\ndevice = /dev/ttyS0\n";
    const auto r = load_one(rtu + "rs485 = true\nrts = up\nrts_delay = 500us\n");
    CHECK_TEXT(r.errors.empty(), r.errors.empty() ? "" : r.errors.front().c_str());
    const auto& b = r.config->buses.at("b");
    CHECK(b.rs485);
    CHECK(b.rts == fieldgate::config::Rts::Up);
    LONGS_EQUAL(500, *b.rts_delay_us);
    LONGS_EQUAL(2000, *load_one(rtu + "rts = down\nrts_delay = 2ms\n").config->buses.at("b").rts_delay_us);
    CHECK_FALSE(load_one(rtu).config->buses.at("b").rts_delay_us.has_value());
    one_error(rtu + "rs485 = maybe\n", "main.ini:11: [bus.b] rs485: ");
    one_error(rtu + "rts = sideways\n", "main.ini:11: [bus.b] rts: bad value \"sideways\"; accepted: none | up | down");
    one_error(rtu + "rts = up\nrts_delay = 2s\n",
              "main.ini:12: [bus.b] rts_delay: bad delay \"2s\"; accepted: 0us..1s");
    one_error(rtu + "rts = up\nrts_delay = soon\n", "main.ini:12: [bus.b] rts_delay: bad delay \"soon\";");
    one_error(rtu + "rts_delay = 1ms\n", "main.ini:11: [bus.b] rts_delay: rts_delay without rts;");
    one_error(kGateway + "[bus.b]\ntype = tcp\nhost = h\nrs485 = true\n",
              "main.ini:11: [bus.b] rs485: mixed up RTU and TCP options;");
}

TEST(Config, two_buses_on_one_serial_device_are_an_error) {
    one_error(kGateway + "[bus.a]\ntype = rtu\ndevice = /dev/ttyS0\n[bus.b]\ntype = rtu\ndevice = /dev/ttyS0\n",
              "main.ini:13: [bus.b] device: \"/dev/ttyS0\" is already the device of [bus.a] at main.ini:8; "
              "accepted: one [bus.*] per serial device");
}
