#include "hub.hpp"

#include <json/json.h>

#include <sstream>

namespace fieldgate::cloudsim {
namespace {

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

}  // namespace

std::string_view code_message(int code) {
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
    reply["message"] = std::string(out.fault_injected ? "fault injected by fieldgate-cloud-sim" : code_message(code));
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

std::string Hub::describe_device(std::string_view pk, std::string_view dk) {
    return std::string(pk) + "/" + std::string(dk);
}

}  // namespace fieldgate::cloudsim
