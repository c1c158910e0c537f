// Sub-device sessions: login (one and batch, signature checked) and logout.
#include <json/json.h>

#include <algorithm>
#include <cctype>

#include "fieldgate/enos/sign.hpp"
#include "hub.hpp"

namespace fieldgate::cloudsim {
namespace {

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

}  // namespace

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
            entry["message"] = std::string(code_message(code));
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
