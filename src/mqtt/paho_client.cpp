#include "fieldgate/mqtt/paho_client.hpp"

#include <MQTTAsync.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "fieldgate/mqtt/paho_library.hpp"
#include "fieldgate/mqtt/tls_probe.hpp"
#include "fieldgate/util/log.hpp"
#include "fieldgate/util/mapped_pages.hpp"
#include "fieldgate/util/net.hpp"
#include "fieldgate/util/openssl_library.hpp"

namespace fieldgate::mqtt {
namespace {

// How long the TLS probe may take to name why a handshake failed.
constexpr int kProbeTimeoutMs = 4000;

MQTTAsync as_handle(void* h) {
    return static_cast<MQTTAsync>(h);
}

int make_eventfd() {
    const int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd < 0) throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
    return fd;
}

void wake(int fd) noexcept {
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto n = write(fd, &one, sizeof one);
}

// Writes "code N: message" into the event's reason without allocating.
void describe(RawEvent& e, MQTTAsync_failureData* f) noexcept {
    if (!f) {
        e.set_reason("unknown failure");
        return;
    }
    std::snprintf(e.reason, sizeof e.reason, "code %d%s%s", f->code, f->message ? ": " : "",
                  f->message ? f->message : "");
}

// How many publishes Paho holds for `h`, as MQTTAsync_getPendingTokens() counts them: commands
// not yet started and messages awaiting their acknowledgement. -1 when Paho cannot say.
int pending_publishes(const PahoLibrary& lib, MQTTAsync h) noexcept {
    MQTTAsync_token* tokens = nullptr;
    if (lib.get_pending_tokens(h, &tokens) != MQTTASYNC_SUCCESS) return -1;
    int n = 0;
    if (tokens) {
        while (tokens[n] != -1)
            ++n;
        lib.free(tokens);
    }
    return n;
}

}  // namespace

// Paho's C callbacks: each fills a RawEvent on the stack and pushes it into the fixed ring.
// Nothing in them allocates or throws.
struct PahoClient::Callbacks {
    static void post(void* ctx, Event::Kind kind, int code, MQTTAsync_failureData* f) noexcept {
        auto* tag = static_cast<Tag*>(ctx);
        RawEvent e;
        e.kind = kind;
        e.code = code;
        e.generation = tag->generation;
        if (f) describe(e, f);
        tag->owner->post(e);
    }
    static void connection_lost(void* ctx, char* cause) noexcept {
        auto* tag = static_cast<Tag*>(ctx);
        RawEvent e;
        e.kind = Event::Kind::ConnectionLost;
        e.generation = tag->generation;
        e.set_reason(cause ? cause : "connection lost");
        tag->owner->post(e);
    }
    static int message_arrived(void* ctx, char* topic, int topic_len, MQTTAsync_message* m) noexcept {
        auto* tag = static_cast<Tag*>(ctx);
        RawEvent e;
        e.kind = Event::Kind::Message;
        e.generation = tag->generation;
        e.topic = topic;
        e.topic_len = topic_len;
        e.message = m;
        // A full ring: return 0 and Paho offers the message again later; the topic and the
        // message stay Paho's until then.
        if (!tag->owner->ring_.push(e)) return 0;
        wake(tag->owner->event_fd_.get());
        return 1;
    }
    static void connected(void* ctx, MQTTAsync_successData*) noexcept { post(ctx, Event::Kind::Connected, 0, nullptr); }
    static void connect_failed(void* ctx, MQTTAsync_failureData* f) noexcept {
        post(ctx, Event::Kind::ConnectFailed, f ? f->code : -1, f);
    }
    static void subscribed(void* ctx, MQTTAsync_successData*) noexcept {
        post(ctx, Event::Kind::Subscribed, 0, nullptr);
    }
    static void subscribe_failed(void* ctx, MQTTAsync_failureData* f) noexcept {
        post(ctx, Event::Kind::SubscribeFailed, 0, f);
    }
    static void publish_failed(void* ctx, MQTTAsync_failureData* f) noexcept {
        post(ctx, Event::Kind::PublishFailed, 0, f);
    }
    static void published(void* ctx, MQTTAsync_successData*) noexcept { post(ctx, Event::Kind::Published, 0, nullptr); }
};

PahoClient::Fd::~Fd() {
    if (fd_ >= 0) ::close(fd_);
}

