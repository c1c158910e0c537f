#include "hub.hpp"

#include <json/json.h>

#include <algorithm>
#include <cctype>
#include <limits>
#include <sstream>

#include "fieldgate/enos/sign.hpp"

namespace fieldgate::cloudsim {
namespace {

// Arrays hold at most 128 members (EnOS doc).
constexpr Json::ArrayIndex kMaxArrayMembers = 128;

std::string_view method_of(RequestKind kind) {
    switch (kind) {
        case RequestKind::PostBatch:
            return enos::kMethodPostBatch;
        case RequestKind::ResumeBatch:
            return enos::kMethodResumeBatch;
        case RequestKind::Login:
            return "combine.login";
        case RequestKind::LoginBatch:
            return "combine.login.batch";
        case RequestKind::Logout:
            return "combine.logout";
    }
    return "";
}

bool is_batch(RequestKind kind) {
    return kind == RequestKind::PostBatch || kind == RequestKind::ResumeBatch;
}

// Malformed envelopes: the batch topics answer 1206 (as the hub does for a malformed batch),
// the session topics the general 1220.
int format_code(RequestKind kind) {
    return is_batch(kind) ? kCodeFormat : kCodePayloadFormat;
}

std::string_view message_of(int code) {
    switch (code) {
        case kCodeOk:
            return "";
        case kCodeDeviceNotFound:
            return "device does not exist";
        case kCodeLoginPartial:
            return "some sub-devices failed to log in";
        case kCodeSignFailed:
            return "sign check failed";
        case kCodeModelInvalid:
            return "Model validate failed";
        case kCodeFormat:
            return "Measurepoint post data format error";
        case kCodeNoPermission:
            return "No sub-device permission";
        case kCodePayloadFormat:
            return "payload format error";
        case kCodePayloadEmpty:
            return "payload empty";
        case kCodeMethodMismatch:
            return "method does not match topic";
        default:
            return "error";
    }
}

bool is_json_integer(const Json::Value& v) {
    return v.type() == Json::intValue || v.type() == Json::uintValue;
}

bool is_json_number(const Json::Value& v) {
    return is_json_integer(v) || v.type() == Json::realValue;
}

// Why a value does not fit its type, or "" when it does. `{"value": v, "quality": q}` with an
// integer quality 0..9 stands for v.
std::string point_problem(PointType type, const Json::Value& raw) {
    const Json::Value* v = &raw;
    if (raw.isObject()) {
        if (raw.size() != 2 || !raw.isMember("value") || !raw.isMember("quality")) {
            return "an object value must be {\"value\": v, \"quality\": q}";
        }
        const Json::Value& q = raw["quality"];
        if (!is_json_integer(q) || !q.isInt() || q.asInt() < 0 || q.asInt() > 9) {
            return "quality must be an integer 0..9";
        }
        v = &raw["value"];
        if (v->isObject()) return "a quality-wrapped value cannot be an object";
    }
    if (v->isNull()) return "null is not a value";
    if (v->isArray() && v->size() > kMaxArrayMembers) return "an array holds at most 128 members";
    switch (type) {
        case PointType::Number:
            return is_json_number(*v) ? "" : "expected a number";
        case PointType::Integer:
            return is_json_integer(*v) ? "" : "expected an integer";
        case PointType::String:
            return v->isString() ? "" : "expected a string";
        case PointType::Bool:
            if (v->isBool()) return "";
            if (is_json_integer(*v) && v->isUInt64() && v->asUInt64() <= 1) return "";
            return "expected a bool (0, 1, true or false)";
        case PointType::Array:
            if (!v->isArray()) return "expected an array";
            for (const auto& member : *v) {
                if (!is_json_number(member) && !member.isString()) return "array members must be numbers or strings";
            }
            return "";
        case PointType::Any:
            return "";
    }
    return "unknown type";
}

bool equal_ignoring_case(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

// A timestamp may be sent as a string (doc) or as an integer (some SDKs); the sign uses its text.
std::optional<std::string> timestamp_text(const Json::Value& v) {
    if (v.isString()) return v.asString();
    if (is_json_integer(v))
        return v.type() == Json::intValue ? std::to_string(v.asInt64()) : std::to_string(v.asUInt64());
    return std::nullopt;
}

// jsoncpp's error text spans lines ("* Line 1, Column 1\n  Syntax error: ...\n").
std::string one_line(const std::string& text) {
    std::string out;
    bool blank = false;
    for (const char c : text) {
        if (c == '\n' || c == ' ' || c == '\t') {
            blank = true;
            continue;
        }
        if (blank) out += ' ';
        blank = false;
        out += c;
    }
    return out;
}

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

std::string describe_device(std::string_view pk, std::string_view dk) {
    return std::string(pk) + "/" + std::string(dk);
}

}  // namespace

std::optional<PointType> parse_point_type(std::string_view text) {
    if (text == "number") return PointType::Number;
    if (text == "integer") return PointType::Integer;
    if (text == "string") return PointType::String;
    if (text == "bool") return PointType::Bool;
    if (text == "array") return PointType::Array;
    if (text == "any") return PointType::Any;
    return std::nullopt;
}

std::string_view point_type_name(PointType type) {
    switch (type) {
        case PointType::Number:
            return "number";
        case PointType::Integer:
            return "integer";
        case PointType::String:
            return "string";
        case PointType::Bool:
            return "bool";
        case PointType::Array:
            return "array";
        case PointType::Any:
            return "any";
    }
    return "?";
}

std::string_view request_kind_name(RequestKind kind) {
    switch (kind) {
        case RequestKind::PostBatch:
            return "post/batch";
        case RequestKind::ResumeBatch:
            return "resume/batch";
        case RequestKind::Login:
            return "login";
        case RequestKind::LoginBatch:
            return "login/batch";
        case RequestKind::Logout:
            return "logout";
    }
    return "?";
}

Hub::Hub(HubConfig config) : config_(std::move(config)), topics_(config_.product_key, config_.device_key) {
    for (std::size_t i = 0; i < config_.devices.size(); ++i) {
        device_index_.emplace(DeviceId{config_.devices[i].product_key, config_.devices[i].device_key}, i);
    }
    Json::CharReaderBuilder rb;
    Json::CharReaderBuilder::strictMode(&rb.settings_);
    reader_.reset(rb.newCharReader());
    Json::StreamWriterBuilder wb;
    wb["indentation"] = "";
    wb["emitUTF8"] = true;
    writer_.reset(wb.newStreamWriter());
}

Hub::~Hub() = default;

std::vector<std::string> Hub::topics() const {
    return {topics_.post_batch(), topics_.resume_batch(), topics_.login(), topics_.login_batch(), topics_.logout()};
}

std::optional<RequestKind> Hub::kind_of(std::string_view topic) const {
    if (topic == topics_.post_batch()) return RequestKind::PostBatch;
    if (topic == topics_.resume_batch()) return RequestKind::ResumeBatch;
    if (topic == topics_.login()) return RequestKind::Login;
    if (topic == topics_.login_batch()) return RequestKind::LoginBatch;
    if (topic == topics_.logout()) return RequestKind::Logout;
    return std::nullopt;
}

std::string Hub::reply_topic(RequestKind kind) const {
    switch (kind) {
        case RequestKind::PostBatch:
            return enos::Topics::reply_of(topics_.post_batch());
        case RequestKind::ResumeBatch:
            return enos::Topics::reply_of(topics_.resume_batch());
        case RequestKind::Login:
            return enos::Topics::reply_of(topics_.login());
        case RequestKind::LoginBatch:
            return enos::Topics::reply_of(topics_.login_batch());
        case RequestKind::Logout:
            return enos::Topics::reply_of(topics_.logout());
    }
    return {};
}

bool Hub::logged_in(std::string_view product_key, std::string_view device_key) const {
    return sessions_.count(DeviceId{std::string(product_key), std::string(device_key)}) != 0;
}

const SubDevice* Hub::find_device(std::string_view product_key, std::string_view device_key) const {
    const auto it = device_index_.find(DeviceId{std::string(product_key), std::string(device_key)});
    return it == device_index_.end() ? nullptr : &config_.devices[it->second];
}

const ThingModel* Hub::find_model(std::string_view product_key) const {
    const auto it = config_.products.find(product_key);
    return it == config_.products.end() ? nullptr : &it->second;
}

std::string Hub::json_text(const Json::Value& value) const {
    std::ostringstream os;
    writer_->write(value, &os);
    return os.str();
}

void Hub::finish(Outcome& out, int code, const Json::Value& data) const {
    out.code = code;
    Json::Value reply(Json::objectValue);
    reply["id"] = out.id;
    reply["code"] = code;
    reply["data"] = data.isNull() ? Json::Value(Json::objectValue) : data;
    reply["message"] = std::string(out.fault_injected ? "fault injected by fieldgate-cloud-sim" : message_of(code));
    out.reply_body = json_text(reply);
}

void Hub::override_reply(Outcome& outcome, int code, std::string_view message) const {
    outcome.detail = std::string(message);
    outcome.records.clear();
    outcome.records_accepted = 0;
    finish(outcome, code, Json::Value(Json::objectValue));
}

Outcome Hub::handle(RequestKind kind, std::string_view payload, std::int64_t now_ms) {
    Outcome out;
    out.kind = kind;
    const bool batch = is_batch(kind);
    const std::uint64_t seq = batch ? ++batch_requests_ : 0;
    if (batch && seq <= config_.faults.drop_replies) out.send_reply = false;

    const Json::Value no_data(Json::objectValue);
    if (payload.empty()) {
        out.detail = "empty payload";
        finish(out, kCodePayloadEmpty, no_data);
        return out;
    }
    Json::Value body;
    std::string errors;
    if (!reader_->parse(payload.data(), payload.data() + payload.size(), &body, &errors)) {
        out.detail = "not JSON:" + one_line(errors);
        finish(out, kCodePayloadFormat, no_data);
        return out;
    }
    if (!body.isObject()) {
        out.detail = "the body is not a JSON object";
        finish(out, format_code(kind), no_data);
        return out;
    }
    const Json::Value& id = body["id"];
    if (!id.isString()) {
        out.detail = "id missing or not a string";
        finish(out, format_code(kind), no_data);
        return out;
    }
    out.id = id.asString();
    if (batch && config_.faults.every > 0 && seq % config_.faults.every == 0) {
        out.fault_injected = true;
        out.detail = "fault injected (every " + std::to_string(config_.faults.every) + ")";
        finish(out, config_.faults.reply_code, no_data);
        return out;
    }
    const Json::Value& version = body["version"];
    if (!version.isString() || version.asString() != "1.0") {
        out.detail = "version must be \"1.0\"";
        finish(out, format_code(kind), no_data);
        return out;
    }
    const Json::Value& method = body["method"];
    if (!method.isString() || method.asString() != method_of(kind)) {
        out.detail = "method must be \"" + std::string(method_of(kind)) + "\" on this topic";
        finish(out, kCodeMethodMismatch, no_data);
        return out;
    }
    switch (kind) {
        case RequestKind::PostBatch:
        case RequestKind::ResumeBatch:
            return handle_batch(kind, payload, body, now_ms, std::move(out));
        case RequestKind::Login:
            return handle_login(body, std::move(out));
        case RequestKind::LoginBatch:
            return handle_login_batch(body, std::move(out));
        case RequestKind::Logout:
            return handle_logout(body, std::move(out));
    }
    return out;
}

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
                    return fail(kCodeModelInvalid,
                                at + " " + describe_device(pk, dk) + " point \"" + name + "\": " + problem);
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

Outcome Hub::handle_login(const Json::Value& body, Outcome out) {
    const Json::Value& p = body["params"];
    const auto ts = p.isObject() ? timestamp_text(p["timestamp"]) : std::nullopt;
    if (!p.isObject() || !p["productKey"].isString() || !p["deviceKey"].isString() || !p["clientId"].isString() ||
        !ts || !p["signMethod"].isString() || !p["sign"].isString()) {
        out.detail = "params must hold productKey, deviceKey, clientId, timestamp, signMethod and sign";
        finish(out, kCodePayloadFormat, Json::Value(Json::objectValue));
        return out;
    }
    const std::string pk = p["productKey"].asString();
    const std::string dk = p["deviceKey"].asString();
    Json::Value data(Json::objectValue);
    data["productKey"] = pk;
    data["deviceKey"] = dk;
    if (!equal_ignoring_case(p["signMethod"].asString(), "sha256")) {
        out.detail = "signMethod must be sha256";
        finish(out, kCodePayloadFormat, data);
        return out;
    }
    const SubDevice* dev = find_device(pk, dk);
    if (dev == nullptr) {
        out.detail = "sub-device " + describe_device(pk, dk) + " does not exist under this gateway";
        finish(out, kCodeDeviceNotFound, data);
        return out;
    }
    const std::string expected =
        enos::sign({{"clientId", p["clientId"].asString()}, {"deviceKey", dk}, {"productKey", pk}, {"timestamp", *ts}},
                   dev->device_secret);
    if (!equal_ignoring_case(expected, p["sign"].asString())) {
        out.detail = "sub-device " + describe_device(pk, dk) + ": sign does not match its secret";
        finish(out, kCodeSignFailed, data);
        return out;
    }
    sessions_.insert(DeviceId{pk, dk});
    out.detail = "sub-device " + describe_device(pk, dk) + " logged in";
    finish(out, kCodeOk, data);
    return out;
}

Outcome Hub::handle_login_batch(const Json::Value& body, Outcome out) {
    const Json::Value& p = body["params"];
    const auto ts = p.isObject() ? timestamp_text(p["timestamp"]) : std::nullopt;
    bool ok = p.isObject() && p["clientId"].isString() && ts && p["signMethod"].isString() &&
              p["subDevices"].isArray() && !p["subDevices"].empty();
    if (ok) {
        for (const auto& s : p["subDevices"]) {
            ok = ok && s.isObject() && s["productKey"].isString() && s["deviceKey"].isString() && s["sign"].isString();
        }
    }
    if (!ok) {
        out.detail =
            "params must hold clientId, timestamp, signMethod and a non-empty subDevices array of "
            "{productKey, deviceKey, sign}";
        finish(out, kCodePayloadFormat, Json::Value(Json::objectValue));
        return out;
    }
    if (!equal_ignoring_case(p["signMethod"].asString(), "sha256")) {
        out.detail = "signMethod must be sha256";
        finish(out, kCodePayloadFormat, Json::Value(Json::objectValue));
        return out;
    }
    const std::string client_id = p["clientId"].asString();
    Json::Value logined(Json::arrayValue);
    Json::Value failed(Json::arrayValue);
    for (const auto& s : p["subDevices"]) {
        const std::string pk = s["productKey"].asString();
        const std::string dk = s["deviceKey"].asString();
        Json::Value entry(Json::objectValue);
        entry["productKey"] = pk;
        entry["deviceKey"] = dk;
        const SubDevice* dev = find_device(pk, dk);
        int code = kCodeOk;
        if (dev == nullptr) {
            code = kCodeDeviceNotFound;
        } else {
            const std::string expected =
                enos::sign({{"clientId", client_id}, {"deviceKey", dk}, {"productKey", pk}, {"timestamp", *ts}},
                           dev->device_secret);
            if (!equal_ignoring_case(expected, s["sign"].asString())) code = kCodeSignFailed;
        }
        if (code == kCodeOk) {
            sessions_.insert(DeviceId{pk, dk});
            logined.append(entry);
        } else {
            entry["code"] = code;
            entry["message"] = std::string(message_of(code));
            failed.append(entry);
        }
    }
    Json::Value data(Json::objectValue);
    data["loginedSubDevices"] = logined;
    data["failedSubDevices"] = failed;
    out.detail = std::to_string(logined.size()) + " logged in, " + std::to_string(failed.size()) + " failed";
    finish(out, failed.empty() ? kCodeOk : kCodeLoginPartial, data);
    return out;
}

Outcome Hub::handle_logout(const Json::Value& body, Outcome out) {
    const Json::Value& p = body["params"];
    if (!p.isObject() || !p["productKey"].isString() || !p["deviceKey"].isString()) {
        out.detail = "params must hold productKey and deviceKey";
        finish(out, kCodePayloadFormat, Json::Value(Json::objectValue));
        return out;
    }
    const std::string pk = p["productKey"].asString();
    const std::string dk = p["deviceKey"].asString();
    if (find_device(pk, dk) == nullptr) {
        out.detail = "sub-device " + describe_device(pk, dk) + " does not exist under this gateway";
        finish(out, kCodeDeviceNotFound, Json::Value(Json::objectValue));
        return out;
    }
    sessions_.erase(DeviceId{pk, dk});
    out.detail = "sub-device " + describe_device(pk, dk) + " logged out";
    finish(out, kCodeOk, Json::Value(Json::objectValue));
    return out;
}

}  // namespace fieldgate::cloudsim
