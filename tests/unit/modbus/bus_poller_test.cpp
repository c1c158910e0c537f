#include "fieldgate/modbus/bus_poller.hpp"

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
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

// A transport factory that hands out `made` in order, then fails (no second connection expected).
BusPoller::TransportFactory handing_out(std::vector<std::unique_ptr<fieldgate::modbus::ModbusTransport>>& made) {
    return [&made, next = std::size_t{0}](const fieldgate::config::Bus& bus) mutable {
        if (next == made.size()) throw std::runtime_error("bus=" + bus.name + ": no transport left");
        return std::move(made[next++]);
    };
}

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
    BusPoller poller(cfg, groups[0], sink, handing_out(transports));
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

namespace {

// Two tcp:// endpoints on one shared thread: 10.0.0.1 a gateway with units 1 ("live") and 2
// ("sick"), 10.0.0.2 a meter of its own ("mate").
const std::string kGatewayConfig = kGateway + R"(
[model.m]
a = holding:0 uint16
[device.live]
product_key = p
device_key = live
device_secret = s
model = m
interval = 10ms
bus = tcp://10.0.0.1:502
unit_id = 1
[device.sick]
product_key = p
device_key = sick
device_secret = s
model = m
interval = 10ms
offline_after = 1
probe_max = 1s
bus = tcp://10.0.0.1:502
unit_id = 2
[device.mate]
product_key = p
device_key = mate
device_secret = s
model = m
interval = 10ms
bus = tcp://10.0.0.2:502
)";

constexpr const char* kGatewayBus = "tcp://10.0.0.1:502";

// Makes fake transports: the gateway's connections (the first, then a second one if asked for)
// and the mate's; each made one is kept in `made` under its bus name.
struct Fakes {
    std::map<std::string, std::vector<FakeTransport*>> made;
    std::map<std::uint8_t, std::deque<Step>> gateway_units;  ///< unit_script of the gateway's first connection
    std::map<std::uint8_t, std::deque<Step>> second_units;   ///< unit_script of its second one

    BusPoller::TransportFactory factory() {
        return [this](const fieldgate::config::Bus& bus) {
            auto t = std::make_unique<FakeTransport>();
            auto& mine = made[bus.name];
            if (bus.name == kGatewayBus) t->unit_script = mine.empty() ? gateway_units : second_units;
            mine.push_back(t.get());
            return std::unique_ptr<fieldgate::modbus::ModbusTransport>(std::move(t));
        };
    }
};

// Readings of `device` so far, good ones or failed ones.
std::size_t count(Sink& sink, const fieldgate::config::Config& cfg, const std::string& device, bool ok) {
    std::lock_guard<std::mutex> lock(sink.mutex);
    std::size_t n = 0;
    for (const auto& r : sink.readings)
        n += cfg.devices[r.device].name == device && r.ok == ok ? 1U : 0U;
    return n;
}

// Waits (counted, not timed: at most 10 s) until `device` has `n` readings that are `ok`.
bool wait_for(Sink& sink, const fieldgate::config::Config& cfg, const std::string& device, bool ok, std::size_t n) {
    for (int i = 0; i < 1000 && count(sink, cfg, device, ok) < n; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return count(sink, cfg, device, ok) >= n;
}

}  // namespace

// One endpoint carrying several units (a Modbus TCP gateway): its units are judged one by one.
TEST_GROUP(BusPollerUnits){};