// Paho 1.3.12 (Debian 12) leaks in MQTTAsync_destroy: MQTTAsync_NULLPublishCommands() clears the
// topic and payload pointers of every PUBLISH still queued for the handle, also of those never
// started (never handed to the protocol code, which would own them then), and
// MQTTAsync_freeCommands() then frees the command without them (eclipse-paho/paho.mqtt.c#1474,
// fixed upstream after 1.3.13). Nothing in the API frees or cancels a queued command, and the
// function is not exported (it cannot be replaced). Paho starts a queued PUBLISH only while the
// connection is up and nothing of an earlier packet waits to be written (processCommand checks
// Socket_noPendingWrites), so it is behind a stalled socket that publishes queue up; a publish
// Paho started is the protocol code's and is freed with the session when the connection is lost
// (MQTTAsync_cleanSession). Hence publish() hands Paho the next publish only once the broker
// acknowledged the one before (or it failed): the broker has then read all of it, and Paho
// starts the next at once. The price is a round trip per publish without a following one on the
// wire; the uplink's window still keeps the next batches ready here. tests/soak/paho_destroy_leak.c
// shows the leak with Paho alone (6.3 MB lost with 24 publishes of 256 KiB queued behind a stalled
// socket); tests/integration/test_stalled_drain_loss.py that fieldgated no longer has it.
// Left is one publish per connection loss, when the loss comes between MQTTAsync_sendMessage()
// and Paho's send thread starting that publish: Paho's receive thread meets the end of the stream,
// queues an internal disconnect at the head of the command queue and leaves `connected` set until
// the send thread has run it, so a publish accepted meanwhile stays queued behind it, and the
// session's clean-up takes only what was started. That is the 621 bytes (a topic and a batch of
// about 330 bytes) LeakSanitizer found after some broker flaps (bench/RESULTS.md); with full-size batches it
// is up to batch_max_bytes. It cannot be avoided from here: the publish was accepted while Paho
// said connected, no API cancels it, and only a new CONNECT on the same handle would start it,
// which the client id (it carries the sign's timestamp) rules out. destroy_handle() says when it
// happens. tests/soak/paho_queued_leak.py reproduces it with Paho alone. LeakSanitizer reports such
// a leak only later, as indirect leaks, when the next handle re-initialises Paho's heap tracker
// and orphans its tree.
void PahoClient::HandleDeleter::operator()(void* handle) const noexcept {
    MQTTAsync h = as_handle(handle);
    if (lib->is_connected(h)) {
        MQTTAsync_disconnectOptions opts = MQTTAsync_disconnectOptions_initializer;
        opts.timeout = 1000;
        lib->disconnect(h, &opts);
    }
    lib->destroy(&h);
}

PahoClient::PahoClient(std::string uri)
    : uri_(std::move(uri)),
      tls_(uri_.rfind("ssl://", 0) == 0),
      lib_(&PahoLibrary::get(tls_)),
      event_fd_(make_eventfd()),
      cancel_fd_(make_eventfd()),
      handle_(nullptr, HandleDeleter{lib_}) {
    const auto colon = uri_.rfind(':');
    if (colon != std::string::npos) port_ = static_cast<std::uint16_t>(std::atoi(uri_.c_str() + colon + 1));
}

PahoClient::~PahoClient() {
    stop_probe();
    destroy_handle();
}

void PahoClient::stop_probe() noexcept {
    if (!probe_.joinable()) return;
    wake(cancel_fd_.get());
    probe_.join();
    std::uint64_t count = 0;
    [[maybe_unused]] const auto n = read(cancel_fd_.get(), &count, sizeof count);
}

void PahoClient::destroy_handle() noexcept {
    // From here on, events of this handle are stale: drain_events() drops them.
    ++generation_;
    if (handle_ && publishing_ && !lib_->is_connected(as_handle(handle_.get()))) {
        // The connection is lost and its session cleaned (in-flight messages dropped, their
        // failures reported): what Paho still counts is a publish accepted but never started,
        // whose copy MQTTAsync_destroy loses (see HandleDeleter).
        const int stuck = pending_publishes(*lib_, as_handle(handle_.get()));
        if (stuck > 0) {
            try {
                util::log_notice("mqtt " + uri_ + ": Paho kept " + std::to_string(stuck) +
                                 " publish(es) queued past the connection loss; destroying the client loses its "
                                 "copy (Paho 1.3.12, eclipse-paho/paho.mqtt.c#1474); the uplink sends the records "
                                 "again");
            } catch (...) {
            }
        }
    }
    handle_.reset();
    publishing_ = false;
    waiting_.clear();  // the uplink sends again what was not confirmed
}

void PahoClient::post(const RawEvent& event) noexcept {
    ring_.push(event);  // when full, drain_events() learns it from the ring and says so
    wake(event_fd_.get());
}

