#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "fieldgate/util/json_reader.hpp"

namespace fieldgate::enos {

/// The measurepoint services the cloud calls on a device (DESIGN.md "Writes from the cloud").
enum class Service { Set, Get };

/// `/sys/{pk}/{dk}/thing/service/measurepoint/set` (or `/get`): the request topic of a device's
/// service; its reply goes to the same topic + `_reply`.
std::string service_topic(std::string_view product_key, std::string_view device_key, Service service);

struct ServiceTopic {
    std::string product_key;
    std::string device_key;
    Service service = Service::Set;
};

/// The device and service a request topic names; nullopt for any other topic (a `_reply`
/// topic included).
std::optional<ServiceTopic> parse_service_topic(std::string_view topic);

/// A request as received. `code` 0: well formed, `params` holds an object of point -> value
/// (set, at least one member) or an array of point ids (get; empty means every point).
/// Otherwise the request is refused before anything is done: 1251 empty payload, 1220 not a
/// JSON object / params of the wrong shape, 1260 a method that does not match the topic;
/// `message` says what is wrong. `id` is empty when none could be read, in which case no reply
/// can be matched by the cloud and the request is only logged.
struct ServiceRequest {
    std::string id;
    util::JsonValue params;
    int code = 0;
    std::string message;
};

inline constexpr std::string_view kMethodMeasurepointSet = "thing.service.measurepoint.set";
inline constexpr std::string_view kMethodMeasurepointGet = "thing.service.measurepoint.get";

/// Parses a set or get request strictly. Pure; never throws on bad input.
ServiceRequest parse_service_request(Service service, std::string_view payload);

/// The reply body: `{"id":"..","code":N,"data":DATA[,"message":".."]}`; `data_json` is a JSON
/// object text (`{}` when empty), `message` left out when empty.
std::string service_reply(std::string_view id, int code, std::string_view data_json, std::string_view message = {});

}  // namespace fieldgate::enos
