// Writes from the cloud (measurepoint set), reads of the last values (measurepoint get) and
// fieldgatectl write: checked whole here, performed by the device's bus thread, answered when
// it reports (DESIGN.md "Writes from the cloud").
#include "daemon_impl.hpp"
#include "fieldgate/enos/service.hpp"
#include "fieldgate/modbus/encode.hpp"
#include "fieldgate/util/json.hpp"
#include "fieldgate/util/log.hpp"
#include "fieldgate/util/units.hpp"

namespace fieldgate::daemon {
namespace {

// Finished fieldgatectl writes kept for their `write-result` request: enough for any number
// of commissioning engineers, bounded against a client that never asks.
constexpr std::size_t kControlResultsKept = 256;

std::string written_json(const std::vector<std::string>& ids) {
    std::string out = "{\"written\":[";
    for (std::size_t k = 0; k < ids.size(); ++k) {
        if (k) out.push_back(',');
        util::append_json_string(out, ids[k]);
    }
    return out + "]}";
}

bool model_has(const config::Model& m, const std::string& id) {
    for (const auto& p : m.points)
        if (p.id == id) return true;
    return false;
}

}  // namespace

// The device a request names: a sub-device by its keys; for the gateway's own topic, the first
// of the gateway's own [device.*] whose model has the request's first point.
static std::optional<std::size_t> device_of(const config::Config& cfg, const enos::ServiceTopic& t,
                                            const std::string& first_point) {
    const bool gateway = t.product_key == cfg.gateway.product_key && t.device_key == cfg.gateway.device_key;
    std::optional<std::size_t> fallback;
    for (std::size_t i = 0; i < cfg.devices.size(); ++i) {
        const auto& d = cfg.devices[i];
        if (gateway ? !d.is_gateway() : (d.product_key != t.product_key || d.device_key != t.device_key)) continue;
        if (!gateway || first_point.empty() || model_has(cfg.model_of(d), first_point)) return i;
        if (!fallback) fallback = i;
    }
    return fallback;
}

void Daemon::Impl::on_service_request(const enos::ServiceTopic& topic, const std::string& reply_topic,
                                      enos::ServiceRequest request) {
    const bool set = topic.service == enos::Service::Set;
    std::string first;
    if (set && !request.params.members.empty()) first = request.params.members.front().first;
    if (!set && !request.params.items.empty()) first = request.params.items.front().s;
    const auto device = device_of(*cfg, topic, first);
    const auto answer = [&](int code, const std::string& data, const std::string& message) {
        uplink->reply_service(reply_topic, enos::service_reply(request.id, code, data, message));
    };
    if (!device) {
        answer(400, "{}", "no device " + topic.product_key + "/" + topic.device_key + " on this gateway");
        return;
    }
    if (set) {
        PendingWrite origin;
        origin.reply_topic = reply_topic;
        origin.request_id = request.id;
        const std::uint64_t token = next_write_token++;
        const WriteStart started = start_write(*device, request.params, std::move(origin), token);
        if (started.code != 0) answer(started.code, "{}", started.message);
        return;
    }
    // get: from the last polled values, as uploaded.
    take_readings();
    const config::Device& d = cfg->devices[*device];
    const DeviceStatus& s = registry->at(*device);
    util::JsonValue values;
    std::string error;
    if (s.last_values.empty() || !util::parse_json(s.last_values, values, error)) {
        answer(503, "{}", "no value of " + d.name + " polled yet");
        return;
    }
    util::JsonValue data;
    data.kind = util::JsonValue::Kind::Object;
    if (request.params.items.empty()) {
        data = std::move(values);
    } else {
        for (const auto& id : request.params.items) {
            if (!model_has(cfg->model_of(d), id.s)) {
                answer(400, "{}", "point " + id.s + ": unknown to device " + d.name);
                return;
            }
            if (const auto* v = values.find(id.s)) data.members.emplace_back(id.s, *v);
        }
    }
    std::string text;
    util::append_json(text, data);
    answer(200, text, {});
}

Daemon::Impl::WriteStart Daemon::Impl::start_write(std::size_t device, const util::JsonValue& params,
                                                   PendingWrite origin, std::uint64_t token) {
    const config::Device& d = cfg->devices.at(device);
    const config::Model& model = cfg->model_of(d);
    std::string summary;
    for (const auto& [id, value] : params.members) {
        summary += (summary.empty() ? "" : " ") + id + "=";
        util::append_json(summary, value);
    }
    const std::string who = origin.control_token ? "fieldgatectl" : "cloud request " + origin.request_id;
    const auto refuse = [&](int code, std::string message) {
        util::log_notice("write device=" + d.name + " " + summary + " (" + who + "): refused " + std::to_string(code) +
                         ", nothing written: " + message);
        return WriteStart{code, std::move(message)};
    };
    const modbus::WritePlan plan = modbus::check_set_request(model.points, params);
    if (!plan.ok) return refuse(400, plan.error);
    take_readings();  // the registry is as fresh as the last poll
    if (!registry->at(device).online) return refuse(503, "device " + d.name + " is offline");
    for (const auto& [t, p] : pending_writes)
        if (p.device == d.name) return refuse(503, "another write to " + d.name + " is in progress");
    const std::int64_t now = clock.mono_ms();
    if (const auto it = last_write_mono.find(d.name);
        it != last_write_mono.end() && now - it->second < d.write_interval_ms) {
        return refuse(503, "too soon: at most one write every " + util::format_duration_ms(d.write_interval_ms) +
                               " to " + d.name + " (write_interval)");
    }
    modbus::BusPoller* poller = nullptr;
    for (auto& p : pollers)
        if (p->serves(device)) poller = p.get();
    if (!poller) return refuse(503, "the bus of " + d.name + " is not running");

    origin.device = d.name;
    origin.summary = summary;
    for (const auto& w : plan.writes)
        origin.point_ids[w.point] = model.points[w.point].id;
    pending_writes[token] = std::move(origin);
    last_write_mono[d.name] = now;
    modbus::WriteJob job;
    job.token = token;
    job.device = device;
    job.writes = plan.writes;
    poller->submit_write(std::move(job));  // may report at once (a stopping bus): finish_write handles it
    return WriteStart{};
}

void Daemon::Impl::finish_write(const modbus::WriteOutcome& outcome) {
    const auto it = pending_writes.find(outcome.token);
    if (it == pending_writes.end()) return;
    const PendingWrite p = std::move(it->second);
    pending_writes.erase(it);
    std::vector<std::string> written;
    for (auto k : outcome.written) {
        const auto id = p.point_ids.find(k);
        if (id != p.point_ids.end()) written.push_back(id->second);
    }
    const std::string who = p.control_token ? "fieldgatectl" : "cloud request " + p.request_id;
    util::log_notice("write device=" + p.device + " " + p.summary + " (" + who + "): " +
                     (outcome.code == 200 ? std::string("200, written and read back")
                                          : std::to_string(outcome.code) + ", " + outcome.message +
                                                (written.empty() ? "; nothing written" : "")));
    const std::string data = outcome.code == 200 ? "{}" : written_json(written);
    if (p.control_token) {
        control_results[p.control_token] =
            enos::service_reply(std::to_string(p.control_token), outcome.code, data, outcome.message);
        while (control_results.size() > kControlResultsKept)
            control_results.erase(control_results.begin());
        return;
    }
    if (uplink &&
        !uplink->reply_service(p.reply_topic, enos::service_reply(p.request_id, outcome.code, data, outcome.message)))
        util::log_warning("write device=" + p.device + ": no connection to send the reply to cloud request " +
                          p.request_id + " (" + std::to_string(outcome.code) + ")");
}

// "write DEVICE POINT=VALUE...": VALUE is JSON (21.5, true, "text") or else taken as a string.
std::string Daemon::Impl::handle_write_request(const std::string& args) {
    const auto fail = [](int code, const std::string& message) {
        return enos::service_reply("", code, "{}", message) + "\n";
    };
    std::vector<std::string> words;
    std::size_t k = 0;
    while (k < args.size()) {
        while (k < args.size() && args[k] == ' ')
            ++k;
        std::size_t end = k;
        bool quoted = false;
        while (end < args.size() && (quoted || args[end] != ' ')) {
            if (args[end] == '"') quoted = !quoted;
            ++end;
        }
        if (end > k) words.push_back(args.substr(k, end - k));
        k = end;
    }
    if (words.size() < 2) return fail(400, "usage: write DEVICE POINT=VALUE...");
    std::optional<std::size_t> device;
    for (std::size_t i = 0; i < cfg->devices.size(); ++i)
        if (cfg->devices[i].name == words[0]) device = i;
    if (!device) return fail(400, "no device named '" + words[0] + "'");
    util::JsonValue params;
    params.kind = util::JsonValue::Kind::Object;
    for (std::size_t w = 1; w < words.size(); ++w) {
        const auto eq = words[w].find('=');
        if (eq == std::string::npos || eq == 0) return fail(400, "'" + words[w] + "' is not POINT=VALUE");
        util::JsonValue v;
        std::string error;
        const std::string text = words[w].substr(eq + 1);
        if (!util::parse_json(text, v, error)) {
            v = util::JsonValue{};
            v.kind = util::JsonValue::Kind::String;
            v.s = text;
        }
        params.members.emplace_back(words[w].substr(0, eq), std::move(v));
    }
    const std::uint64_t token = next_write_token++;
    PendingWrite origin;
    origin.control_token = token;
    const WriteStart started = start_write(*device, params, std::move(origin), token);
    if (started.code != 0) return fail(started.code, started.message);
    return "{\"token\":" + std::to_string(token) + "}\n";
}

// "write-result TOKEN": {"pending":true} until the bus thread has reported, then the reply.
std::string Daemon::Impl::handle_write_result(const std::string& args) {
    std::uint64_t token = 0;
    try {
        token = std::stoull(args);
    } catch (const std::exception&) {
        return enos::service_reply("", 400, "{}", "usage: write-result TOKEN") + "\n";
    }
    if (pending_writes.count(token)) return "{\"pending\":true}\n";
    const auto it = control_results.find(token);
    if (it == control_results.end()) return enos::service_reply("", 400, "{}", "no write with that token") + "\n";
    std::string out = it->second + "\n";
    control_results.erase(it);
    return out;
}

int Daemon::Impl::on_write_results(sd_event_source*, int, std::uint32_t, void* ud) noexcept {
    auto* self = static_cast<Impl*>(ud);
    try {
        for (const auto& o : self->write_results.drain())
            self->finish_write(o);
    } catch (const std::exception& e) {
        util::log_error(std::string("writes: ") + e.what());
    }
    return 0;
}

}  // namespace fieldgate::daemon
