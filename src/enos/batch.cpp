#include "fieldgate/enos/batch.hpp"

#include <json/json.h>

#include <memory>

#include "fieldgate/enos/topics.hpp"
#include "fieldgate/util/json.hpp"

namespace fieldgate::enos {

std::string encode_record(std::string_view product_key, std::string_view device_key, std::int64_t time_ms,
                          std::string_view measurepoints) {
    std::string out;
    out.reserve(64 + product_key.size() + device_key.size() + measurepoints.size());
    out += '{';
    if (!product_key.empty() || !device_key.empty()) {
        out += "\"productKey\":";
        util::append_json_string(out, product_key);
        out += ",\"deviceKey\":";
        util::append_json_string(out, device_key);
        out += ',';
    }
    out += "\"time\":";
    out += std::to_string(time_ms);
    out += ",\"measurepoints\":";
    out += measurepoints;
    out += '}';
    return out;
}

namespace {
constexpr std::string_view kHead1 = "{\"id\":";
constexpr std::string_view kHead2 = ",\"version\":\"1.0\",\"method\":\"";
constexpr std::string_view kFlags1 = "\",\"allowOfflineSubDevice\":";
constexpr std::string_view kFlags2 = ",\"skipInvalidMeasurepoints\":";
constexpr std::string_view kParams = ",\"params\":[";
constexpr std::string_view kTail = "]}";
}  // namespace

std::size_t batch_overhead_bytes(std::size_t id_length) {
    return kHead1.size() + id_length + 2 + kHead2.size() + kMethodResumeBatch.size() + kFlags1.size() + 5 +
           kFlags2.size() + 5 + kParams.size() + kTail.size();
}

std::string encode_batch(std::string_view id, const BatchFlags& flags, const std::vector<std::string_view>& records) {
    std::size_t size = batch_overhead_bytes(id.size());
    for (auto r : records)
        size += r.size() + 1;
    std::string out;
    out.reserve(size);
    out += kHead1;
    util::append_json_string(out, id);
    out += kHead2;
    out += flags.resume ? kMethodResumeBatch : kMethodPostBatch;
    out += kFlags1;
    out += flags.allow_offline_subdevice ? "true" : "false";
    out += kFlags2;
    out += flags.skip_invalid_measurepoints ? "true" : "false";
    out += kParams;
    bool first = true;
    for (auto r : records) {
        if (!first) out += ',';
        first = false;
        out += r;
    }
    out += kTail;
    return out;
}

namespace {
std::optional<Json::Value> parse_object(std::string_view payload) {
    Json::CharReaderBuilder builder;
    const std::unique_ptr<Json::CharReader> reader(builder.newCharReader());
    Json::Value root;
    std::string errors;
    if (!reader->parse(payload.data(), payload.data() + payload.size(), &root, &errors)) return std::nullopt;
    if (!root.isObject()) return std::nullopt;
    return root;
}
}  // namespace

std::optional<DownstreamRequest> parse_downstream(std::string_view payload) {
    const auto root = parse_object(payload);
    if (!root || !(*root)["id"].isString()) return std::nullopt;
    DownstreamRequest req;
    req.id = (*root)["id"].asString();
    const Json::Value& params = (*root)["params"];
    if (params.isArray())
        for (const auto& p : params)
            if (p.isObject() && p["productKey"].isString() && p["deviceKey"].isString())
                req.devices.push_back(p["productKey"].asString() + "/" + p["deviceKey"].asString());
    return req;
}

std::string encode_ack(std::string_view id) {
    std::string out = "{\"id\":";
    util::append_json_string(out, id);
    out += ",\"code\":200,\"data\":{}}";
    return out;
}

std::optional<Reply> parse_reply(std::string_view payload) {
    const auto parsed = parse_object(payload);
    if (!parsed) return std::nullopt;
    const Json::Value& root = *parsed;
    const Json::Value& id = root["id"];
    const Json::Value& code = root["code"];
    if (!id.isString() || !code.isInt()) return std::nullopt;
    Reply reply;
    reply.id = id.asString();
    reply.code = code.asInt();
    if (root["message"].isString()) reply.message = root["message"].asString();
    return reply;
}

ReplyAction classify(int code) {
    switch (code) {
        case 200:
            return ReplyAction::Delete;
        case 1204:
        case 1206:
        case 1220:
            return ReplyAction::Bisect;
        case 1212:
            return ReplyAction::Relogin;
        case 1008:
            return ReplyAction::Shrink;
        default:
            return ReplyAction::Retry;
    }
}

}  // namespace fieldgate::enos
