#include "fieldgate/modbus/bus_poller.hpp"

#include <mutex>
#include <string>
#include <vector>

#include "fake_transport.hpp"
#include "fieldgate/config/config.hpp"

#include <CppUTest/TestHarness.h>

using fieldgate::modbus::BusPoller;
using fieldgate::modbus::Reading;
using fieldgate::modbus::test::FakeTransport;
using fieldgate::modbus::test::Step;

namespace {

const char* const kConfig = R"(
[gateway]
product_key = gp
device_key = gd
device_secret = s
[mqtt]
uri = tcp://127.0.0.1:1883
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