std::vector<Event> PahoClient::drain_events() {
    std::uint64_t count = 0;
    [[maybe_unused]] const auto n = read(event_fd_.get(), &count, sizeof count);
    std::vector<RawEvent> current;
    std::vector<RawEvent> stale;
    const std::uint64_t generation = generation_.load();
    const bool lost = ring_.take(generation, current, stale);
    for (auto& e : stale) {
        if (e.kind != Event::Kind::Message) continue;
        auto* m = static_cast<MQTTAsync_message*>(e.message);
        lib_->free_message(&m);
        lib_->free(e.topic);
    }
    std::vector<Event> out;
    out.reserve(current.size() + 1);
    for (auto& raw : current) {
        Event e;
        e.kind = raw.kind;
        e.code = raw.code;
        e.handle = raw.generation;
        if (raw.kind == Event::Kind::Message) {
            auto* m = static_cast<MQTTAsync_message*>(raw.message);
            e.topic = raw.topic_len > 0 ? std::string(raw.topic, static_cast<std::size_t>(raw.topic_len))
                                        : std::string(raw.topic);
            e.payload.assign(static_cast<const char*>(m->payload), static_cast<std::size_t>(m->payloadlen));
            lib_->free_message(&m);
            lib_->free(raw.topic);
        } else {
            e.reason = raw.reason;
        }
        if (e.kind == Event::Kind::Published || e.kind == Event::Kind::PublishFailed) {
            publishing_ = false;  // Paho holds none of ours now: the next may go
            send_waiting();
            if (e.kind == Event::Kind::Published) continue;
        }
        if (e.kind == Event::Kind::ConnectFailed && tls_ && e.code <= 0) {
            // Paho says only "TCP/TLS connect failure": find out why before telling the owner.
            start_probe(generation, e.reason);
            continue;
        }
        if (e.kind == Event::Kind::Connected && tls_) {
            // OpenSSL's set-up and the handshake touched most of libcrypto and libssl; a
            // connection uses about a quarter of those pages (bench/RESULTS.md).
            const std::size_t released = util::release_clean_pages({"libcrypto.so.3", "libssl.so.3"});
            util::log_debug("mqtt " + uri_ + ": released " + std::to_string(released / 1024) +
                            " KiB of OpenSSL's mapped pages");
        }
        out.push_back(std::move(e));
    }
    if (lost) {
        // A state change could not be queued (a callback storm filled the ring): start over.
        Event e;
        e.kind = Event::Kind::ConnectionLost;
        e.reason = "events lost: the client's event queue was full";
        e.handle = generation;
        out.push_back(std::move(e));
    }
    {
        std::lock_guard<std::mutex> lock(probe_mutex_);
        if (probe_done_ && probe_generation_ == generation) {
            Event e;
            e.kind = Event::Kind::ConnectFailed;
            e.code = -1;
            e.reason = std::move(probe_reason_);
            e.reached_server = tls_failure_reached_server(e.reason);
            e.handle = generation;
            out.push_back(std::move(e));
        }
        probe_done_ = false;
    }
    return out;
}

void PahoClient::start_probe(std::uint64_t generation, std::string paho_reason) {
    stop_probe();
    TlsTarget target;
    if (!parse_tls_uri(uri_, target.host, target.port)) target.host = uri_;
    target.ca_file = options_.ca_file;
    target.cert_file = options_.cert_file;
    target.key_file = options_.key_file;
    {
        std::lock_guard<std::mutex> lock(probe_mutex_);
        probe_done_ = false;
    }
    probe_ = std::thread([this, target, generation, paho_reason = std::move(paho_reason)]() noexcept {
        std::string reason;
        try {
            reason = diagnose_tls(target, kProbeTimeoutMs, cancel_fd_.get());
            if (reason.empty()) reason = paho_reason + " (a second TLS handshake succeeded)";
            std::lock_guard<std::mutex> lock(probe_mutex_);
            probe_reason_ = std::move(reason);
            probe_generation_ = generation;
            probe_done_ = true;
        } catch (...) {
            return;  // out of memory: the uplink's connect deadline ends the attempt
        }
        wake(event_fd_.get());
    });
}

