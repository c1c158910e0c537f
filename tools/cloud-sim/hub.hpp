#pragma once
// The simulated EnOS IoT Hub: request validation, sub-device sessions, fault injection and the
// reply and record text. No I/O, no clock, no MQTT: main.cpp feeds it topics and payloads.
// hub.cpp holds the envelope, faults and replies; hub_batch.cpp the post/resume batches;
// hub_sessions.cpp login and logout; thing_model.cpp the value checks.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fieldgate/enos/topics.hpp"
#include "thing_model.hpp"

namespace Json {
class CharReader;
class StreamWriter;
class Value;
}  // namespace Json

namespace fieldgate::cloudsim {

struct SubDevice {
    std::string name;  ///< the [device.NAME] section, for messages
    std::string product_key;
    std::string device_key;
    std::string device_secret;
};

/// Fault injection; everything off by default. Faults apply to batch requests (post and resume)
/// only, counted together from 1 in arrival order; session requests are never faulted.
struct Faults {
    int reply_code = 0;              ///< forced on every `every`-th batch request; nothing recorded
    std::uint64_t every = 0;         ///< 0: never
    std::uint64_t drop_replies = 0;  ///< the first N batch requests are processed but get no reply
};

struct HubConfig {
    std::string product_key;  ///< the gateway's
    std::string device_key;
    std::string device_secret;
    std::map<std::string, ThingModel, std::less<>> products;  ///< by product key
    std::vector<SubDevice> devices;                           ///< bound (topo) to the gateway
    Faults faults;
};

enum class RequestKind { PostBatch, ResumeBatch, Login, LoginBatch, Logout };

/// "post/batch", "resume/batch", "login", "login/batch", "logout": for logs.
std::string_view request_kind_name(RequestKind kind);

/// Reply codes the sim sends (ENOS-PROTOCOL.md).
inline constexpr int kCodeOk = 200;
inline constexpr int kCodeDeviceNotFound = 705;
inline constexpr int kCodeLoginPartial = 723;
inline constexpr int kCodeSignFailed = 742;
inline constexpr int kCodeModelInvalid = 1204;
inline constexpr int kCodeFormat = 1206;
inline constexpr int kCodeNoPermission = 1212;
inline constexpr int kCodePayloadFormat = 1220;
inline constexpr int kCodePayloadEmpty = 1251;
inline constexpr int kCodeMethodMismatch = 1260;
/// Not an EnOS code: the sim could not append the records to its file (the gateway must retry).
inline constexpr int kCodeSimStorageFailed = 500;

/// The `message` of a reply with `code` ("" for 200).
std::string_view code_message(int code);

/// What one request did.
struct Outcome {
    RequestKind kind = RequestKind::PostBatch;
    std::string id;  ///< the request's id; "" when it has none that can be read
    int code = 0;
    std::string detail;           ///< for the log: which record or point failed, and why
    bool send_reply = true;       ///< false when fault injection drops the reply
    bool fault_injected = false;  ///< the code was forced by [faults]
    std::string reply_body;       ///< {"id","code","data","message"}
    std::string records;          ///< JSON lines to append to the records file ("" when none)
    std::uint64_t records_accepted = 0;
    std::uint64_t points_dropped = 0;  ///< invalid points dropped under skipInvalidMeasurepoints
};

/// The hub's state machine. Not thread-safe: one thread calls it.
class Hub {
public:
    explicit Hub(HubConfig config);
    ~Hub();
    Hub(const Hub&) = delete;
    Hub& operator=(const Hub&) = delete;

    /// The five request topics to subscribe to.
    std::vector<std::string> topics() const;
    /// Which request a topic carries; nullopt for a topic that is not one of the five.
    std::optional<RequestKind> kind_of(std::string_view topic) const;
    /// The reply topic of a request kind (its topic + "_reply").
    std::string reply_topic(RequestKind kind) const;

    /// Validates and applies one request. `now_ms` stamps records that omit `time`.
    Outcome handle(RequestKind kind, std::string_view payload, std::int64_t now_ms);

    /// Replaces an outcome's reply with `code` (used when the records could not be stored).
    void override_reply(Outcome& outcome, int code, std::string_view message) const;

    /// Logs every sub-device out (the hub does so when the gateway's connection drops).
    void logout_all() { sessions_.clear(); }
    bool logged_in(std::string_view product_key, std::string_view device_key) const;
    std::size_t sessions() const { return sessions_.size(); }
    const HubConfig& config() const { return config_; }

private:
    struct BatchCheck;
    using DeviceId = std::pair<std::string, std::string>;

    Outcome handle_batch(RequestKind kind, std::string_view payload, const Json::Value& body, std::int64_t now_ms,
                         Outcome out);
    Outcome handle_login(const Json::Value& body, Outcome out);
    Outcome handle_login_batch(const Json::Value& body, Outcome out);
    Outcome handle_logout(const Json::Value& body, Outcome out);
    const SubDevice* find_device(std::string_view product_key, std::string_view device_key) const;
    const ThingModel* find_model(std::string_view product_key) const;
    std::string json_text(const Json::Value& value) const;
    static std::string describe_device(std::string_view product_key, std::string_view device_key);
    void finish(Outcome& out, int code, const Json::Value& data) const;

    HubConfig config_;
    enos::Topics topics_;
    std::map<DeviceId, std::size_t> device_index_;
    std::set<DeviceId> sessions_;
    std::uint64_t batch_requests_ = 0;
    std::unique_ptr<Json::CharReader> reader_;
    std::unique_ptr<Json::StreamWriter> writer_;
};

}  // namespace fieldgate::cloudsim
