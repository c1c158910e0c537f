#include <json/json.h>

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "fieldgate/enos/batch.hpp"
#include "fieldgate/enos/sign.hpp"
#include "fieldgate/uplink/uplink.hpp"

// CppUTest's leak detector redefines new: it comes after every other header.
#include <CppUTest/TestHarness.h>

using namespace fieldgate;

namespace {

struct Published {
    std::string topic;
    std::string payload;
};

class FakeClient final : public mqtt::Client {
public:
    std::vector<mqtt::ConnectOptions> connects;
    std::vector<std::vector<std::string>> subscriptions;
    std::vector<Published> published;
    int disconnects = 0;
    bool accept_publish = true;

    bool connect(const mqtt::ConnectOptions& o) override {
        connects.push_back(o);
        return true;
    }
    bool subscribe(const std::vector<std::string>& topics) override {
        subscriptions.push_back(topics);
        return true;
    }
    bool publish(const std::string& topic, const std::string& payload) override {
        if (!accept_publish) return false;
        published.push_back({topic, payload});
        return true;
    }
    void disconnect() override { ++disconnects; }
};

class FakeStore final : public store::RecordStore {
public:
    std::map<std::int64_t, store::Record> records;
    std::map<std::int64_t, std::pair<std::string, int>> dead;
    std::int64_t next_id = 1;

