#include "requester.hpp"

#include <json/json.h>
#include <unistd.h>

#include <chrono>
#include <deque>
#include <iostream>
#include <memory>
#include <set>

#include "event_queue.hpp"
#include "mqtt_link.hpp"
#include "sim_config.hpp"

namespace fieldgate::cloudsim {
namespace {

using Clock = std::chrono::steady_clock;

std::string id_of(const std::string& payload) {
    Json::CharReaderBuilder b;
    const std::unique_ptr<Json::CharReader> r(b.newCharReader());
    Json::Value v;
    std::string errs;
    if (!r->parse(payload.data(), payload.data() + payload.size(), &v, &errs) || !v.isObject()) return {};
    return v["id"].isString() ? v["id"].asString() : std::string();
}

// Waits for the first event of `type` (or a Message on `topic` with `id`), until `deadline`;
// other events are dropped. Returns the event, or one of type Signal on time-out.
Event wait_for(EventQueue& events, std::deque<Event>& pending, Event::Type type, Clock::time_point deadline,
               const std::string& topic = {}, const std::string& id = {}) {
    for (;;) {
        while (!pending.empty()) {
            Event e = std::move(pending.front());
            pending.pop_front();
            if (e.type == Event::Type::ConnectFailed || e.type == Event::Type::SubscribeFailed) return e;
            if (e.type != type) continue;
            if (type == Event::Type::Message && (e.topic != topic || id_of(e.payload) != id)) continue;
            return e;
        }
        if (!events.pop_all_until(pending, deadline)) return Event{};
    }
}

}  // namespace

int send_requests(const std::string& broker_uri, std::istream& in, std::ostream& out, int timeout_ms) {
    const auto address = parse_broker_uri(broker_uri);
    if (!address) {
        std::cerr << "fieldgate-cloud-sim: --broker '" << broker_uri << "' is not tcp://HOST:PORT\n";
        return 1;
    }
    EventQueue events;
    std::deque<Event> pending;
    MqttLink link(broker_uri, "fieldgate-cloud-sim-requests-" + std::to_string(::getpid()), events);
    if (!link.connect(10) ||
        wait_for(events, pending, Event::Type::Connected, Clock::now() + std::chrono::seconds(15)).type !=
            Event::Type::Connected) {
        std::cerr << "fieldgate-cloud-sim: cannot connect to " << broker_uri << "\n";
        return 1;
    }
    link.set_tcp_nodelay(address->port);
    std::set<std::string> subscribed;
    Json::StreamWriterBuilder w;
    w["indentation"] = "";
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        const auto space = line.find(' ');
        if (space == std::string::npos || space == 0) {
            std::cerr << "fieldgate-cloud-sim: not 'TOPIC PAYLOAD': " << line << "\n";
            return 1;
        }
        const std::string topic = line.substr(0, space);
        const std::string payload = line.substr(space + 1);
        const std::string reply_topic = topic + "_reply";
        if (subscribed.insert(reply_topic).second) {
            if (!link.subscribe({reply_topic}) ||
                wait_for(events, pending, Event::Type::Subscribed, Clock::now() + std::chrono::seconds(15)).type !=
                    Event::Type::Subscribed) {
                std::cerr << "fieldgate-cloud-sim: cannot subscribe to " << reply_topic << "\n";
                return 1;
            }
        }
        const auto sent = Clock::now();
        Json::Value record(Json::objectValue);
        record["topic"] = topic;
        record["request"] = payload;
        if (!link.publish(topic, payload)) {
            std::cerr << "fieldgate-cloud-sim: cannot publish to " << topic << "\n";
            return 1;
        }
        const Event reply = wait_for(events, pending, Event::Type::Message,
                                     sent + std::chrono::milliseconds(timeout_ms), reply_topic, id_of(payload));
        const auto took = std::chrono::duration<double, std::milli>(Clock::now() - sent).count();
        if (reply.type == Event::Type::Message) {
            record["reply"] = reply.payload;
        } else {
            record["reply"] = Json::Value::null;
        }
        record["latency_ms"] = took;
        out << Json::writeString(w, record) << "\n" << std::flush;
    }
    link.disconnect(1000);
    return 0;
}

}  // namespace fieldgate::cloudsim
