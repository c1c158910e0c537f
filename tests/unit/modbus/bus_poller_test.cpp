#include "fieldgate/modbus/bus_poller.hpp"

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "fake_transport.hpp"
#include "fieldgate/config/config.hpp"

#include <CppUTest/TestHarness.h>

using fieldgate::modbus::BusPoller;
using fieldgate::modbus::Reading;
using fieldgate::modbus::test::FakeTransport;
using fieldgate::modbus::test::Step;

namespace {

// The gateway and broker every test config starts with.
const std::string kGateway = R"(
[gateway]
product_key = gp
device_key = gd
device_secret = s
[mqtt]
uri = tcp://127.0.0.1:1883
)";

const std::string kConfig = kGateway + R"(
[bus.line]
type = rtu
device = /dev/ttyFAKE0
timeout = 1min
[model.m]
a = holding:0 uint16
[device.d1]
model = m
bus = line
unit_id = 1
interval = 50ms
)";

class Sink final : public fieldgate::modbus::ReadingSink {
public:
    void push(Reading r) override {
        std::lock_guard<std::mutex> lock(mutex);
        readings.push_back(std::move(r));
    }
    std::mutex mutex;
    std::vector<Reading> readings;
};

}  // namespace

TEST_GROUP(BusPoller){};

// DESIGN.md "Stop": pollers are stopped without waiting out a device time-out. The fake hangs
// like a silent slave under a 1 min time-out until it is interrupted; stop() must interrupt it.
TEST(BusPoller, stop_interrupts_a_request_in_flight) {
    auto loaded = fieldgate::config::load_texts({{"t.ini", kConfig}});
    CHECK_TEXT(loaded.config.has_value(), loaded.errors.empty() ? "" : loaded.errors.front().c_str());
    const auto& cfg = *loaded.config;
    auto transport = std::make_unique<FakeTransport>();
    FakeTransport* fake = transport.get();
    Step hang;
    hang.block_until_interrupted = true;
    fake->script.push_back(hang);
    Sink sink;
    {
        BusPoller poller(cfg, cfg.buses.at("line"), {0}, sink, std::move(transport));
        poller.start();
        CHECK(fake->wait_reading());
        poller.stop();
        CHECK(fake->interrupted);
        // Being stopped is not the device's failure: no reading claims it was.
        CHECK(sink.readings.empty());
    }
}

TEST(BusPoller, polls_the_device_and_pushes_readings) {
    auto loaded = fieldgate::config::load_texts({{"t.ini", kConfig}});
    const auto& cfg = *loaded.config;
    auto transport = std::make_unique<FakeTransport>();
    FakeTransport* fake = transport.get();
    Step hang;
    hang.block_until_interrupted = true;
    fake->script.resize(3);  // three good reads, then hang so the count stays put
    fake->script.push_back(hang);
    Sink sink;
    BusPoller poller(cfg, cfg.buses.at("line"), {0}, sink, std::move(transport));
    poller.start();
    CHECK(fake->wait_reading());
    poller.stop();
    LONGS_EQUAL(3, sink.readings.size());
    for (const auto& r : sink.readings) {
        CHECK(r.ok);
        CHECK(r.online);
        STRCMP_EQUAL("{\"a\":0}", r.measurepoints.c_str());
    }
    STRCMP_EQUAL("open", fake->log.front().c_str());
}