// A gateway that refuses one unit at once (0x0B: the slave behind it is not there) answers: the
// unit fails its polls and goes offline, but its endpoint stays on the shared thread, and no
// second connection is made.
TEST(BusPollerUnits, a_unit_refused_by_its_gateway_keeps_its_endpoint_on_the_shared_thread) {
    auto loaded = fieldgate::config::load_texts({{"t.ini", kGatewayConfig}});
    CHECK_TEXT(loaded.config.has_value(), loaded.errors.empty() ? "" : loaded.errors.front().c_str());
    const auto& cfg = *loaded.config;
    const auto groups = fieldgate::modbus::group_buses(cfg);
    LONGS_EQUAL(1, groups.size());
    Fakes fakes;
    fakes.gateway_units[2] = {fieldgate::modbus::test::fails(fieldgate::modbus::Outcome::Exception,
                                                             fieldgate::modbus::kGatewayTargetFailed,
                                                             "gateway target device failed to respond (0x0b)")};
    Sink sink;
    BusPoller poller(cfg, groups[0], sink, fakes.factory());
    poller.start();
    CHECK(wait_for(sink, cfg, "sick", false, 5));
    CHECK(wait_for(sink, cfg, "live", true, 5));
    LONGS_EQUAL(0, poller.lines_set_aside());
    LONGS_EQUAL(0, poller.units_apart());
    poller.stop();
    LONGS_EQUAL(1, fakes.made[kGatewayBus].size());
    LONGS_EQUAL(0, count(sink, cfg, "sick", true));
    std::lock_guard<std::mutex> lock(sink.mutex);
    for (const auto& r : sink.readings)
        if (cfg.devices[r.device].name == "sick") {
            CHECK_FALSE(r.online);  // offline_after = 1: the health judgement is unchanged
            LONGS_EQUAL(1, r.exceptions.size());
        }
}

// A unit that times out while its siblings answer is served apart, over a second connection of
// its own, and its live sibling keeps being polled by the shared thread. The silent unit's
// time-outs after its first are hangs (a long time-out): before, the whole endpoint went aside
// after the first, and the live unit waited behind the next one for good.
TEST(BusPollerUnits, a_silent_unit_is_served_apart_and_its_siblings_keep_their_polls) {
    auto loaded = fieldgate::config::load_texts({{"t.ini", kGatewayConfig}});
    CHECK_TEXT(loaded.config.has_value(), loaded.errors.empty() ? "" : loaded.errors.front().c_str());
    const auto& cfg = *loaded.config;
    const auto groups = fieldgate::modbus::group_buses(cfg);
    Fakes fakes;
    Step hang;
    hang.block_until_interrupted = true;
    fakes.gateway_units[2] = {fieldgate::modbus::test::fails(fieldgate::modbus::Outcome::Timeout), hang};
    fakes.second_units[2] = {hang};
    Sink sink;
    BusPoller poller(cfg, groups[0], sink, fakes.factory());
    poller.start();
    CHECK(wait_for(sink, cfg, "sick", false, 1));
    CHECK(wait_for(sink, cfg, "live", true, 1));
    const std::size_t live = count(sink, cfg, "live", true);
    const std::size_t mate = count(sink, cfg, "mate", true);
    CHECK(wait_for(sink, cfg, "live", true, live + 5));
    CHECK(wait_for(sink, cfg, "mate", true, mate + 5));
    LONGS_EQUAL(0, poller.lines_set_aside());
    LONGS_EQUAL(1, poller.units_apart());
    // units_apart() took the poller's lock, under which the second connection was made.
    FakeTransport* second = fakes.made[kGatewayBus].size() == 2 ? fakes.made[kGatewayBus][1] : nullptr;
    CHECK(second != nullptr);
    if (second == nullptr) return;  // CHECK above failed; tells the analyzer too
    CHECK(second->wait_reading());  // the silent unit hangs on its own connection
    poller.stop();
    CHECK(second->interrupted);
    // Only the silent unit went over the second connection, and it never hung on the first.
    for (const auto& call : second->log)
        CHECK_TEXT(call.rfind("read", 0) != 0 || call == "read u2 h0+1", call.c_str());
    std::size_t sick_reads = 0;
    for (const auto& call : fakes.made[kGatewayBus][0]->log)
        sick_reads += call == "read u2 h0+1" ? 1U : 0U;
    LONGS_EQUAL(1, sick_reads);
}

// An endpoint none of whose units answers is set aside whole, on its one connection, as a
// single-unit endpoint is; no second connection is made for it.
TEST(BusPollerUnits, an_endpoint_whose_units_all_time_out_goes_aside_whole) {
    auto loaded = fieldgate::config::load_texts({{"t.ini", kGatewayConfig}});
    CHECK_TEXT(loaded.config.has_value(), loaded.errors.empty() ? "" : loaded.errors.front().c_str());
    const auto& cfg = *loaded.config;
    const auto groups = fieldgate::modbus::group_buses(cfg);
    Fakes fakes;
    fakes.gateway_units[1] = {fieldgate::modbus::test::fails(fieldgate::modbus::Outcome::Timeout)};
    fakes.gateway_units[2] = fakes.gateway_units[1];
    Sink sink;
    BusPoller poller(cfg, groups[0], sink, fakes.factory());
    poller.start();
    CHECK(wait_for(sink, cfg, "live", false, 3));
    CHECK(wait_for(sink, cfg, "sick", false, 3));
    CHECK(wait_for(sink, cfg, "mate", true, 5));
    LONGS_EQUAL(1, poller.lines_set_aside());
    LONGS_EQUAL(0, poller.units_apart());
    poller.stop();
    LONGS_EQUAL(1, fakes.made[kGatewayBus].size());
}

