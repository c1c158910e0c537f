// The resume/post split under wall-clock steps (DESIGN.md "The worst day": No clock): NTP
// stepping the clock by hours, either way, must not move this run's old records into post nor
// its live ones into resume.
#include <map>
#include <string>
#include <vector>

#include "fieldgate/enos/batch.hpp"
#include "fieldgate/uplink/uplink.hpp"

// CppUTest's leak detector redefines new: it comes after every other header.
#include <CppUTest/TestHarness.h>

using namespace fieldgate;

namespace {

constexpr std::int64_t kHourMs = 3'600'000;

class TopicsClient final : public mqtt::Client {
public:
    std::vector<std::string> topics;
    std::vector<std::string> payloads;
    bool connect(const mqtt::ConnectOptions&) override { return true; }
    bool subscribe(const std::vector<std::string>&) override { return true; }
    bool publish(const std::string& topic, const std::string& payload) override {
        topics.push_back(topic);
        payloads.push_back(payload);
        return true;
    }
    void disconnect() override {}
};

class MemoryStore final : public store::RecordStore {
public:
    std::map<std::int64_t, store::Record> records;
    std::int64_t next_id = 1;
    std::vector<store::Record> fetch(const store::FetchRange& range) override {
        std::vector<store::Record> out;
        for (auto it = records.upper_bound(range.after_id); it != records.end() && it->first < range.before_id; ++it) {
            if (out.size() >= range.max_records) break;
            out.push_back(it->second);
        }
        return out;
    }
    std::int64_t first_id_at_or_after(std::int64_t t) override {
        for (const auto& [id, r] : records)
            if (r.time_ms >= t) return id;
        return 0;
    }
    std::int64_t last_id() override { return records.empty() ? 0 : records.rbegin()->first; }
    bool remove(const std::vector<std::int64_t>& ids) override {
        for (auto id : ids)
            records.erase(id);
        return true;
    }
    bool dead_letter(const std::vector<std::int64_t>& ids, const std::string&, int) override { return remove(ids); }
};

}  // namespace

TEST_GROUP(UplinkClockSteps) {
    util::FakeClock clock;
    TopicsClient client;
    MemoryStore store;
    std::unique_ptr<uplink::Uplink> up;

    void setup() override {
        uplink::Settings s;
        s.product_key = "gwPk";
        s.device_key = "gwDk";
        s.secret = "gwSecret";
        s.mqtt.uri = "tcp://127.0.0.1:1";
        s.gateway_devices = {"gw"};
        s.uplink.resume_after_ms = 300'000;
        s.uplink.batch_max_records = 1;
        s.uplink.inflight = 100;
        up = std::make_unique<uplink::Uplink>(s, client, store, clock, 7);
        up->start();  // no CONNACK yet: records pile up
    }
    // One record a minute for `minutes`, each committed, stamped by the (fake) wall clock.
    void poll_for(int minutes) {
        for (int i = 0; i < minutes; ++i) {
            clock.advance(60'000);
            store::Record r;
            r.id = store.next_id++;
            r.device = "gw";
            r.time_ms = clock.wall_ms();
            r.body = enos::encode_record("", "", r.time_ms, "{\"n\":" + std::to_string(r.id) + "}");
            store.records[r.id] = r;
            up->on_records_committed();
        }
    }
    // After the connection comes up: how many records went via resume and via post.
    std::pair<int, int> connect_and_count() {
        mqtt::Event e;
        e.kind = mqtt::Event::Kind::Connected;
        up->on_event(e);
        e.kind = mqtt::Event::Kind::Subscribed;
        up->on_event(e);
        int resume = 0, post = 0;
        for (const auto& t : client.topics) {
            if (t.find("/resume/batch") != std::string::npos) ++resume;
            if (t.find("/post/batch") != std::string::npos) ++post;
        }
        return {resume, post};
    }
};

TEST(UplinkClockSteps, a_step_back_by_hours_keeps_old_records_in_resume) {
    poll_for(30);                   // 30 records over 30 minutes
    clock.step_wall(-3 * kHourMs);  // NTP: the clock was 3 h ahead
    const auto [resume, post] = connect_and_count();
    // By wall time all 30 would look live (stamped "in the future"); by age 25 are older than 5 min.
    LONGS_EQUAL(25, resume);
    LONGS_EQUAL(5, post);
}

TEST(UplinkClockSteps, a_step_forward_by_hours_keeps_live_records_in_post) {
    poll_for(30);
    clock.step_wall(3 * kHourMs);  // NTP: the clock was 3 h behind
    const auto [resume, post] = connect_and_count();
    // By wall time all 30 would look 3 h old and the live ones would wait behind the backlog.
    LONGS_EQUAL(25, resume);
    LONGS_EQUAL(5, post);
}

TEST(UplinkClockSteps, a_young_run_sends_its_records_live_whatever_the_wall_clock_says) {
    poll_for(3);
    clock.step_wall(5 * kHourMs);
    const auto [resume, post] = connect_and_count();
    LONGS_EQUAL(0, resume);
    LONGS_EQUAL(3, post);
}

TEST(UplinkClockSteps, records_from_before_the_run_still_go_by_their_wall_time) {
    MemoryStore fresh;
    for (int i = 0; i < 4; ++i) {
        store::Record r;
        r.id = fresh.next_id++;
        r.device = "gw";
        r.time_ms = clock.wall_ms() - kHourMs + i;  // an hour old, from an earlier run
        r.body = enos::encode_record("", "", r.time_ms, "{}");
        fresh.records[r.id] = r;
    }
    uplink::Settings s;
    s.product_key = "gwPk";
    s.device_key = "gwDk";
    s.secret = "x";
    s.mqtt.uri = "tcp://127.0.0.1:1";
    s.gateway_devices = {"gw"};
    s.uplink.resume_after_ms = 300'000;
    s.uplink.batch_max_records = 1;
    s.uplink.inflight = 100;
    up = std::make_unique<uplink::Uplink>(s, client, fresh, clock, 7);
    up->start();
    const auto [resume, post] = connect_and_count();
    LONGS_EQUAL(4, resume);
    LONGS_EQUAL(0, post);
}
