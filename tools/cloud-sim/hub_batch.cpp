// The measurepoint post and resume batches: format, permission and model checks, and the
// records they add.
#include <json/json.h>

#include <algorithm>

#include "hub.hpp"

namespace fieldgate::cloudsim {
namespace {

// The bytes a parsed value came from, so records keep numbers exactly as the gateway wrote them
// (a float32 "21.37" stays 21.37; re-serializing the double would give 21.370000000000001).
// Empty when unusable: raw text with line breaks would split a JSON line of the records file.
std::string_view raw_text(std::string_view payload, const Json::Value& v) {
    const auto start = static_cast<std::size_t>(v.getOffsetStart());
    const auto limit = static_cast<std::size_t>(v.getOffsetLimit());
    if (limit <= start || limit > payload.size()) return {};
    const std::string_view raw = payload.substr(start, limit - start);
    if (raw.find_first_of("\r\n") != std::string_view::npos) return {};
    return raw;
}

}  // namespace

Outcome Hub::handle_batch(RequestKind kind, std::string_view payload, const Json::Value& body, std::int64_t now_ms,
                          Outcome out) {
    const Json::Value no_data(Json::objectValue);
    auto fail = [&](int code, std::string detail) {
        out.detail = std::move(detail);
        finish(out, code, no_data);
        return std::move(out);
    };

    bool allow_offline = false;
    bool skip_invalid = false;
    if (body.isMember("allowOfflineSubDevice")) {
        if (!body["allowOfflineSubDevice"].isBool()) return fail(kCodeFormat, "allowOfflineSubDevice must be a bool");
        allow_offline = body["allowOfflineSubDevice"].asBool();
    }
    if (body.isMember("skipInvalidMeasurepoints")) {
        if (!body["skipInvalidMeasurepoints"].isBool())
            return fail(kCodeFormat, "skipInvalidMeasurepoints must be a bool");
        skip_invalid = body["skipInvalidMeasurepoints"].asBool();
    }
    const Json::Value& params = body["params"];
    if (!params.isArray()) return fail(kCodeFormat, "params missing or not an array");
    if (params.empty()) return fail(kCodePayloadEmpty, "params is an empty array");

    // Format first, over the whole request: a malformed request is reported as such wherever the
    // fault is. Then permission and model, record by record; the first failure decides the code.
    for (Json::ArrayIndex i = 0; i < params.size(); ++i) {
        const Json::Value& r = params[i];
        const std::string at = "params[" + std::to_string(i) + "]";
        if (!r.isObject()) return fail(kCodeFormat, at + " is not an object");
        const bool has_pk = r.isMember("productKey");
        const bool has_dk = r.isMember("deviceKey");
        if (has_pk != has_dk) return fail(kCodeFormat, at + ": productKey and deviceKey go together");
        if (has_pk && (!r["productKey"].isString() || !r["deviceKey"].isString())) {
            return fail(kCodeFormat, at + ": productKey and deviceKey must be strings");
        }
        if (r.isMember("time")) {
            const Json::Value& t = r["time"];
            if (!is_json_integer(t) || !t.isInt64() || t.asInt64() < 0) {
                return fail(kCodeFormat, at + ": time must be a non-negative integer (ms since epoch)");
            }
        }
        if (!r["measurepoints"].isObject()) return fail(kCodeFormat, at + ": measurepoints missing or not an object");
    }

    const std::string topic_name = kind == RequestKind::PostBatch ? "\"post\"" : "\"resume\"";
    const std::string request_id = json_text(Json::Value(out.id));
    std::string lines;
    std::uint64_t accepted = 0;
    std::uint64_t dropped = 0;
    for (Json::ArrayIndex i = 0; i < params.size(); ++i) {
        const Json::Value& r = params[i];
        const std::string at = "params[" + std::to_string(i) + "]";
        std::string pk = config_.product_key;
        std::string dk = config_.device_key;
        if (r.isMember("productKey")) {
            pk = r["productKey"].asString();
            dk = r["deviceKey"].asString();
        }
        const bool is_gateway = pk == config_.product_key && dk == config_.device_key;
        if (!is_gateway) {
            if (find_device(pk, dk) == nullptr) {
                return fail(kCodeNoPermission,
                            at + ": sub-device " + describe_device(pk, dk) + " is not bound to this gateway");
            }
            if (!allow_offline && !logged_in(pk, dk)) {
                return fail(kCodeNoPermission, at + ": sub-device " + describe_device(pk, dk) +
                                                   " is not logged in and allowOfflineSubDevice is false");
            }
        }
        const Json::Value& points = r["measurepoints"];
        std::vector<std::string> invalid;
        if (const ThingModel* model = find_model(pk)) {
            for (auto it = points.begin(); it != points.end(); ++it) {
                const std::string name = it.name();
                const auto type = model->find(name);
                std::string problem =
                    type == model->end() ? "not in product " + pk + "'s model" : point_problem(type->second, *it);
                if (problem.empty()) continue;
                if (!skip_invalid) {
                    std::string why = at;
                    why.append(" ").append(describe_device(pk, dk)).append(" point \"").append(name);
                    return fail(kCodeModelInvalid, why.append("\": ").append(problem));
                }
                invalid.push_back(name);
            }
        }
        dropped += invalid.size();
        // A record left without points stores nothing: accepted, not written.
        if (points.size() == invalid.size()) continue;
        std::string kept;
        if (invalid.empty()) {
            kept = std::string(raw_text(payload, points));
            if (kept.empty()) kept = json_text(points);
        } else {
            kept = "{";
            for (auto it = points.begin(); it != points.end(); ++it) {
                const std::string name = it.name();
                if (std::find(invalid.begin(), invalid.end(), name) != invalid.end()) continue;
                if (kept.size() > 1) kept += ',';
                kept += json_text(Json::Value(name));
                kept += ':';
                const std::string_view raw = raw_text(payload, *it);
                kept += raw.empty() ? json_text(*it) : std::string(raw);
            }
            kept += '}';
        }
        const std::int64_t time = r.isMember("time") ? r["time"].asInt64() : now_ms;
        lines += "{\"topic\":";
        lines += topic_name;
        lines += ",\"request_id\":";
        lines += request_id;
        lines += ",\"productKey\":";
        lines += json_text(Json::Value(pk));
        lines += ",\"deviceKey\":";
        lines += json_text(Json::Value(dk));
        lines += ",\"time\":";
        lines += std::to_string(time);
        lines += ",\"measurepoints\":";
        lines += kept;
        lines += "}\n";
        ++accepted;
    }
    out.records = std::move(lines);
    out.records_accepted = accepted;
    out.points_dropped = dropped;
    if (dropped > 0) out.detail = std::to_string(dropped) + " invalid point(s) dropped (skipInvalidMeasurepoints)";
    finish(out, kCodeOk, no_data);
    return out;
}

}  // namespace fieldgate::cloudsim