TEST(BusPoller, named_buses_get_a_thread_each_and_tcp_endpoints_share_threads) {
    std::string text = kConfig + "[bus.gw]\ntype = tcp\nhost = 10.0.0.1\n";
    const auto device = [](const std::string& name, const std::string& rest) {
        return "[device." + name + "]\nproduct_key = p\ndevice_key = " + name + "\ndevice_secret = s\nmodel = m\n" +
               rest;
    };
    text += device("g1", "bus = gw\n") + device("g2", "bus = gw\nunit_id = 2\n");
    for (int i = 0; i < 10; ++i)
        text += device("e" + std::to_string(i), "bus = tcp://10.0.1." + std::to_string(i) + ":502\n");
    auto loaded = fieldgate::config::load_texts({{"t.ini", text}});
    CHECK_TEXT(loaded.config.has_value(), loaded.errors.empty() ? "" : loaded.errors.front().c_str());
    const auto groups = fieldgate::modbus::group_buses(*loaded.config);
    LONGS_EQUAL(4, groups.size());  // gw, line, then 10 endpoints as 8 + 2
    STRCMP_EQUAL("gw", groups[0].name.c_str());
    LONGS_EQUAL(1, groups[0].lines.size());
    LONGS_EQUAL(2, groups[0].lines[0].second.size());
    STRCMP_EQUAL("line", groups[1].name.c_str());
    STRCMP_EQUAL("tcp-pool-1", groups[2].name.c_str());
    LONGS_EQUAL(fieldgate::modbus::kEndpointsPerThread, groups[2].lines.size());
    STRCMP_EQUAL("tcp-pool-2", groups[3].name.c_str());
    LONGS_EQUAL(2, groups[3].lines.size());
    std::size_t devices = 0;
    for (const auto& g : groups)
        for (const auto& l : g.lines)
            devices += l.second.size();
    LONGS_EQUAL(loaded.config->devices.size(), devices);
}

// A shared thread (several tcp:// endpoints): an endpoint that stops answering is served apart
// after its first failure, so its thread-mate keeps being polled while it hangs; stop() ends
// both threads without waiting the hang out.
TEST(BusPoller, a_failing_endpoint_is_served_apart_from_its_thread_mates) {
    std::string text = kGateway + R"(
[model.m]
a = holding:0 uint16
)";
    for (const char* name : {"live", "dead"})
        text += std::string("[device.") + name + "]\nproduct_key = p\ndevice_key = " + name +
                "\ndevice_secret = s\nmodel = m\ninterval = 10ms\nbus = tcp://10.0.0." + (name[0] == 'l' ? "1" : "2") +
                ":502\n";
    auto loaded = fieldgate::config::load_texts({{"t.ini", text}});
    CHECK_TEXT(loaded.config.has_value(), loaded.errors.empty() ? "" : loaded.errors.front().c_str());
    const auto& cfg = *loaded.config;
    const auto groups = fieldgate::modbus::group_buses(cfg);
    LONGS_EQUAL(1, groups.size());
    LONGS_EQUAL(2, groups[0].lines.size());
    std::vector<std::unique_ptr<fieldgate::modbus::ModbusTransport>> transports;
    FakeTransport* dead = nullptr;
    for (const auto& line : groups[0].lines) {
        auto t = std::make_unique<FakeTransport>();
        if (line.first == "tcp://10.0.0.2:502") {
            dead = t.get();
            Step hang;
            hang.block_until_interrupted = true;
            t->script.push_back(fieldgate::modbus::test::fails(fieldgate::modbus::Outcome::Timeout));
            t->script.push_back(hang);  // the first failure sets it apart; then it hangs there
        }
        transports.push_back(std::move(t));
    }
    CHECK(dead != nullptr);
    if (dead == nullptr) return;  // CHECK above failed; tells the analyzer too
    Sink sink;
    BusPoller poller(cfg, groups[0], sink, std::move(transports));
    CHECK_FALSE(poller.serves(99));
    poller.start();
    CHECK(dead->wait_reading());
    LONGS_EQUAL(1, poller.lines_set_aside());
    const auto live_readings = [&] {
        std::lock_guard<std::mutex> lock(sink.mutex);
        std::size_t n = 0;
        for (const auto& r : sink.readings)
            n += cfg.devices[r.device].name == "live" && r.ok ? 1U : 0U;
        return n;
    };
    // While the dead endpoint hangs, its thread-mate is still polled (without the second thread
    // it would wait behind the hang for good). Counted, not timed: up to 10 s for 5 readings.
    const std::size_t before = live_readings();
    for (int i = 0; i < 1000 && live_readings() < before + 5; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    CHECK(live_readings() >= before + 5);
    poller.stop();
    CHECK(dead->interrupted);
}