// A unit served apart that answers again comes back to the shared connection, and the second
// connection, needed by nobody now, is closed.
TEST(BusPollerUnits, a_unit_that_answers_again_comes_back_and_the_second_connection_closes) {
    auto loaded = fieldgate::config::load_texts({{"t.ini", kGatewayConfig}});
    CHECK_TEXT(loaded.config.has_value(), loaded.errors.empty() ? "" : loaded.errors.front().c_str());
    const auto& cfg = *loaded.config;
    const auto groups = fieldgate::modbus::group_buses(cfg);
    Fakes fakes;
    const Step timeout = fieldgate::modbus::test::fails(fieldgate::modbus::Outcome::Timeout);
    fakes.gateway_units[2] = {timeout, Step{}};  // silent once, then it answers for good
    fakes.second_units[2] = {timeout, Step{}};
    Sink sink;
    BusPoller poller(cfg, groups[0], sink, fakes.factory());
    poller.start();
    CHECK(wait_for(sink, cfg, "sick", true, 3));
    CHECK(wait_for(sink, cfg, "live", true, 3));
    LONGS_EQUAL(0, poller.units_apart());
    LONGS_EQUAL(0, poller.lines_set_aside());
    // units_apart() took the poller's lock, under which the second connection was made and closed.
    LONGS_EQUAL(2, fakes.made[kGatewayBus].size());
    FakeTransport* second = fakes.made[kGatewayBus][1];
    CHECK_FALSE(second->is_open());
    const std::string calls = fieldgate::modbus::test::joined(second->log);
    poller.stop();
    STRCMP_EQUAL("open, read u2 h0+1, flush, read u2 h0+1, close", calls.c_str());
}

// A gateway that takes one client only refuses the second connection: the silent unit is then
// polled on the shared connection again (a live unit must not stay offline for want of a
// connection), and the next tries wait for the second connection's back-off.
TEST(BusPollerUnits, a_second_connection_refused_sends_the_unit_back_to_the_shared_one) {
    auto loaded = fieldgate::config::load_texts({{"t.ini", kGatewayConfig}});
    CHECK_TEXT(loaded.config.has_value(), loaded.errors.empty() ? "" : loaded.errors.front().c_str());
    const auto& cfg = *loaded.config;
    const auto groups = fieldgate::modbus::group_buses(cfg);
    Fakes fakes;
    fakes.gateway_units[2] = {fieldgate::modbus::test::fails(fieldgate::modbus::Outcome::Timeout)};
    Sink sink;
    auto factory = fakes.factory();
    BusPoller poller(cfg, groups[0], sink, [&](const fieldgate::config::Bus& bus) {
        auto t = factory(bus);
        if (fakes.made[bus.name].size() == 2)
            static_cast<FakeTransport*>(t.get())->open_result =
                fieldgate::modbus::Result{fieldgate::modbus::Outcome::Closed, 0, "connection refused"};
        return t;
    });
    poller.start();
    CHECK(wait_for(sink, cfg, "sick", false, 4));
    CHECK(wait_for(sink, cfg, "live", true, 4));
    poller.stop();
    LONGS_EQUAL(2, fakes.made[kGatewayBus].size());
    std::size_t sick_on_shared = 0;
    for (const auto& call : fakes.made[kGatewayBus][0]->log)
        sick_on_shared += call == "read u2 h0+1" ? 1U : 0U;
    CHECK(sick_on_shared >= 2);  // back on the shared connection after the refusal
    const std::string second = fieldgate::modbus::test::joined(fakes.made[kGatewayBus][1]->log);
    STRCMP_CONTAINS("open", second.c_str());
    CHECK(second.find("read") == std::string::npos);
}
