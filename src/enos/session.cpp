#include "fieldgate/enos/session.hpp"

#include <json/json.h>

#include <memory>

#include "fieldgate/enos/sign.hpp"
#include "fieldgate/util/json.hpp"

namespace fieldgate::enos {

std::string encode_login_batch(std::string_view id, std::string_view client_id, std::int64_t timestamp_ms,
                               const std::vector<SubDeviceKeys>& devices) {
    const std::string ts = std::to_string(timestamp_ms);
    const std::string cid(client_id);
    std::string out = "{\"id\":";
    util::append_json_string(out, id);
    out += ",\"version\":\"1.0\",\"method\":\"combine.login.batch\",\"params\":{\"clientId\":";
    util::append_json_string(out, client_id);
    out += ",\"timestamp\":\"" + ts + "\",\"signMethod\":\"sha256\",\"secureMode\":\"2\",\"subDevices\":[";
    bool first = true;
    for (const auto& d : devices) {
        if (!first) out += ',';
        first = false;
        out += "{\"productKey\":";
        util::append_json_string(out, d.product_key);
        out += ",\"deviceKey\":";
        util::append_json_string(out, d.device_key);
        out += ",\"sign\":\"";
        out += sign({{"clientId", cid}, {"deviceKey", d.device_key}, {"productKey", d.product_key}, {"timestamp", ts}},
                    d.secret);
        out += "\"}";
    }
    out += "]}}";
    return out;
}

std::string encode_logout(std::string_view id, std::string_view product_key, std::string_view device_key) {
    std::string out = "{\"id\":";
    util::append_json_string(out, id);
    out += ",\"version\":\"1.0\",\"method\":\"combine.logout\",\"params\":{\"productKey\":";
    util::append_json_string(out, product_key);
    out += ",\"deviceKey\":";
    util::append_json_string(out, device_key);
    out += "}}";
    return out;
}

std::optional<LoginBatchReply> parse_login_batch_reply(std::string_view payload) {
    Json::CharReaderBuilder builder;
    const std::unique_ptr<Json::CharReader> reader(builder.newCharReader());
    Json::Value root;
    std::string errors;
    if (!reader->parse(payload.data(), payload.data() + payload.size(), &root, &errors) || !root.isObject())
        return std::nullopt;
    if (!root["id"].isString() || !root["code"].isInt()) return std::nullopt;
    LoginBatchReply r;
    r.id = root["id"].asString();
    r.code = root["code"].asInt();
    const Json::Value& data = root["data"];
    if (!data.isObject()) return r;
    // An entry without string keys names no device we could match: it is skipped (asString()
    // on an array or object would throw, found by the enos_reply fuzz target).
    auto named = [](const Json::Value& e) {
        return e.isObject() && e["productKey"].isString() && e["deviceKey"].isString();
    };
    auto keys = [](const Json::Value& e) {
        return std::make_pair(e["productKey"].asString(), e["deviceKey"].asString());
    };
    if (data["loginedSubDevices"].isArray())
        for (const auto& e : data["loginedSubDevices"])
            if (named(e)) r.logged_in.push_back(keys(e));
    if (data["failedSubDevices"].isArray())
        for (const auto& e : data["failedSubDevices"])
            if (named(e)) r.failed.emplace_back(keys(e), e["code"].isInt() ? e["code"].asInt() : r.code);
    return r;
}

}  // namespace fieldgate::enos
