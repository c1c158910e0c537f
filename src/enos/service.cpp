#include "fieldgate/enos/service.hpp"

#include "fieldgate/util/json.hpp"

namespace fieldgate::enos {

namespace {

constexpr std::string_view kSysPrefix = "/sys/";
constexpr std::string_view kSetSuffix = "/thing/service/measurepoint/set";
constexpr std::string_view kGetSuffix = "/thing/service/measurepoint/get";

bool ends_with(std::string_view s, std::string_view tail) {
    return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

// A request whose JSON is broken can still carry a readable id; answering it lets the cloud
// see why. Looks for the first `"id"` followed by `:` and a string, by hand.
std::string salvage_id(std::string_view payload) {
    const auto at = payload.find("\"id\"");
    if (at == std::string_view::npos) return {};
    std::size_t k = at + 4;
    while (k < payload.size() && (payload[k] == ' ' || payload[k] == '\t' || payload[k] == '\n' || payload[k] == '\r'))
        ++k;
    if (k >= payload.size() || payload[k] != ':') return {};
    ++k;
    while (k < payload.size() && (payload[k] == ' ' || payload[k] == '\t' || payload[k] == '\n' || payload[k] == '\r'))
        ++k;
    if (k >= payload.size() || payload[k] != '"') return {};
    const auto end = payload.find('"', k + 1);
    if (end == std::string_view::npos) return {};
    std::string id(payload.substr(k + 1, end - k - 1));
    for (char c : id) {
        if (c == '\\' || static_cast<unsigned char>(c) < 0x20) return {};
    }
    return id;
}

ServiceRequest refuse(ServiceRequest r, int code, std::string message) {
    r.code = code;
    r.message = std::move(message);
    r.params = util::JsonValue{};
    return r;
}

}  // namespace

std::string service_topic(std::string_view product_key, std::string_view device_key, Service service) {
    std::string t;
    t.reserve(kSysPrefix.size() + product_key.size() + device_key.size() + 1 + kSetSuffix.size());
    t.append(kSysPrefix).append(product_key).append("/").append(device_key);
    t.append(service == Service::Set ? kSetSuffix : kGetSuffix);
    return t;
}

std::optional<ServiceTopic> parse_service_topic(std::string_view topic) {
    ServiceTopic out;
    if (topic.substr(0, kSysPrefix.size()) != kSysPrefix) return std::nullopt;
    if (ends_with(topic, kSetSuffix)) {
        out.service = Service::Set;
        topic.remove_suffix(kSetSuffix.size());
    } else if (ends_with(topic, kGetSuffix)) {
        out.service = Service::Get;
        topic.remove_suffix(kGetSuffix.size());
    } else {
        return std::nullopt;
    }
    topic.remove_prefix(kSysPrefix.size());
    const auto slash = topic.find('/');
    if (slash == std::string_view::npos || slash == 0 || slash + 1 >= topic.size()) return std::nullopt;
    if (topic.find('/', slash + 1) != std::string_view::npos) return std::nullopt;
    out.product_key = std::string(topic.substr(0, slash));
    out.device_key = std::string(topic.substr(slash + 1));
    return out;
}

ServiceRequest parse_service_request(Service service, std::string_view payload) {
    ServiceRequest r;
    if (payload.find_first_not_of(" \t\r\n") == std::string_view::npos) return refuse(r, 1251, "payload empty");
    util::JsonValue doc;
    std::string error;
    if (!util::parse_json(payload, doc, error)) {
        r.id = salvage_id(payload);
        return refuse(std::move(r), 1220, "payload is not JSON: " + error);
    }
    if (doc.kind != util::JsonValue::Kind::Object) return refuse(r, 1220, "payload is not a JSON object");
    const auto* id = doc.find("id");
    if (id && id->kind == util::JsonValue::Kind::String) {
        r.id = id->s;
    } else if (id && id->kind == util::JsonValue::Kind::Uint) {
        r.id = std::to_string(id->u);
    } else {
        return refuse(r, 1220, "no string \"id\"");
    }
    const auto want = service == Service::Set ? kMethodMeasurepointSet : kMethodMeasurepointGet;
    const auto* method = doc.find("method");
    if (!method || method->kind != util::JsonValue::Kind::String || method->s != want) {
        return refuse(std::move(r), 1260, "method does not match topic; expected " + std::string(want));
    }
    util::JsonValue* params = nullptr;
    for (auto& member : doc.members) {
        if (member.first == "params") {
            params = &member.second;
            break;
        }
    }
    if (service == Service::Set) {
        if (!params || params->kind != util::JsonValue::Kind::Object || params->members.empty()) {
            return refuse(std::move(r), 1220, "params must be an object of point ids and values");
        }
        for (std::size_t k = 0; k < params->members.size(); ++k) {
            for (std::size_t m = 0; m < k; ++m) {
                if (params->members[m].first == params->members[k].first) {
                    return refuse(std::move(r), 1220, "point " + params->members[k].first + " given twice");
                }
            }
        }
    } else {
        if (!params || params->kind != util::JsonValue::Kind::Array) {
            return refuse(std::move(r), 1220, "params must be an array of point ids");
        }
        for (const auto& p : params->items) {
            if (p.kind != util::JsonValue::Kind::String) {
                return refuse(std::move(r), 1220, "params must be an array of point ids");
            }
        }
    }
    r.params = std::move(*params);
    return r;
}

std::string service_reply(std::string_view id, int code, std::string_view data_json, std::string_view message) {
    std::string out;
    out.reserve(48 + id.size() + data_json.size() + message.size());
    out.append("{\"id\":");
    util::append_json_string(out, id);
    out.append(",\"code\":").append(std::to_string(code)).append(",\"data\":");
    out.append(data_json.empty() ? std::string_view("{}") : data_json);
    if (!message.empty()) {
        out.append(",\"message\":");
        util::append_json_string(out, message);
    }
    out.push_back('}');
    return out;
}

}  // namespace fieldgate::enos