    void add(const std::string& device, std::int64_t time_ms, const std::string& pk = "p") {
        store::Record r;
        r.id = next_id++;
        r.device = device;
        r.time_ms = time_ms;
        r.body = enos::encode_record(pk, pk.empty() ? "" : device, time_ms, "{\"v\":" + std::to_string(r.id) + "}");
        records[r.id] = r;
    }
    std::vector<store::Record> fetch(const store::FetchRange& range) override {
        if (fail_reads) throw store::StoreError("disk I/O error");
        std::vector<store::Record> out;
        std::size_t bytes = 0;
        for (auto it = records.upper_bound(range.after_id); it != records.end() && it->first < range.before_id; ++it) {
            if (out.size() >= range.max_records) break;
            if (!out.empty() && bytes + it->second.body.size() > range.max_bytes) break;
            bytes += it->second.body.size();
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
    bool fail_writes = false;  ///< a store that cannot write (full disk): remove and dead_letter refuse
    bool fail_reads = false;   ///< fetch throws, as a read error does
    bool remove(const std::vector<std::int64_t>& ids) override {
        if (fail_writes) return false;
        for (auto id : ids)
            records.erase(id);
        return true;
    }
    bool dead_letter(const std::vector<std::int64_t>& ids, const std::string& reason, int code) override {
        if (fail_writes) return false;
        for (auto id : ids) {
            dead[id] = {reason, code};
            records.erase(id);
        }
        return true;
    }
};

Json::Value parse(const std::string& text) {
    Json::CharReaderBuilder b;
    std::unique_ptr<Json::CharReader> r(b.newCharReader());
    Json::Value v;
    std::string errs;
    CHECK_TEXT(r->parse(text.data(), text.data() + text.size(), &v, &errs), errs.c_str());
    return v;
}

mqtt::Event event(mqtt::Event::Kind k) {
    mqtt::Event e;
    e.kind = k;
    return e;
}

}  // namespace

// What both groups share: the fakes, the gateway's identity, and a connection up to SUBACK.
TEST_BASE(UplinkHarness) {
    util::FakeClock clock;
    FakeClient client;
    FakeStore store;
    uplink::Settings settings;
    std::unique_ptr<uplink::Uplink> up;

    UplinkHarness() {
        settings.product_key = "gwPk";
        settings.device_key = "gwDk";
        settings.secret = "gwSecret";
    }
    void connect() {
        up->start();
        up->on_event(event(mqtt::Event::Kind::Connected));
        up->on_event(event(mqtt::Event::Kind::Subscribed));
    }
};

TEST_GROUP_BASE(Uplink, UplinkHarness) {
    void setup() override {
        settings.mqtt.uri = "tcp://127.0.0.1:1";
        settings.uplink.inflight = 2;
        settings.uplink.batch_max_records = 3;
        settings.uplink.reply_timeout_ms = 30'000;
        settings.uplink.retry_min_ms = 1000;
        settings.uplink.retry_max_ms = 8000;
        settings.gateway_devices = {"gw"};
    }
    void make() {
        up = std::make_unique<uplink::Uplink>(settings, client, store, clock, 7);
    }
    void reply(const Published& p, int code) {
        const Json::Value req = parse(p.payload);
        mqtt::Event e = event(mqtt::Event::Kind::Message);
        e.topic = p.topic + "_reply";
        e.payload = "{\"id\":\"" + req["id"].asString() + "\",\"code\":" + std::to_string(code) + ",\"data\":{}}";
        up->on_event(e);
    }
    // Plays the cloud until nothing is left to answer: code_of decides each batch's code.
    std::size_t answered = 0;  // published messages the fake cloud has answered, across serve() calls

    void serve(const std::function<int(const Json::Value&)>& code_of, int rounds = 200) {
        for (int i = 0; i < rounds; ++i) {
            if (answered < client.published.size()) {
                const Published p = client.published[answered++];
                const Json::Value req = parse(p.payload);
                CHECK_TEXT(req["params"].size() > 0, "a batch went out empty");
                reply(p, code_of(req));
                continue;
            }
            const auto next = up->next_wakeup_mono();
            if (next == INT64_MAX) return;
            clock.advance(std::max<std::int64_t>(1, next - clock.mono_ms()));
            up->tick();
        }
    }
};

TEST(Uplink, connects_with_signed_credentials_and_subscribes_to_replies_before_publishing) {
    store.add("m1", clock.wall_ms());
    make();
    up->start();
    LONGS_EQUAL(1, client.connects.size());
    STRCMP_EQUAL("gwDk&gwPk", client.connects[0].username.c_str());
    CHECK(client.connects[0].client_id.rfind("gwPk.gwDk|securemode=2,signmethod=sha256,timestamp=", 0) == 0);
    LONGS_EQUAL(64, client.connects[0].password.size());
    up->on_event(event(mqtt::Event::Kind::Connected));
    LONGS_EQUAL(1, client.subscriptions.size());
    CHECK(std::find(client.subscriptions[0].begin(), client.subscriptions[0].end(),
                    "/sys/gwPk/gwDk/thing/measurepoint/post/batch_reply") != client.subscriptions[0].end());
    LONGS_EQUAL(0, client.published.size());  // not before the subscription is confirmed
    up->on_event(event(mqtt::Event::Kind::Subscribed));
    LONGS_EQUAL(1, client.published.size());
    STRCMP_EQUAL("/sys/gwPk/gwDk/thing/measurepoint/post/batch", client.published[0].topic.c_str());
}

TEST(Uplink, a_200_deletes_exactly_the_batch_records) {
    for (int i = 0; i < 3; ++i)
        store.add("m" + std::to_string(i + 1), clock.wall_ms());
    make();
    connect();
    LONGS_EQUAL(1, client.published.size());
    const Json::Value req = parse(client.published[0].payload);
    LONGS_EQUAL(3, req["params"].size());
    CHECK(req["allowOfflineSubDevice"].asBool());  // auto: sub-devices are not logged in
    STRCMP_EQUAL("thing.measurepoint.post.batch", req["method"].asCString());
    store.add("m1", clock.wall_ms());  // arrives while the batch is in flight
    reply(client.published[0], 200);
    LONGS_EQUAL(1, store.records.size());
    LONGS_EQUAL(3, up->stats().delivered);
    LONGS_EQUAL(200, up->stats().last_code);
}

TEST(Uplink, the_window_holds_at_most_inflight_batches) {
    for (int i = 0; i < 20; ++i)
        store.add("m1", clock.wall_ms());
    make();
    connect();
    LONGS_EQUAL(2, client.published.size());
    LONGS_EQUAL(2, up->stats().inflight);
    reply(client.published[0], 200);
    LONGS_EQUAL(3, client.published.size());
    serve([](const Json::Value&) { return 200; });
    LONGS_EQUAL(0, store.records.size());
    LONGS_EQUAL(20, up->stats().delivered);
}

TEST(Uplink, no_reply_within_the_timeout_sends_the_same_records_again) {
    store.add("m1", clock.wall_ms());
    make();
    connect();
    LONGS_EQUAL(1, client.published.size());
    clock.advance(29'999);
    up->tick();
    LONGS_EQUAL(1, client.published.size());
    clock.advance(1);
    up->tick();
    LONGS_EQUAL(1, up->stats().timeouts);
    clock.advance(up->next_wakeup_mono() - clock.mono_ms());
    up->tick();
    LONGS_EQUAL(2, client.published.size());
    CHECK(parse(client.published[0].payload)["params"] == parse(client.published[1].payload)["params"]);
    LONGS_EQUAL(1, store.records.size());  // nothing was dropped
}

TEST(Uplink, a_lost_connection_resends_everything_in_flight_after_reconnect) {
    for (int i = 0; i < 6; ++i)
        store.add("m1", clock.wall_ms());
    make();
    connect();
    LONGS_EQUAL(2, client.published.size());
    mqtt::Event lost = event(mqtt::Event::Kind::ConnectionLost);
    lost.reason = "broker gone";
    up->on_event(lost);
    CHECK_FALSE(up->stats().connected);
    clock.advance(up->next_wakeup_mono() - clock.mono_ms());
    up->tick();
    LONGS_EQUAL(2, client.connects.size());
    up->on_event(event(mqtt::Event::Kind::Connected));
    up->on_event(event(mqtt::Event::Kind::Subscribed));
    const std::size_t before = client.published.size();
    CHECK(before == 4);
    // The first batch after the reconnect starts again from the oldest record.
    LONGS_EQUAL(parse(client.published[0].payload)["params"][0]["time"].asInt64(),
                parse(client.published[2].payload)["params"][0]["time"].asInt64());
    serve([](const Json::Value&) { return 200; });
    LONGS_EQUAL(0, store.records.size());
}

TEST(Uplink, bisection_isolates_the_one_bad_record_and_delivers_the_rest) {
    settings.uplink.batch_max_records = 16;
    settings.uplink.inflight = 1;
    for (int i = 0; i < 16; ++i)
        store.add(i == 11 ? "bad" : "m" + std::to_string(i % 3 + 1), clock.wall_ms() + i);
    make();
    connect();
    serve([](const Json::Value& req) {
        for (const auto& r : req["params"])
            if (r["deviceKey"].asString() == "bad") return 1204;
        return 200;
    });
    LONGS_EQUAL(0, store.records.size());
    LONGS_EQUAL(1, store.dead.size());
    STRCMP_EQUAL("code_1204", store.dead.at(12).first.c_str());
    LONGS_EQUAL(1204, store.dead.at(12).second);
    LONGS_EQUAL(15, up->stats().delivered);
}

TEST(Uplink, a_200_the_store_cannot_record_is_not_counted_delivered_until_the_delete_lands) {
    for (int i = 0; i < 4; ++i)
        store.add("m1", clock.wall_ms());
    make();
    connect();
    store.fail_writes = true;  // a full disk: the delete after the 200 fails
    reply(client.published[0], 200);
    LONGS_EQUAL(0, up->stats().delivered);
    LONGS_EQUAL(4, store.records.size());
    // Not sent again meanwhile, and the rest keeps flowing.
    reply(client.published[1], 200);
    LONGS_EQUAL(2, client.published.size());
    clock.advance(5000);
    up->tick();  // the delete is tried again, and fails again
    LONGS_EQUAL(2, client.published.size());
    LONGS_EQUAL(0, up->stats().delivered);
    LONGS_EQUAL(4, store.records.size());
    store.fail_writes = false;
    CHECK(up->next_wakeup_mono() <= clock.mono_ms() + 2000);
    clock.advance(up->next_wakeup_mono() - clock.mono_ms());
    up->tick();
    LONGS_EQUAL(0, store.records.size());
    LONGS_EQUAL(4, up->stats().delivered);
    LONGS_EQUAL(2, client.published.size());
}

TEST(Uplink, while_the_store_cannot_delete_the_backlog_waits_and_live_records_go_on) {
    settings.uplink.resume_after_ms = 300'000;
    settings.uplink.batch_max_records = 2;
    settings.uplink.inflight = 1;
    settings.max_undeleted = 3;
    for (int i = 0; i < 10; ++i)
        store.add("m1", clock.wall_ms() - 3'600'000 + i);  // a backlog, an hour old
    store.fail_writes = true;                              // a full disk
    make();
    connect();
    auto resumes = [this] {
        std::size_t n = 0;
        for (const auto& p : client.published)
            if (p.topic.find("/resume/batch") != std::string::npos) ++n;
        return n;
    };
    serve([](const Json::Value&) { return 200; });
    LONGS_EQUAL(2, resumes());  // 4 ids confirmed and not deletable: at the cap, the backlog waits
    LONGS_EQUAL(0, up->stats().delivered);
    // Readings arriving now (served from memory by a store in memory mode) still go out.
    store.add("m2", clock.wall_ms());
    store.add("m2", clock.wall_ms());
    up->on_records_committed();
    serve([](const Json::Value&) { return 200; });
    LONGS_EQUAL(2, resumes());
    CHECK(parse(client.published.back().payload)["params"][0]["deviceKey"].asString() == "m2");
    // Space returns: the deletes land, counted once, and the backlog goes on.
    store.fail_writes = false;
    serve([](const Json::Value&) { return 200; });
    LONGS_EQUAL(0, store.records.size());
    LONGS_EQUAL(12, up->stats().delivered);
}

TEST(Uplink, a_dead_letter_the_store_cannot_record_is_not_counted_and_tried_again) {
    store.add("bad", clock.wall_ms());
    make();
    connect();
    store.fail_writes = true;
    reply(client.published[0], 1204);
    LONGS_EQUAL(0, up->stats().dead_lettered);
    LONGS_EQUAL(1, store.records.size());
    store.fail_writes = false;
    serve([](const Json::Value&) { return 1204; });
    LONGS_EQUAL(1, store.dead.size());
    LONGS_EQUAL(1, up->stats().dead_lettered);
    LONGS_EQUAL(0, store.records.size());
}

TEST(Uplink, a_store_read_error_sends_nothing_and_loses_no_place) {
    for (int i = 0; i < 3; ++i)
        store.add("m1", clock.wall_ms());
    make();
    store.fail_reads = true;
    connect();
    LONGS_EQUAL(0, client.published.size());
    store.fail_reads = false;
    up->on_records_committed();
    serve([](const Json::Value&) { return 200; });
    LONGS_EQUAL(0, store.records.size());
    LONGS_EQUAL(3, up->stats().delivered);
}

TEST(Uplink, a_transient_code_retries_later_and_never_drops) {
    store.add("m1", clock.wall_ms());
    make();
    connect();
    int calls = 0;
    serve([&calls](const Json::Value&) { return ++calls < 4 ? 1009 : 200; });
    LONGS_EQUAL(4, calls);
    LONGS_EQUAL(0, store.records.size());
    LONGS_EQUAL(0, store.dead.size());
    LONGS_EQUAL(1, up->stats().delivered);
}

TEST(Uplink, code_1008_halves_the_byte_limit_and_splits) {
    settings.uplink.batch_max_records = 8;
    settings.uplink.inflight = 1;
    for (int i = 0; i < 8; ++i)
        store.add("m1", clock.wall_ms());
    make();
    connect();
    const auto limit = up->stats().byte_limit;
    serve([](const Json::Value& req) { return req["params"].size() > 2 ? 1008 : 200; }, 20);
    CHECK(up->stats().byte_limit < limit);
    LONGS_EQUAL(0, store.records.size());
    LONGS_EQUAL(0, store.dead.size());
}

TEST(Uplink, old_records_go_via_resume_and_live_ones_are_not_held_behind_them) {
    settings.uplink.resume_after_ms = 300'000;
    settings.uplink.batch_max_records = 2;
    settings.uplink.inflight = 8;
    for (int i = 0; i < 10; ++i)
        store.add("m1", clock.wall_ms() - 3'600'000 + i);  // an hour old
    store.add("m2", clock.wall_ms());
    make();
    connect();
    CHECK(client.published.size() >= 2);
    bool saw_live = false;
    for (std::size_t i = 0; i < 2; ++i) {
        const Json::Value req = parse(client.published[i].payload);
        if (client.published[i].topic.find("/post/batch") != std::string::npos) {
            saw_live = true;
            STRCMP_EQUAL("m2", req["params"][0]["deviceKey"].asCString());
        } else {
            STRCMP_EQUAL("/sys/gwPk/gwDk/thing/measurepoint/resume/batch", client.published[i].topic.c_str());
            STRCMP_EQUAL("thing.measurepoint.resume.batch", req["method"].asCString());
        }
    }
    CHECK_TEXT(saw_live, "the live record must go in one of the first two batches");
    serve([](const Json::Value&) { return 200; });
    LONGS_EQUAL(0, store.records.size());
}

TEST(Uplink, allow_offline_auto_is_false_for_a_batch_of_the_gateway_own_points_only) {
    store.add("gw", clock.wall_ms(), "");
    make();
    connect();
    const Json::Value req = parse(client.published[0].payload);
    CHECK_FALSE(req["allowOfflineSubDevice"].asBool());
    CHECK_FALSE(req["params"][0].isMember("productKey"));
}

TEST(Uplink, allow_offline_auto_covers_a_device_no_longer_configured) {
    store.add("removed-since", clock.wall_ms());
    make();
    connect();
    CHECK(parse(client.published[0].payload)["allowOfflineSubDevice"].asBool());
}

TEST(Uplink, allow_offline_false_is_sent_as_configured) {
    settings.uplink.allow_offline_subdevice = config::AllowOffline::False;
    store.add("m1", clock.wall_ms());
    make();
    connect();
    CHECK_FALSE(parse(client.published[0].payload)["allowOfflineSubDevice"].asBool());
}

TEST(Uplink, reconnects_never_exceed_the_hub_throttle) {
    make();
    up->start();
    std::vector<std::int64_t> hub_attempts;
    for (int i = 0; i < 12; ++i) {
        // Each attempt reaches the hub and is refused (CONNACK code 5): those count.
        mqtt::Event f = event(mqtt::Event::Kind::ConnectFailed);
        f.code = 5;
        f.reason = "not authorized";
        hub_attempts.push_back(clock.mono_ms());
        up->on_event(f);
        const std::size_t before = client.connects.size();
        while (client.connects.size() == before) {
            clock.advance(std::max<std::int64_t>(1, up->next_wakeup_mono() - clock.mono_ms()));
            up->tick();
        }
    }
    for (std::size_t i = 3; i < hub_attempts.size(); ++i)
        CHECK_TEXT(hub_attempts[i] - hub_attempts[i - 3] >= 120'000, "4 attempts within 2 minutes");
}

TEST(Uplink, a_broker_that_never_answers_connect_is_given_up_after_connect_timeout) {
    settings.mqtt.connect_timeout_ms = 5'000;
    make();
    up->start();
    LONGS_EQUAL(5'000 + clock.mono_ms(), up->next_wakeup_mono());
    clock.advance(4'999);
    up->tick();
    STRCMP_EQUAL("connecting", up->stats().state.c_str());
    LONGS_EQUAL(0, client.disconnects);
    clock.advance(1);
    up->tick();
    STRCMP_EQUAL("waiting", up->stats().state.c_str());
    LONGS_EQUAL(1, client.disconnects);
    STRCMP_EQUAL("no CONNACK within 5 s", up->stats().last_error.c_str());
    // A CONNECT the broker may have seen counts against the hub's limit: the next attempts keep
    // it, whatever the back-off says.
    std::vector<std::int64_t> starts{clock.mono_ms() - 5'000};
    for (int i = 0; i < 6; ++i) {
        const std::size_t before = client.connects.size();
        while (client.connects.size() == before) {
            clock.advance(std::max<std::int64_t>(1, up->next_wakeup_mono() - clock.mono_ms()));
            up->tick();
        }
        starts.push_back(clock.mono_ms());
        clock.advance(5'000);
        up->tick();
    }
    for (std::size_t i = 3; i < starts.size(); ++i)
        CHECK_TEXT(starts[i] - starts[i - 3] >= 120'000, "4 silent CONNECTs within 2 minutes");
}

TEST(Uplink, a_broker_that_never_confirms_the_subscription_is_dropped_after_reply_timeout) {
    make();
    up->start();
    up->on_event(event(mqtt::Event::Kind::Connected));
    STRCMP_EQUAL("subscribing", up->stats().state.c_str());
    LONGS_EQUAL(30'000 + clock.mono_ms(), up->next_wakeup_mono());
    clock.advance(30'000);
    up->tick();
    STRCMP_EQUAL("waiting", up->stats().state.c_str());
    LONGS_EQUAL(1, client.disconnects);
    STRCMP_EQUAL("no SUBACK within 30 s", up->stats().last_error.c_str());
    clock.advance(up->next_wakeup_mono() - clock.mono_ms());
    up->tick();
    LONGS_EQUAL(2, client.connects.size());
}

TEST(Uplink, a_late_connack_after_the_deadline_is_ignored) {
    settings.mqtt.connect_timeout_ms = 2'000;
    make();
    up->start();
    clock.advance(2'000);
    up->tick();
    up->on_event(event(mqtt::Event::Kind::Connected));  // from the attempt already given up
    LONGS_EQUAL(0, client.subscriptions.size());
    STRCMP_EQUAL("waiting", up->stats().state.c_str());
}

TEST(Uplink, a_refused_connack_shows_refused_with_the_cause_until_a_connection_succeeds) {
    store.add("m1", clock.wall_ms());
    make();
    up->start();
    mqtt::Event f = event(mqtt::Event::Kind::ConnectFailed);
    f.code = 4;
    f.reason = "CONNACK return code 4";
    up->on_event(f);
    STRCMP_EQUAL("refused", up->stats().state.c_str());
    CHECK(up->stats().last_error.find("CONNACK 4") != std::string::npos);
    CHECK(up->stats().last_error.find("secret") != std::string::npos);
    clock.advance(up->next_wakeup_mono() - clock.mono_ms());
    up->tick();
    STRCMP_EQUAL("refused", up->stats().state.c_str());  // still the last word while it tries again
    LONGS_EQUAL(2, up->stats().connect_attempts);
    up->on_event(event(mqtt::Event::Kind::Connected));
    up->on_event(event(mqtt::Event::Kind::Subscribed));
    STRCMP_EQUAL("connected", up->stats().state.c_str());
    STRCMP_EQUAL("", up->stats().last_error.c_str());
    LONGS_EQUAL(1, client.published.size());  // what was buffered meanwhile goes out
}

TEST(Uplink, a_connack_3_server_unavailable_is_transient_not_a_refusal) {
    make();
    up->start();
    mqtt::Event f = event(mqtt::Event::Kind::ConnectFailed);
    f.code = 3;
    f.reason = "CONNACK return code 3";
    up->on_event(f);
    STRCMP_EQUAL("waiting", up->stats().state.c_str());
    STRCMP_EQUAL("CONNACK return code 3", up->stats().last_error.c_str());
}

TEST(Uplink, the_connect_log_says_what_the_store_really_holds) {
    // Ids went up to 500 and everything was delivered: nothing goes via resume/batch.
    STRCMP_EQUAL("the store is empty", uplink::describe_store(nullptr, 0, 501, 1'000'000).c_str());
    store::Record r;
    r.id = 480;
    r.time_ms = 1'000'000 - 600'000;
    STRCMP_EQUAL(
        "buffered: ids 480..500, the oldest taken 600 s ago; ids before 490 are older than resume_after and "
        "go via resume/batch",
        uplink::describe_store(&r, 500, 490, 1'000'000).c_str());
    r.id = 495;
    r.time_ms = 1'000'000 - 2'000;
    STRCMP_EQUAL("buffered: ids 495..500, the oldest taken 2 s ago",
                 uplink::describe_store(&r, 500, 490, 1'000'000).c_str());
}

TEST(Uplink, failed_tls_handshakes_with_the_server_are_retried_within_the_hub_limit) {
    make();
    up->start();
    std::vector<std::int64_t> starts{clock.mono_ms()};
    for (int i = 0; i < 7; ++i) {
        mqtt::Event f = event(mqtt::Event::Kind::ConnectFailed);
        f.code = -1;
        f.reached_server = true;
        f.reason = "untrusted issuer: the server's certificate is not signed by a CA in ca.pem";
        up->on_event(f);
        STRCMP_EQUAL(f.reason.c_str(), up->stats().last_error.c_str());
        STRCMP_EQUAL("waiting", up->stats().state.c_str());  // not a refusal of the credentials
        const std::size_t before = client.connects.size();
        while (client.connects.size() == before) {
            clock.advance(std::max<std::int64_t>(1, up->next_wakeup_mono() - clock.mono_ms()));
            up->tick();
        }
        starts.push_back(clock.mono_ms());
    }
    for (std::size_t i = 3; i < starts.size(); ++i)
        CHECK_TEXT(starts[i] - starts[i - 3] >= 120'000, "4 handshakes within 2 minutes");
}

TEST(Uplink, an_unreachable_broker_is_retried_with_back_off_only) {
    make();
    up->start();
    for (int i = 0; i < 3; ++i) {
        mqtt::Event f = event(mqtt::Event::Kind::ConnectFailed);
        f.code = -1;
        f.reason = "cannot reach 10.0.0.5:18883: Connection refused";
        up->on_event(f);
        clock.advance(up->next_wakeup_mono() - clock.mono_ms());
        up->tick();
    }
    LONGS_EQUAL(4, client.connects.size());
    CHECK(clock.mono_ms() < 1'000 + 60'000);  // no hold: the hub saw none of these
}

TEST(Uplink, downstream_disable_is_acknowledged_with_200_on_its_reply_topic) {
    make();
    connect();
    const auto& subs = client.subscriptions.back();
    CHECK(std::find(subs.begin(), subs.end(), "/ext/session/gwPk/gwDk/combine/disable") != subs.end());
    CHECK(std::find(subs.begin(), subs.end(), "/ext/session/gwPk/gwDk/combine/delete") != subs.end());
    mqtt::Event e = event(mqtt::Event::Kind::Message);
    e.topic = "/ext/session/gwPk/gwDk/combine/disable";
    e.payload =
        "{\"id\":\"77\",\"method\":\"combine.disable\",\"params\":[{\"productKey\":\"p\",\"deviceKey\":\"m1\"}]}";
    up->on_event(e);
    LONGS_EQUAL(1, client.published.size());
    STRCMP_EQUAL("/ext/session/gwPk/gwDk/combine/disable_reply", client.published[0].topic.c_str());
    const Json::Value ack = parse(client.published[0].payload);
    STRCMP_EQUAL("77", ack["id"].asCString());
    LONGS_EQUAL(200, ack["code"].asInt());
    CHECK(ack["data"].isObject());
}

TEST(Uplink, a_device_whose_every_record_is_refused_costs_far_less_than_a_round_trip_per_record) {
    settings.uplink.batch_max_records = 40;
    settings.uplink.inflight = 4;
    // 2000 records, a quarter of them from a device the cloud's model rejects.
    for (int i = 0; i < 2000; ++i)
        store.add(i % 4 == 3 ? "bad" : "m" + std::to_string(i % 4 + 1), clock.wall_ms() + i);
    make();
    connect();
    serve(
        [](const Json::Value& req) {
            for (const auto& r : req["params"])
                if (r["deviceKey"].asString() == "bad") return 1204;
            return 200;
        },
        5000);
    LONGS_EQUAL(0, store.records.size());
    LONGS_EQUAL(500, store.dead.size());
    for (const auto& [id, why] : store.dead)
        STRCMP_EQUAL("code_1204", why.first.c_str());
    LONGS_EQUAL(1500, up->stats().delivered);
    // The good records go 30 to a batch once the bad ones are taken out (50 batches), the bad
    // ones gathered 40 to a batch (13); finding the device costs a few dozen more. A round trip
    // per bad record would be 500 on top.
    CHECK_TEXT(client.published.size() < 120, std::to_string(client.published.size()).c_str());
}

TEST(Uplink, a_suspect_device_is_forgiven_by_an_accepted_batch) {
    settings.uplink.batch_max_records = 10;
    settings.uplink.inflight = 1;
    for (int i = 0; i < 10; ++i)
        store.add(i == 0 ? "flaky" : "m1", clock.wall_ms() + i);
    make();
    connect();
    // The first record of "flaky" is bad; its later ones are fine and must all be delivered.
    serve([](const Json::Value& req) {
        for (const auto& r : req["params"])
            if (r["deviceKey"].asString() == "flaky" && r["time"].asInt64() == 1700000000000) return 1204;
        return 200;
    });
    for (int i = 0; i < 10; ++i)
        store.add("flaky", clock.wall_ms() + 100 + i);
    up->on_records_committed();
    serve([](const Json::Value&) { return 200; });
    LONGS_EQUAL(0, store.records.size());
    LONGS_EQUAL(1, store.dead.size());
    LONGS_EQUAL(19, up->stats().delivered);
}

TEST(Uplink, a_store_holding_only_a_suspect_device_records_never_sends_an_empty_batch) {
    settings.uplink.batch_max_records = 5;
    settings.uplink.inflight = 2;
    for (int i = 0; i < 30; ++i)
        store.add("bad", clock.wall_ms() + i);
    make();
    connect();
    serve([](const Json::Value&) { return 1204; }, 500);
    LONGS_EQUAL(0, store.records.size());
    LONGS_EQUAL(30, store.dead.size());
    for (const auto& p : client.published)
        CHECK(parse(p.payload)["params"].size() > 0);
}

TEST_GROUP_BASE(UplinkSessions, UplinkHarness){void setup() override{settings.uplink.inflight = 2;
settings.uplink.reply_timeout_ms = 10'000;
settings.subdevices = {{"m1", "p", "m1", "s1"}, {"m2", "p", "m2", "s2"}};
up = std::make_unique<uplink::Uplink>(settings, client, store, clock, 3);
}
std::vector<Published> on(const std::string& suffix) const {
    std::vector<Published> out;
    for (const auto& p : client.published)
        if (p.topic.size() >= suffix.size() &&
            p.topic.compare(p.topic.size() - suffix.size(), suffix.size(), suffix) == 0)
            out.push_back(p);
    return out;
}
void answer(const Published& p, const std::string& reply_suffix, int code, const std::string& data = "{}") {
    mqtt::Event e = event(mqtt::Event::Kind::Message);
    e.topic = p.topic + reply_suffix;
    e.payload = "{\"id\":\"" + parse(p.payload)["id"].asString() + "\",\"code\":" + std::to_string(code) +
                ",\"data\":" + data + "}";
    up->on_event(e);
}
}
;

TEST(UplinkSessions, online_subdevices_are_logged_in_in_one_signed_batch_after_connect) {
    up->set_device_online("m1", true);
    up->set_device_online("m2", true);
    connect();
    const auto logins = on("/combine/login/batch");
    LONGS_EQUAL(1, logins.size());
    const Json::Value req = parse(logins[0].payload);
    STRCMP_EQUAL("combine.login.batch", req["method"].asCString());
    const Json::Value& params = req["params"];
    LONGS_EQUAL(2, params["subDevices"].size());
    const std::string expected = enos::sign({{"clientId", params["clientId"].asString()},
                                             {"deviceKey", "m1"},
                                             {"productKey", "p"},
                                             {"timestamp", params["timestamp"].asString()}},
                                            "s1");
    STRCMP_EQUAL(expected.c_str(), params["subDevices"][0]["sign"].asCString());
    STRCMP_EQUAL("logging_in", up->session_of("m1").c_str());
    answer(logins[0], "_reply", 200);
    STRCMP_EQUAL("logged_in", up->session_of("m1").c_str());
    STRCMP_EQUAL("logged_in", up->session_of("m2").c_str());
    // Records of logged-in devices go without allowOfflineSubDevice.
    store.add("m1", clock.wall_ms());
    up->on_records_committed();
    const auto batches = on("/measurepoint/post/batch");
    LONGS_EQUAL(1, batches.size());
    CHECK_FALSE(parse(batches[0].payload)["allowOfflineSubDevice"].asBool());
}

TEST(UplinkSessions, a_device_going_offline_is_logged_out_and_its_records_go_as_offline) {
    up->set_device_online("m1", true);
    connect();
    answer(on("/combine/login/batch")[0], "_reply", 200);
    up->set_device_online("m1", false);
    const auto logouts = on("/combine/logout");
    LONGS_EQUAL(1, logouts.size());
    STRCMP_EQUAL("m1", parse(logouts[0].payload)["params"]["deviceKey"].asCString());
    STRCMP_EQUAL("logged_out", up->session_of("m1").c_str());
    store.add("m1", clock.wall_ms());
    up->on_records_committed();
    CHECK(parse(on("/measurepoint/post/batch")[0].payload)["allowOfflineSubDevice"].asBool());
    // Back online: logged in again.
    up->set_device_online("m1", true);
    LONGS_EQUAL(2, on("/combine/login/batch").size());
}

TEST(UplinkSessions, a_refused_login_shows_its_code_and_the_device_still_uploads_as_offline) {
    up->set_device_online("m1", true);
    up->set_device_online("m2", true);
    connect();
    answer(on("/combine/login/batch")[0], "_reply", 723,
           "{\"loginedSubDevices\":[{\"productKey\":\"p\",\"deviceKey\":\"m1\"}],"
           "\"failedSubDevices\":[{\"productKey\":\"p\",\"deviceKey\":\"m2\",\"code\":742}]}");
    STRCMP_EQUAL("logged_in", up->session_of("m1").c_str());
    STRCMP_EQUAL("refused:742", up->session_of("m2").c_str());
    store.add("m2", clock.wall_ms());
    up->on_records_committed();
    CHECK(parse(on("/measurepoint/post/batch")[0].payload)["allowOfflineSubDevice"].asBool());
}

TEST(UplinkSessions, a_1212_on_a_batch_that_relied_on_sessions_logs_in_again_and_resends_without_loss) {
    up->set_device_online("m1", true);
    connect();
    answer(on("/combine/login/batch")[0], "_reply", 200);
    store.add("m1", clock.wall_ms());
    store.add("m1", clock.wall_ms() + 1);
    up->on_records_committed();
    const auto first = on("/measurepoint/post/batch");
    LONGS_EQUAL(1, first.size());
    answer(first[0], "_reply", 1212);  // the hub lost the session
    LONGS_EQUAL(2, on("/combine/login/batch").size());
    CHECK(store.dead.empty());
    clock.advance(up->next_wakeup_mono() - clock.mono_ms());
    up->tick();
    const auto again = on("/measurepoint/post/batch");
    LONGS_EQUAL(2, again.size());
    LONGS_EQUAL(2, parse(again[1].payload)["params"].size());  // the same records, not bisected
    CHECK(parse(again[1].payload)["allowOfflineSubDevice"].asBool());
    answer(again[1], "_reply", 200);
    LONGS_EQUAL(0, store.records.size());
}

TEST(UplinkSessions, a_login_without_reply_is_tried_again_later) {
    up->set_device_online("m1", true);
    connect();
    LONGS_EQUAL(1, on("/combine/login/batch").size());
    for (int i = 0; i < 4 && on("/combine/login/batch").size() < 2; ++i) {
        clock.advance(std::max<std::int64_t>(1, up->next_wakeup_mono() - clock.mono_ms()));
        up->tick();
    }
    LONGS_EQUAL(2, on("/combine/login/batch").size());
}

TEST(UplinkSessions, a_reconnect_logs_every_online_device_in_again) {
    up->set_device_online("m1", true);
    connect();
    answer(on("/combine/login/batch")[0], "_reply", 200);
    mqtt::Event lost = event(mqtt::Event::Kind::ConnectionLost);
    up->on_event(lost);
    STRCMP_EQUAL("logged_out", up->session_of("m1").c_str());
    clock.advance(up->next_wakeup_mono() - clock.mono_ms());
    up->tick();
    up->on_event(event(mqtt::Event::Kind::Connected));
    up->on_event(event(mqtt::Event::Kind::Subscribed));
    LONGS_EQUAL(2, on("/combine/login/batch").size());
}

TEST(Uplink, a_device_the_hub_does_not_know_is_held_apart_and_never_stalls_the_others) {
    settings.uplink.batch_max_records = 20;
    settings.uplink.inflight = 4;
    for (int i = 0; i < 400; ++i)
        store.add(i % 4 == 3 ? "ghost" : "m" + std::to_string(i % 4 + 1), clock.wall_ms() + i);
    make();
    connect();
    bool bound = false;
    auto cloud = [&bound](const Json::Value& req) {
        for (const auto& r : req["params"])
            if (r["deviceKey"].asString() == "ghost" && !bound) return 1212;
        return 200;
    };
    for (int i = 0; i < 300 && up->stats().delivered < 300; ++i)
        serve(cloud, 1);
    // Every record of the good devices arrived, at about the cost without the ghost (15 batches
    // of 20); the ghost's records are all kept, none dead-lettered.
    LONGS_EQUAL(300, up->stats().delivered);
    CHECK_TEXT(client.published.size() < 60, std::to_string(client.published.size()).c_str());
    serve(cloud, 100);  // the ghost is retried with its own back-off meanwhile
    LONGS_EQUAL(100, store.records.size());
    CHECK(store.dead.empty());
    // The device gets bound in the cloud: its held records, and those left in the store, follow.
    bound = true;
    serve(cloud, 300);
    LONGS_EQUAL(0, store.records.size());
    LONGS_EQUAL(400, up->stats().delivered);
}

TEST(UplinkSessions, a_device_gone_offline_while_its_login_was_on_the_way_is_logged_out_again) {
    up->set_device_online("m1", true);
    connect();
    const auto login = on("/combine/login/batch")[0];
    up->set_device_online("m1", false);  // before the answer
    LONGS_EQUAL(0, on("/combine/logout").size());
    answer(login, "_reply", 200);
    LONGS_EQUAL(1, on("/combine/logout").size());
    STRCMP_EQUAL("logged_out", up->session_of("m1").c_str());
}

namespace {

struct RecordingHandler : uplink::ServiceHandler {
    std::vector<std::pair<enos::ServiceTopic, enos::ServiceRequest>> got;
    std::vector<std::string> reply_topics;
    void on_service_request(const enos::ServiceTopic& topic, const std::string& reply_topic,
                            enos::ServiceRequest request) override {
        got.emplace_back(topic, std::move(request));
        reply_topics.push_back(reply_topic);
    }
};

}  // namespace

TEST_GROUP_BASE(UplinkServices, UplinkHarness) {
    RecordingHandler handler;
    void setup() override {
        settings.mqtt.uri = "tcp://127.0.0.1:1";
        settings.subdevices = {{"m1", "subPk", "m1", "s1"}};
        up = std::make_unique<uplink::Uplink>(settings, client, store, clock, 7);
        up->set_service_handler(&handler);
        connect();
    }
    void deliver(const std::string& topic, const std::string& payload) {
        mqtt::Event e = event(mqtt::Event::Kind::Message);
        e.topic = topic;
        e.payload = payload;
        up->on_event(e);
    }
    bool subscribed(const char* topic) const {
        const auto& s = client.subscriptions.at(0);
        return std::find(s.begin(), s.end(), topic) != s.end();
    }
};

TEST(UplinkServices, set_and_get_topics_of_the_gateway_and_every_subdevice_are_subscribed) {
    CHECK_TRUE(subscribed("/sys/gwPk/gwDk/thing/service/measurepoint/set"));
    CHECK_TRUE(subscribed("/sys/gwPk/gwDk/thing/service/measurepoint/get"));
    CHECK_TRUE(subscribed("/sys/subPk/m1/thing/service/measurepoint/set"));
    CHECK_TRUE(subscribed("/sys/subPk/m1/thing/service/measurepoint/get"));
}

TEST(UplinkServices, a_well_formed_set_reaches_the_handler_and_its_reply_goes_out) {
    deliver("/sys/subPk/m1/thing/service/measurepoint/set",
            R"({"id":"5","version":"1.0","method":"thing.service.measurepoint.set","params":{"sp":1}})");
    LONGS_EQUAL(1, handler.got.size());
    STRCMP_EQUAL("m1", handler.got[0].first.device_key.c_str());
    STRCMP_EQUAL("5", handler.got[0].second.id.c_str());
    STRCMP_EQUAL("/sys/subPk/m1/thing/service/measurepoint/set_reply", handler.reply_topics[0].c_str());
    const auto before = client.published.size();
    CHECK_TRUE(up->reply_service(handler.reply_topics[0], enos::service_reply("5", 200, "{}")));
    LONGS_EQUAL(before + 1, client.published.size());
    STRCMP_EQUAL(R"({"id":"5","code":200,"data":{}})", client.published.back().payload.c_str());
}

TEST(UplinkServices, a_malformed_request_is_answered_by_the_uplink_and_never_reaches_the_handler) {
    const auto before = client.published.size();
    deliver("/sys/subPk/m1/thing/service/measurepoint/set",
            R"({"id":"6","method":"thing.service.measurepoint.get","params":{"sp":1}})");
    deliver("/sys/subPk/m1/thing/service/measurepoint/get", "garbage without id");
    LONGS_EQUAL(0, handler.got.size());
    LONGS_EQUAL(before + 1, client.published.size());  // the one with an id
    const Json::Value reply = parse(client.published.back().payload);
    STRCMP_EQUAL("6", reply["id"].asString().c_str());
    LONGS_EQUAL(1260, reply["code"].asInt());
}
