#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace fieldgate::mqtt {

struct ConnectOptions {
    std::string client_id;
    std::string username;
    std::string password;
    std::int64_t keepalive_ms = 60'000;
    std::int64_t connect_timeout_ms = 30'000;
    std::string ca_file;  ///< ssl:// only
    std::string cert_file;
    std::string key_file;
};

/// What the client reports. Delivered on the owner's thread (see PahoClient::drain_events),
/// never from inside a library callback.
struct Event {
    /// Published: the broker acknowledged a publish (PUBACK). PahoClient paces its publishes by it
    /// and does not hand it out.
    enum class Kind {
        Connected,
        ConnectFailed,
        ConnectionLost,
        Subscribed,
        SubscribeFailed,
        PublishFailed,
        Published,
        Message
    };
    Kind kind = Kind::Connected;
    std::string topic;    ///< Message
    std::string payload;  ///< Message
    std::string reason;   ///< failures: what the library said
    /// ConnectFailed: > 0 is the broker's CONNACK refusal (the hub saw the attempt); <= 0 the
    /// connection never got that far (no route, refused, TLS).
    int code = 0;
    /// ConnectFailed: the server took part (TCP connected and the TLS handshake or the CONNECT
    /// failed there): the hub may count the attempt against its limit.
    bool reached_server = false;
    /// The connection (one Paho handle per connect()) that produced it. A client delivers only
    /// its current connection's events: what a replaced handle says late is dropped.
    std::uint64_t handle = 0;
};

/// The MQTT seam the uplink speaks to; a fake implements it in unit tests.
class Client {
public:
    virtual ~Client() = default;
    /// Starts connecting (MQTT 3.1.1, clean session); the outcome arrives as an event.
    /// Returns false when the attempt could not even be started.
    virtual bool connect(const ConnectOptions& options) = 0;
    /// Subscribes at QoS 1; the outcome arrives as an event.
    virtual bool subscribe(const std::vector<std::string>& topics) = 0;
    /// Queues a QoS 1 publish; false when the library refused it at once (not connected,
    /// buffer full). A failure later arrives as PublishFailed. Publishes go out in order.
    virtual bool publish(const std::string& topic, const std::string& payload) = 0;
    /// Disconnects (the outcome is not reported).
    virtual void disconnect() = 0;
};

}  // namespace fieldgate::mqtt
