// Requests on the control socket (fieldgatectl): status, values DEVICE, dead-letters.
#include <json/json.h>

#include "daemon_impl.hpp"
#include "fieldgate/util/json.hpp"
#include "fieldgate/util/log.hpp"

namespace fieldgate::daemon {
namespace {

std::string compact(const Json::Value& v) {
    Json::StreamWriterBuilder b;
    b["indentation"] = "";
    return Json::writeString(b, v) + "\n";
}

}  // namespace

std::string Daemon::Impl::handle_control(const std::string& request) {
    take_readings();  // the registry is as fresh as the last poll
    if (request == "status") return compact(status_json(inputs(store->stats(), uplink->stats())));
    if (request.rfind("values ", 0) == 0) {
        const std::string name = request.substr(7);
        for (std::size_t i = 0; i < cfg->devices.size(); ++i) {
            if (cfg->devices[i].name != name) continue;
            const DeviceStatus& s = registry->at(i);
            // The measurepoints go out as the text that is uploaded, not re-serialised (a
            // JSON library would print 21.51 as 21.510000000000002).
            std::string out = "{\"device\":";
            util::append_json_string(out, name);
            out += ",\"online\":";
            out += s.online ? "true" : "false";
            out += ",\"time_ms\":" + std::to_string(s.last_good_poll_ms);
            out += ",\"measurepoints\":" + (s.last_values.empty() ? std::string("{}") : s.last_values);
            out += ",\"last_error\":";
            util::append_json_string(out, s.last_error);
            out += "}\n";
            return out;
        }
        Json::Value e(Json::objectValue);
        e["error"] = "no device named '" + name + "'";
        return compact(e);
    }
    if (request.rfind("write ", 0) == 0) return handle_write_request(request.substr(6));
    if (request.rfind("write-result ", 0) == 0) return handle_write_result(request.substr(13));
    if (request == "dead-letters") {
        Json::Value list(Json::arrayValue);
        for (const auto& d : store->dead_letters(1000)) {
            Json::Value j(Json::objectValue);
            j["record_id"] = static_cast<Json::Int64>(d.id);
            j["device"] = d.device;
            j["time_ms"] = static_cast<Json::Int64>(d.time_ms);
            j["reason"] = d.reason;
            j["code"] = d.code;
            j["dead_ms"] = static_cast<Json::Int64>(d.dead_ms);
            j["body"] = d.body;
            list.append(j);
        }
        Json::Value root(Json::objectValue);
        root["dead_letters"] = list;
        return compact(root);
    }
    Json::Value e(Json::objectValue);
    e["error"] = "unknown request '" + request +
                 "'; known: status, values DEVICE, dead-letters, write DEVICE POINT=VALUE..., write-result TOKEN";
    return compact(e);
}

int Daemon::Impl::on_control(sd_event_source*, int, std::uint32_t, void* ud) noexcept {
    try {
        static_cast<Impl*>(ud)->control->on_readable();
    } catch (const std::exception& e) {
        util::log_warning(std::string("control socket: ") + e.what());
    }
    return 0;
}

}  // namespace fieldgate::daemon
