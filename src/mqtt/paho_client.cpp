#include "fieldgate/mqtt/paho_client.hpp"

#include <MQTTAsync.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "fieldgate/mqtt/paho_library.hpp"
#include "fieldgate/util/log.hpp"

namespace fieldgate::mqtt {
namespace {

MQTTAsync as_handle(void* h) {
    return static_cast<MQTTAsync>(h);
}

std::string failure_text(MQTTAsync_failureData* f) {
    if (!f) return "unknown failure";
    std::string text = "code " + std::to_string(f->code);
    if (f->message) text += std::string(": ") + f->message;
    return text;
}

int port_of(const std::string& uri) {
    const auto colon = uri.rfind(':');
    if (colon == std::string::npos) return 0;
    return std::atoi(uri.c_str() + colon + 1);
}

}  // namespace

// Paho's C callbacks. Each only copies and posts; nothing throws out of them.
struct PahoClient::Callbacks {
    static void connection_lost(void* ctx, char* cause) noexcept {
        Event e;
        e.kind = Event::Kind::ConnectionLost;
        e.reason = cause ? cause : "connection lost";
        static_cast<PahoClient*>(ctx)->post(std::move(e));
    }
    static int message_arrived(void* ctx, char* topic, int topic_len, MQTTAsync_message* m) noexcept {
        try {
            Event e;
            e.kind = Event::Kind::Message;
            e.topic = topic_len > 0 ? std::string(topic, static_cast<std::size_t>(topic_len)) : std::string(topic);
            e.payload.assign(static_cast<const char*>(m->payload), static_cast<std::size_t>(m->payloadlen));
            static_cast<PahoClient*>(ctx)->post(std::move(e));
        } catch (...) {
            // out of memory: the reply is lost, and the batch times out and is sent again
        }
        auto* self = static_cast<PahoClient*>(ctx);
        self->lib_->free_message(&m);
        self->lib_->free(topic);
        return 1;
    }
    static void connected(void* ctx, MQTTAsync_successData*) noexcept {
        static_cast<PahoClient*>(ctx)->post(Event{Event::Kind::Connected, {}, {}, {}, 0});
    }
    static void connect_failed(void* ctx, MQTTAsync_failureData* f) noexcept {
        try {
            static_cast<PahoClient*>(ctx)->post(
                Event{Event::Kind::ConnectFailed, {}, {}, failure_text(f), f ? f->code : -1});
        } catch (...) {
        }
    }
    static void subscribed(void* ctx, MQTTAsync_successData*) noexcept {
        static_cast<PahoClient*>(ctx)->post(Event{Event::Kind::Subscribed, {}, {}, {}, 0});
    }
    static void subscribe_failed(void* ctx, MQTTAsync_failureData* f) noexcept {
        try {
            static_cast<PahoClient*>(ctx)->post(Event{Event::Kind::SubscribeFailed, {}, {}, failure_text(f), 0});
        } catch (...) {
        }
    }
    static void publish_failed(void* ctx, MQTTAsync_failureData* f) noexcept {
        try {
            static_cast<PahoClient*>(ctx)->post(Event{Event::Kind::PublishFailed, {}, {}, failure_text(f), 0});
        } catch (...) {
        }
    }
};

PahoClient::PahoClient(std::string uri)
    : uri_(std::move(uri)), port_(port_of(uri_)), lib_(&PahoLibrary::get(uri_.rfind("ssl://", 0) == 0)) {
    event_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (event_fd_ < 0) throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
}

PahoClient::~PahoClient() {
    destroy_handle();
    if (event_fd_ >= 0) close(event_fd_);
}

void PahoClient::destroy_handle() noexcept {
    if (!handle_) return;
    MQTTAsync h = as_handle(handle_);
    if (lib_->is_connected(h)) {
        MQTTAsync_disconnectOptions opts = MQTTAsync_disconnectOptions_initializer;
        opts.timeout = 1000;
        lib_->disconnect(h, &opts);
    }
    lib_->destroy(&h);
    handle_ = nullptr;
    std::lock_guard<std::mutex> lock(mutex_);
    events_.clear();  // anything the old handle said no longer applies
}

void PahoClient::post(Event event) noexcept {
    try {
        std::lock_guard<std::mutex> lock(mutex_);
        events_.push_back(std::move(event));
    } catch (...) {
        return;
    }
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto n = write(event_fd_, &one, sizeof one);
}

std::vector<Event> PahoClient::drain_events() {
    std::uint64_t count = 0;
    [[maybe_unused]] const auto n = read(event_fd_, &count, sizeof count);
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<Event> out(std::make_move_iterator(events_.begin()), std::make_move_iterator(events_.end()));
    events_.clear();
    return out;
}

bool PahoClient::connect(const ConnectOptions& options) {
    destroy_handle();
    MQTTAsync_createOptions create = MQTTAsync_createOptions_initializer;
    create.MQTTVersion = MQTTVERSION_3_1_1;
    create.sendWhileDisconnected = 0;
    MQTTAsync h = nullptr;
    int rc = lib_->create_with_options(&h, uri_.c_str(), options.client_id.c_str(), MQTTCLIENT_PERSISTENCE_NONE,
                                       nullptr, &create);
    if (rc != MQTTASYNC_SUCCESS) {
        util::log_error("mqtt " + uri_ + ": cannot create client: " + lib_->strerror(rc));
        return false;
    }
    handle_ = h;
    rc = lib_->set_callbacks(h, this, &Callbacks::connection_lost, &Callbacks::message_arrived, nullptr);
    if (rc != MQTTASYNC_SUCCESS) {
        util::log_error("mqtt " + uri_ + ": cannot set callbacks: " + lib_->strerror(rc));
        return false;
    }

    MQTTAsync_connectOptions opts = MQTTAsync_connectOptions_initializer;
    opts.MQTTVersion = MQTTVERSION_3_1_1;  // EnOS speaks 3.1.1 only: never let Paho fall back to 3.1
    opts.keepAliveInterval = static_cast<int>(options.keepalive_ms / 1000);
    opts.cleansession = 1;
    opts.connectTimeout = static_cast<int>(std::max<std::int64_t>(1, options.connect_timeout_ms / 1000));
    opts.automaticReconnect = 0;  // the uplink reconnects itself, with a fresh sign and throttle-aware back-off
    opts.username = options.username.c_str();
    opts.password = options.password.c_str();
    opts.onSuccess = &Callbacks::connected;
    opts.onFailure = &Callbacks::connect_failed;
    opts.context = this;

    MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
    if (uri_.rfind("ssl://", 0) == 0) {
        ssl.trustStore = options.ca_file.empty() ? nullptr : options.ca_file.c_str();
        ssl.keyStore = options.cert_file.empty() ? nullptr : options.cert_file.c_str();
        ssl.privateKey = options.key_file.empty() ? nullptr : options.key_file.c_str();
        ssl.enableServerCertAuth = 1;
        ssl.verify = 1;  // check the host name too
        opts.ssl = &ssl;
    }
    rc = lib_->connect(h, &opts);
    if (rc != MQTTASYNC_SUCCESS) {
        util::log_error("mqtt " + uri_ + ": cannot start connecting: " + lib_->strerror(rc));
        return false;
    }
    return true;
}

void PahoClient::set_nodelay() noexcept {
    // Paho 1.3.11 leaves Nagle on and offers no option (paho.mqtt.c #530): a small request then
    // waits ~90 ms for the broker's delayed ACK (measured, ENOS-PROTOCOL.md). Find our socket to
    // the broker's port and set TCP_NODELAY on it.
    DIR* dir = opendir("/proc/self/fd");
    if (!dir) return;
    while (dirent* entry = readdir(dir)) {
        char* end = nullptr;
        const long fd = std::strtol(entry->d_name, &end, 10);
        if (end == entry->d_name || *end != '\0' || fd == dirfd(dir)) continue;
        sockaddr_storage peer{};
        socklen_t len = sizeof peer;
        if (getpeername(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&peer), &len) != 0) continue;
        int peer_port = 0;
        if (peer.ss_family == AF_INET)
            peer_port = ntohs(reinterpret_cast<sockaddr_in*>(&peer)->sin_port);
        else if (peer.ss_family == AF_INET6)
            peer_port = ntohs(reinterpret_cast<sockaddr_in6*>(&peer)->sin6_port);
        if (peer_port != port_) continue;
        const int one = 1;
        setsockopt(static_cast<int>(fd), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    closedir(dir);
}

bool PahoClient::subscribe(const std::vector<std::string>& topics) {
    if (!handle_ || topics.empty()) return false;
    set_nodelay();  // subscribe follows every CONNACK: the socket is fresh
    std::vector<char*> names;
    std::vector<int> qos(topics.size(), 1);
    names.reserve(topics.size());
    for (const auto& t : topics)
        names.push_back(const_cast<char*>(t.c_str()));
    MQTTAsync_responseOptions ropts = MQTTAsync_responseOptions_initializer;
    ropts.onSuccess = &Callbacks::subscribed;
    ropts.onFailure = &Callbacks::subscribe_failed;
    ropts.context = this;
    const int rc =
        lib_->subscribe_many(as_handle(handle_), static_cast<int>(names.size()), names.data(), qos.data(), &ropts);
    return rc == MQTTASYNC_SUCCESS;
}

bool PahoClient::publish(const std::string& topic, const std::string& payload) {
    if (!handle_) return false;
    MQTTAsync_message msg = MQTTAsync_message_initializer;
    msg.payload = const_cast<char*>(payload.data());
    msg.payloadlen = static_cast<int>(payload.size());
    msg.qos = 1;
    msg.retained = 0;
    MQTTAsync_responseOptions ropts = MQTTAsync_responseOptions_initializer;
    ropts.onFailure = &Callbacks::publish_failed;
    ropts.context = this;
    return lib_->send_message(as_handle(handle_), topic.c_str(), &msg, &ropts) == MQTTASYNC_SUCCESS;
}

void PahoClient::disconnect() {
    destroy_handle();
}

}  // namespace fieldgate::mqtt
