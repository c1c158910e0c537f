#include "mqtt_link.hpp"

#include <cstdlib>
#include <memory>
#include <stdexcept>

#include "fieldgate/util/net.hpp"

namespace fieldgate::cloudsim {
namespace {

// MQTT 3.1.1 SUBACK return code for a refused subscription.
constexpr int kSubscribeRefused = 0x80;

std::string failure_text(const MQTTAsync_failureData* response) {
    if (response == nullptr) return "unknown cause";
    std::string text = MQTTAsync_strerror(response->code);
    if (response->message != nullptr) text += std::string(": ") + response->message;
    return text;
}

}  // namespace

MqttLink::MqttLink(const std::string& broker_uri, const std::string& client_id, EventQueue& events) : events_(events) {
    const int rc =
        MQTTAsync_create(&client_, broker_uri.c_str(), client_id.c_str(), MQTTCLIENT_PERSISTENCE_NONE, nullptr);
    if (rc != MQTTASYNC_SUCCESS) {
        throw std::runtime_error("cannot create an MQTT client for " + broker_uri + ": " + MQTTAsync_strerror(rc));
    }
    const int cb = MQTTAsync_setCallbacks(client_, this, &MqttLink::on_connection_lost, &MqttLink::on_message, nullptr);
    if (cb != MQTTASYNC_SUCCESS) {
        MQTTAsync_destroy(&client_);
        throw std::runtime_error(std::string("cannot set the MQTT callbacks: ") + MQTTAsync_strerror(cb));
    }
}

MqttLink::~MqttLink() {
    if (client_ != nullptr) MQTTAsync_destroy(&client_);
}

bool MqttLink::connect(int timeout_s) {
    MQTTAsync_connectOptions opts = MQTTAsync_connectOptions_initializer;
    opts.MQTTVersion = MQTTVERSION_3_1_1;  // explicitly: no silent fallback to 3.1
    opts.cleansession = 1;
    opts.keepAliveInterval = 60;
    opts.connectTimeout = timeout_s;
    opts.automaticReconnect = 0;  // the main loop reconnects, and resubscribes, itself
    opts.onSuccess = &MqttLink::on_connect_success;
    opts.onFailure = &MqttLink::on_connect_failure;
    opts.context = this;
    return MQTTAsync_connect(client_, &opts) == MQTTASYNC_SUCCESS;
}

bool MqttLink::subscribe(const std::vector<std::string>& topics) {
    std::vector<char*> names;
    std::vector<int> qos(topics.size(), 1);
    subscription_count_.store(static_cast<int>(topics.size()));
    names.reserve(topics.size());
    for (const auto& t : topics)
        names.push_back(const_cast<char*>(t.c_str()));  // Paho's API is not const-correct
    MQTTAsync_responseOptions opts = MQTTAsync_responseOptions_initializer;
    opts.onSuccess = &MqttLink::on_subscribe_success;
    opts.onFailure = &MqttLink::on_subscribe_failure;
    opts.context = this;
    return MQTTAsync_subscribeMany(client_, static_cast<int>(names.size()), names.data(), qos.data(), &opts) ==
           MQTTASYNC_SUCCESS;
}

bool MqttLink::publish(const std::string& topic, const std::string& payload) {
    MQTTAsync_responseOptions opts = MQTTAsync_responseOptions_initializer;
    return MQTTAsync_send(client_, topic.c_str(), static_cast<int>(payload.size()), payload.data(), 1, 0, &opts) ==
           MQTTASYNC_SUCCESS;
}

bool MqttLink::disconnect(int timeout_ms) {
    MQTTAsync_disconnectOptions opts = MQTTAsync_disconnectOptions_initializer;
    opts.timeout = timeout_ms;
    opts.onSuccess = &MqttLink::on_disconnect_success;
    opts.onFailure = &MqttLink::on_disconnect_failure;
    opts.context = this;
    return MQTTAsync_disconnect(client_, &opts) == MQTTASYNC_SUCCESS;
}

int MqttLink::set_tcp_nodelay(std::uint16_t broker_port) const {
    return util::set_tcp_nodelay_to_port(broker_port);
}

void MqttLink::post(Event::Type type, const char* text, int code) noexcept {
    try {
        Event e;
        e.type = type;
        if (text != nullptr) e.text = text;
        e.code = code;
        events_.push(std::move(e));
    } catch (...) {
        // Out of memory inside a Paho thread: nothing sensible is left to do with the event.
    }
}

void MqttLink::post_failure(Event::Type type, const MQTTAsync_failureData* response) noexcept {
    try {
        post(type, failure_text(response).c_str(), response != nullptr ? response->code : 0);
    } catch (...) {
    }
}

int MqttLink::on_message(void* context, char* topic, int topic_len, MQTTAsync_message* message) noexcept {
    auto* self = static_cast<MqttLink*>(context);
    try {
        Event e;
        e.type = Event::Type::Message;
        // topic_len is 0 when the topic is NUL-terminated (Paho's convention).
        e.topic = topic_len > 0 ? std::string(topic, static_cast<std::size_t>(topic_len)) : std::string(topic);
        e.payload.assign(static_cast<const char*>(message->payload), static_cast<std::size_t>(message->payloadlen));
        self->events_.push(std::move(e));
    } catch (...) {
        // Dropped: the gateway sees no reply and retries, as after any lost message.
    }
    MQTTAsync_freeMessage(&message);
    MQTTAsync_free(topic);
    return 1;
}

void MqttLink::on_connection_lost(void* context, char* cause) noexcept {
    static_cast<MqttLink*>(context)->post(Event::Type::ConnectionLost, cause != nullptr ? cause : "connection closed");
}

void MqttLink::on_connect_success(void* context, MQTTAsync_successData* /*response*/) noexcept {
    static_cast<MqttLink*>(context)->post(Event::Type::Connected);
}

void MqttLink::on_connect_failure(void* context, MQTTAsync_failureData* response) noexcept {
    static_cast<MqttLink*>(context)->post_failure(Event::Type::ConnectFailed, response);
}

void MqttLink::on_subscribe_success(void* context, MQTTAsync_successData* response) noexcept {
    auto* self = static_cast<MqttLink*>(context);
    // With several topics Paho fills qosList (one entry per topic); a granted QoS 0x80 is a refusal.
    const int count = self->subscription_count_.load();
    bool refused = false;
    if (response != nullptr) {
        if (count == 1) {
            refused = response->alt.qos == kSubscribeRefused;
        } else if (response->alt.qosList != nullptr) {
            for (int i = 0; i < count; ++i)
                refused = refused || response->alt.qosList[i] == kSubscribeRefused;
        }
    }
    if (refused) {
        self->post(Event::Type::SubscribeFailed, "the broker refused a subscription");
    } else {
        self->post(Event::Type::Subscribed);
    }
}

void MqttLink::on_subscribe_failure(void* context, MQTTAsync_failureData* response) noexcept {
    static_cast<MqttLink*>(context)->post_failure(Event::Type::SubscribeFailed, response);
}

void MqttLink::on_disconnect_success(void* context, MQTTAsync_successData* /*response*/) noexcept {
    static_cast<MqttLink*>(context)->post(Event::Type::Disconnected);
}

void MqttLink::on_disconnect_failure(void* context, MQTTAsync_failureData* /*response*/) noexcept {
    static_cast<MqttLink*>(context)->post(Event::Type::Disconnected);
}

}  // namespace fieldgate::cloudsim