bool PahoClient::connect(const ConnectOptions& options) {
    stop_probe();
    destroy_handle();
    options_ = options;
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
    handle_.reset(h);
    Tag* tag = tag_for_current();
    tag->owner = this;
    tag->generation = generation_.load();
    rc = lib_->set_callbacks(h, tag, &Callbacks::connection_lost, &Callbacks::message_arrived, nullptr);
    if (rc != MQTTASYNC_SUCCESS) {
        util::log_error("mqtt " + uri_ + ": cannot set callbacks: " + lib_->strerror(rc));
        return false;
    }

    MQTTAsync_connectOptions opts = MQTTAsync_connectOptions_initializer;
    opts.MQTTVersion = MQTTVERSION_3_1_1;  // EnOS speaks 3.1.1 only: never let Paho fall back to 3.1
    opts.keepAliveInterval = static_cast<int>(options.keepalive_ms / 1000);
    opts.cleansession = 1;
    // The uplink keeps a deadline of its own (connect_timeout); Paho's is a backstop behind it.
    opts.connectTimeout = static_cast<int>(std::max<std::int64_t>(1, options.connect_timeout_ms / 1000 + 1));
    opts.automaticReconnect = 0;  // the uplink reconnects itself, with a fresh sign and throttle-aware back-off
    opts.username = options.username.c_str();
    opts.password = options.password.c_str();
    opts.onSuccess = &Callbacks::connected;
    opts.onFailure = &Callbacks::connect_failed;
    opts.context = tag;

    // DESIGN.md "TLS": the server's certificate against ca_file or the system store, its name
    // or IP against the URI's host, TLS 1.2 or newer; nothing here can turn a check off.
    MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
    if (tls_) {
        ssl.trustStore = options.ca_file.empty() ? util::kSystemCaFile : options.ca_file.c_str();
        ssl.disableDefaultTrustStore = 1;  // only the CAs named above
        ssl.keyStore = options.cert_file.empty() ? nullptr : options.cert_file.c_str();
        ssl.privateKey = options.key_file.empty() ? nullptr : options.key_file.c_str();
        ssl.enableServerCertAuth = 1;
        ssl.verify = 1;                             // the host name (or IP) too
        ssl.sslVersion = MQTT_SSL_VERSION_TLS_1_2;  // the lowest allowed; 1.3 is negotiated when offered
        opts.ssl = &ssl;
    }
    rc = lib_->connect(h, &opts);
    if (rc != MQTTASYNC_SUCCESS) {
        util::log_error("mqtt " + uri_ + ": cannot start connecting: " + lib_->strerror(rc));
        return false;
    }
    return true;
}

bool PahoClient::subscribe(const std::vector<std::string>& topics) {
    if (!handle_ || topics.empty()) return false;
    util::set_tcp_nodelay_to_port(port_);  // subscribe follows every CONNACK: the socket is fresh
    std::vector<char*> names;
    std::vector<int> qos(topics.size(), 1);
    names.reserve(topics.size());
    for (const auto& t : topics)
        names.push_back(const_cast<char*>(t.c_str()));
    MQTTAsync_responseOptions ropts = MQTTAsync_responseOptions_initializer;
    ropts.onSuccess = &Callbacks::subscribed;
    ropts.onFailure = &Callbacks::subscribe_failed;
    ropts.context = tag_for_current();
    const int rc = lib_->subscribe_many(as_handle(handle_.get()), static_cast<int>(names.size()), names.data(),
                                        qos.data(), &ropts);
    return rc == MQTTASYNC_SUCCESS;
}

bool PahoClient::publish(const std::string& topic, const std::string& payload) {
    if (!handle_) return false;
    if (publishing_) {
        // Paho must not queue it behind a write that may stall (see HandleDeleter): it waits
        // here for the broker's acknowledgement of the one before.
        if (!lib_->is_connected(as_handle(handle_.get()))) return false;  // as Paho would answer
        waiting_.push_back(Publish{topic, payload});
        return true;
    }
    return hand_to_paho(topic, payload);
}

bool PahoClient::hand_to_paho(const std::string& topic, const std::string& payload) {
    MQTTAsync_message msg = MQTTAsync_message_initializer;
    msg.payload = const_cast<char*>(payload.data());
    msg.payloadlen = static_cast<int>(payload.size());
    msg.qos = 1;
    msg.retained = 0;
    MQTTAsync_responseOptions ropts = MQTTAsync_responseOptions_initializer;
    ropts.onSuccess = &Callbacks::published;
    ropts.onFailure = &Callbacks::publish_failed;
    ropts.context = tag_for_current();
    publishing_ = lib_->send_message(as_handle(handle_.get()), topic.c_str(), &msg, &ropts) == MQTTASYNC_SUCCESS;
    return publishing_;
}

void PahoClient::send_waiting() {
    while (!publishing_ && !waiting_.empty() && handle_) {
        Publish next = std::move(waiting_.front());
        waiting_.pop_front();
        if (!hand_to_paho(next.topic, next.payload)) {
            // Refused: the connection is going (its loss follows) or gone. What waits is dropped;
            // the uplink sends again what the cloud did not confirm.
            util::log_debug("mqtt " + uri_ + ": " + std::to_string(waiting_.size() + 1) +
                            " publishes dropped: the client refused them");
            waiting_.clear();
        }
    }
}

void PahoClient::disconnect() {
    stop_probe();
    destroy_handle();
}

}  // namespace fieldgate::mqtt
