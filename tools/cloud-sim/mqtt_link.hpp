#pragma once
// The sim's MQTT 3.1.1 connection (Paho C MQTTAsync). Every callback becomes an Event on the
// queue; the main thread decides what to do. Non-copyable RAII over the Paho handle.
#include <MQTTAsync.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "event_queue.hpp"

namespace fieldgate::cloudsim {

class MqttLink {
public:
    /// Creates the client (no I/O yet). Throws std::runtime_error when Paho refuses the URI.
    MqttLink(const std::string& broker_uri, const std::string& client_id, EventQueue& events);
    ~MqttLink();
    MqttLink(const MqttLink&) = delete;
    MqttLink& operator=(const MqttLink&) = delete;

    /// Starts one connection attempt (clean session, MQTT 3.1.1); Connected or ConnectFailed follows.
    /// Returns false (and posts nothing) when Paho refuses to start it.
    bool connect(int timeout_s);
    /// Subscribes to every topic at QoS 1; Subscribed or SubscribeFailed follows.
    bool subscribe(const std::vector<std::string>& topics);
    /// Publishes at QoS 1 (non-blocking). False when the client is not connected.
    bool publish(const std::string& topic, const std::string& payload);
    /// Starts a clean disconnect; Disconnected follows, unless this returns false (not connected).
    bool disconnect(int timeout_ms);

    /// Paho 1.3.11 leaves Nagle on and has no option for TCP_NODELAY (ENOS-PROTOCOL.md: ~90 ms per
    /// small reply on loopback instead of 0.4 ms). Sets it on this process's TCP sockets whose
    /// peer is the broker's port: the only such socket is Paho's. Returns how many were set.
    int set_tcp_nodelay(std::uint16_t broker_port) const;

private:
    static int on_message(void* context, char* topic, int topic_len, MQTTAsync_message* message) noexcept;
    static void on_connection_lost(void* context, char* cause) noexcept;
    static void on_connect_success(void* context, MQTTAsync_successData* response) noexcept;
    static void on_connect_failure(void* context, MQTTAsync_failureData* response) noexcept;
    static void on_subscribe_success(void* context, MQTTAsync_successData* response) noexcept;
    static void on_subscribe_failure(void* context, MQTTAsync_failureData* response) noexcept;
    static void on_disconnect_success(void* context, MQTTAsync_successData* response) noexcept;
    static void on_disconnect_failure(void* context, MQTTAsync_failureData* response) noexcept;
    void post(Event::Type type, const char* text = nullptr, int code = 0) noexcept;
    void post_failure(Event::Type type, const MQTTAsync_failureData* response) noexcept;

    MQTTAsync client_ = nullptr;
    std::atomic<int> subscription_count_{0};  // read by Paho's thread in on_subscribe_success
    EventQueue& events_;
};

}  // namespace fieldgate::cloudsim
