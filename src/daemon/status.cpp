#include "fieldgate/daemon/status.hpp"

#include <cstdio>

#include "fieldgate/util/units.hpp"

namespace fieldgate::daemon {
namespace {

Json::Value u64(std::uint64_t v) {
    return Json::Value(static_cast<Json::UInt64>(v));
}
Json::Value i64(std::int64_t v) {
    return Json::Value(static_cast<Json::Int64>(v));
}

std::string cloud_session(const config::Device& d, const uplink::UplinkStats& up,
                          const std::map<std::string, std::string>& sessions) {
    // The gateway's own points travel in its own MQTT session.
    if (d.is_gateway()) return up.connected ? "logged_in" : "logged_out";
    const auto it = sessions.find(d.name);
    return it == sessions.end() ? "logged_out" : it->second;
}

}  // namespace

Json::Value status_json(const StatusInputs& in) {
    Json::Value root(Json::objectValue);
    root["version"] = FIELDGATE_VERSION;
    root["now_ms"] = i64(in.now_ms);
    root["started_ms"] = i64(in.started_ms);
    root["clock_valid"] = in.clock_valid;

    Json::Value devices(Json::arrayValue);
    for (std::size_t i = 0; i < in.config.devices.size(); ++i) {
        const config::Device& d = in.config.devices[i];
        const DeviceStatus& s = in.registry.at(i);
        Json::Value j(Json::objectValue);
        j["name"] = d.name;
        j["product_key"] = d.product_key;
        j["device_key"] = d.device_key;
        j["bus"] = d.bus;
        j["unit_id"] = static_cast<int>(d.unit_id);
        j["online"] = s.online;
        j["cloud_session"] = cloud_session(d, in.uplink, in.sessions);
        j["last_good_poll_ms"] = i64(s.last_good_poll_ms);
        j["polls_ok"] = u64(s.polls_ok);
        j["polls_failed"] = u64(s.polls_failed);
        j["interval_ms"] = i64(d.interval_ms);
        j["last_error"] = s.last_error;
        j["non_finite_points"] = u64(s.non_finite);
        Json::Value exceptions(Json::objectValue);  // Modbus exception replies by code, "0x02": n
        for (const auto& [code, n] : s.exceptions) {
            char key[8];
            std::snprintf(key, sizeof key, "0x%02X", static_cast<unsigned>(code));
            exceptions[key] = u64(n);
        }
        j["modbus_exceptions"] = exceptions;
        devices.append(j);
    }
    root["devices"] = devices;

    Json::Value store(Json::objectValue);
    store["path"] = in.config.store.path;
    store["records"] = u64(in.store.records);
    store["bytes"] = u64(in.store.bytes);
    store["file_bytes"] = u64(in.store.file_bytes);
    store["max_bytes"] = u64(in.config.store.max_bytes);
    store["pending_commit"] = u64(in.store.pending);
    store["oldest_ms"] = i64(in.store.oldest_ms);
    store["readings_dropped"] = u64(in.readings_dropped);
    store["unstamped"] = u64(in.unstamped);
    Json::Value dead(Json::objectValue);
    for (const auto& [reason, n] : in.store.dead_letters)
        dead[reason] = u64(n);
    store["dead_letters"] = dead;
    Json::Value dropped(Json::objectValue);
    for (const auto& [reason, n] : in.store.dropped)
        dropped[reason] = u64(n);
    for (const auto& [reason, n] : in.drops)
        dropped[reason] = u64(n + dropped.get(reason, 0).asUInt64());
    store["dropped"] = dropped;
    store["mode"] = in.store.memory_mode ? "memory" : "disk";
    store["write_error"] = in.store.write_error.empty() ? Json::Value() : Json::Value(in.store.write_error);
    Json::Value quarantined(Json::arrayValue);
    for (const auto& path : in.store.quarantined)
        quarantined.append(path);
    store["quarantined"] = quarantined;
    root["store"] = store;

    Json::Value up(Json::objectValue);
    up["uri"] = in.config.mqtt.uri;
    up["state"] = in.uplink.state;
    up["connected"] = in.uplink.connected;
    up["inflight"] = u64(in.uplink.inflight);
    up["delivered"] = u64(in.uplink.delivered);
    up["batches_sent"] = u64(in.uplink.batches_sent);
    up["retries"] = u64(in.uplink.retries);
    up["timeouts"] = u64(in.uplink.timeouts);
    up["dead_lettered"] = u64(in.uplink.dead_lettered);
    up["connects"] = u64(in.uplink.connects);
    up["connect_attempts"] = u64(in.uplink.connect_attempts);
    up["last_error"] = in.uplink.last_error.empty() ? Json::Value() : Json::Value(in.uplink.last_error);
    up["batch_byte_limit"] = i64(in.uplink.byte_limit);
    up["last_code"] = in.uplink.last_code;
    up["last_reply_ms"] = i64(in.uplink.last_reply_ms);
    up["drain_rate_per_s"] = in.uplink.drain_rate_per_s;
    const std::uint64_t backlog = in.store.records + in.store.pending;
    if (backlog == 0)
        up["eta_s"] = 0;
    else if (in.uplink.drain_rate_per_s > 0)
        up["eta_s"] = static_cast<double>(backlog) / in.uplink.drain_rate_per_s;
    else
        up["eta_s"] = Json::Value();  // unknown: nothing is draining
    root["uplink"] = up;

    Json::Value buses(Json::arrayValue);
    for (const auto& b : in.buses) {
        Json::Value j(Json::objectValue);
        j["name"] = b.name;
        j["alive"] = !b.stalled();
        j["stalled_ms"] = i64(b.stalled_ms());
        j["heartbeat_age_ms"] = i64(b.heartbeat_age_ms);
        j["worst_case_poll_ms"] = i64(b.worst_case_poll_ms);
        buses.append(j);
    }
    root["buses"] = buses;
    return root;
}

std::string status_line(const StatusInputs& in) {
    std::string line = std::to_string(in.registry.online()) + "/" + std::to_string(in.registry.size()) +
                       " devices online, " + std::to_string(in.store.records + in.store.pending) + " buffered";
    if (in.store.oldest_ms > 0) line += " (oldest " + util::format_duration_ms(in.now_ms - in.store.oldest_ms) + ")";
    if (in.store.memory_mode) line += " in memory (store not writable)";
    line += ", uplink " + std::string(in.uplink.connected ? "connected" : in.uplink.state);
    std::uint64_t dead = 0;
    for (const auto& [reason, n] : in.store.dead_letters)
        dead += n;
    if (dead > 0) line += ", " + std::to_string(dead) + " dead letters";
    std::uint64_t dropped = 0;
    for (const auto& [reason, n] : in.store.dropped)
        dropped += n;
    for (const auto& [reason, n] : in.drops)
        dropped += n;
    if (dropped > 0) line += ", " + std::to_string(dropped) + " dropped";
    for (const auto& b : in.buses)
        if (b.stalled()) line += ", bus " + b.name + " hung";
    if (!in.clock_valid)
        line += ", clock not set" +
                (in.unstamped > 0 ? " (" + std::to_string(in.unstamped) + " readings wait for it)" : std::string());
    return line;
}

}  // namespace fieldgate::daemon
