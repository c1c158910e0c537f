// The uplink's connection state machine: connect (within the hub's throttle), subscribe, ready;
// failures and losses, and the events of the MQTT client that drive it.
#include <algorithm>
#include <string>
#include <string_view>

#include "fieldgate/enos/sign.hpp"
#include "fieldgate/uplink/uplink.hpp"
#include "fieldgate/util/log.hpp"

namespace fieldgate::uplink {
namespace {

// EnOS blocks a client for 5 minutes after 4 connection attempts within 2 minutes.
constexpr std::int64_t kThrottleWindowMs = 120'000;
constexpr std::size_t kThrottleMaxAttempts = 3;

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

void Uplink::connect_now() {
    const std::int64_t now = clock_.mono_ms();
    while (!hub_attempts_mono_.empty() && now - hub_attempts_mono_.front() >= kThrottleWindowMs)
        hub_attempts_mono_.pop_front();
    if (hub_attempts_mono_.size() >= kThrottleMaxAttempts) {
        // One more CONNECT now would get the gateway blocked for 5 minutes: wait it out.
        state_ = State::Waiting;
        reconnect_at_mono_ = hub_attempts_mono_.front() + kThrottleWindowMs + 1000;
        util::log_notice("uplink: holding the next connection attempt for " +
                         std::to_string((reconnect_at_mono_ - now) / 1000) +
                         " s to stay under the hub's limit of 4 attempts in 2 minutes");
        return;
    }
    mqtt::ConnectOptions opts;
    const auto creds =
        enos::connect_credentials(settings_.product_key, settings_.device_key, settings_.secret, clock_.wall_ms());
    opts.client_id = creds.client_id;
    opts.username = creds.username;
    opts.password = creds.password;
    opts.keepalive_ms = settings_.mqtt.keepalive_ms;
    opts.ca_file = settings_.mqtt.ca_file;
    opts.cert_file = settings_.mqtt.cert_file;
    opts.key_file = settings_.mqtt.key_file;
    opts.connect_timeout_ms = settings_.mqtt.connect_timeout_ms;
    ++stats_.connect_attempts;
    if (client_.connect(opts)) {
        state_ = State::Connecting;
        deadline_mono_ = now + settings_.mqtt.connect_timeout_ms;
    } else {
        schedule_reconnect();
    }
}

// CONNACK codes of MQTT 3.1.1 that refuse the client itself; 3 (server unavailable) is transient.
namespace {
const char* refusal_cause(int code) {
    switch (code) {
        case 1:
            return "the broker refused MQTT 3.1.1";
        case 2:
            return "client id rejected: check [gateway] product_key and device_key";
        case 4:
            return "bad user name or password: check [gateway] product_key, device_key and the device secret";
        case 5:
            return "not authorised: the gateway may be disabled, not activated, or its product_key, device_key or "
                   "secret wrong";
        default:
            return nullptr;
    }
}
}  // namespace

void Uplink::connect_failed(const std::string& reason, bool hub_saw_it, int connack_code) {
    const std::int64_t now = clock_.mono_ms();
    if (hub_saw_it) hub_attempts_mono_.push_back(now);
    ++failed_connects_;
    const char* cause = refusal_cause(connack_code);
    refused_ = cause != nullptr;
    std::string text =
        cause ? "the hub refused the gateway (CONNACK " + std::to_string(connack_code) + ", " + cause + ")" : reason;
    // A week-long outage must not fill the journal: the first failure, then one line per ten
    // minutes with the count, and whenever the reason changes.
    const bool changed = text != last_connect_error_;
    const bool due = connect_log_.allow(now);  // asked every time, so a new cause starts the interval
    if (changed || due) {
        const std::string line =
            "uplink: cannot connect to " + settings_.mqtt.uri + ": " + text +
            (failed_connects_ > 1 ? " (" + std::to_string(failed_connects_) + " attempts failed)" : std::string());
        if (refused_)
            util::log_error(line);
        else
            util::log_warning(line);
        last_connect_error_ = text;
    }
    last_error_ = std::move(text);
    client_.disconnect();
    schedule_reconnect();
}

void Uplink::schedule_reconnect() {
    state_ = State::Waiting;
    reconnect_at_mono_ = clock_.mono_ms() + reconnect_backoff_.next_ms();
}

void Uplink::connection_down(const std::string& why) {
    const bool was_up = state_ == State::Ready || state_ == State::Subscribing;
    last_error_ = why;
    if (was_up || !inflight_.empty()) {
        util::log_warning("uplink: connection lost (" + why + "); " + std::to_string(inflight_.size()) +
                          " batches in flight will be sent again");
    }
    // Everything not confirmed is still in the store: after the next CONNACK the cursors start
    // over from the oldest record, so nothing held in memory here is needed any more.
    stats_.retries += inflight_.size();
    inflight_.clear();
    retry_.clear();
    held_.clear();
    unbound_.clear();
    pending_logins_.clear();
    sessions_.reset();  // the hub logs every sub-device out when the gateway's connection drops
    client_.disconnect();
    schedule_reconnect();
}

std::string describe_store(const store::Record* oldest, std::int64_t last_id, std::int64_t backlog_end,
                           std::int64_t now_wall_ms) {
    if (!oldest) return "the store is empty";
    const std::int64_t age_s = std::max<std::int64_t>(0, now_wall_ms - oldest->time_ms) / 1000;
    std::string text = "buffered: ids " + std::to_string(oldest->id) + ".." + std::to_string(last_id) +
                       ", the oldest taken " + std::to_string(age_s) + " s ago";
    if (oldest->id < backlog_end)
        text += "; ids before " + std::to_string(backlog_end) + " are older than resume_after and go via resume/batch";
    return text;
}

void Uplink::became_ready() {
    state_ = State::Ready;
    reconnect_backoff_.reset();
    failed_connects_ = 0;
    last_connect_error_.clear();
    last_error_.clear();
    refused_ = false;
    const std::int64_t last = store_.last_id();
    const std::int64_t live_from = live_from_id();
    backlog_cursor_ = 0;
    backlog_end_ = live_from;
    live_cursor_ = live_from - 1;
    live_more_ = true;
    sessions_.reset();
    pending_logins_.clear();
    login_backoff_.reset();
    login_retry_at_mono_ = kNever;
    send_logins();  // batch login after every reconnect
    // Say what is really there: ids alone say nothing once records were deleted.
    store::FetchRange first;
    first.max_records = 1;
    std::string held;
    try {
        const auto oldest = store_.fetch(first);
        held = describe_store(oldest.empty() ? nullptr : &oldest.front(), last, backlog_end_, clock_.wall_ms());
        backlog_more_ = !oldest.empty() && oldest.front().id < backlog_end_;
    } catch (const store::StoreError& e) {
        // Unknown, not empty: the backlog cursor stays armed and fill_window() tries again (the
        // fetch loop logs read errors, rate-limited).
        held = "the store cannot be read now: " + std::string(e.what());
        backlog_more_ = true;
    }
    util::log_info("uplink: connected to " + settings_.mqtt.uri + "; " + held);
    fill_window();
}

void Uplink::on_event(const mqtt::Event& event) {
    using Kind = mqtt::Event::Kind;
    switch (event.kind) {
        case Kind::Connected:
            if (state_ != State::Connecting) return;
            hub_attempts_mono_.push_back(clock_.mono_ms());
            ++stats_.connects;
            state_ = State::Subscribing;
            deadline_mono_ = clock_.mono_ms() + settings_.uplink.reply_timeout_ms;
            // Replies reach only a client that subscribed before it published (EnOS SDKs).
            if (!client_.subscribe(subscriptions())) connection_down("subscribe refused");
            return;
        case Kind::ConnectFailed:
            if (state_ != State::Connecting) return;
            // code > 0: the broker answered the CONNECT (the hub counts it). A TLS handshake the
            // server took part in may count too: retried within the same limit.
            connect_failed(event.reason, event.code > 0 || event.reached_server, event.code);
            return;
        case Kind::Subscribed:
            if (state_ == State::Subscribing) became_ready();
            return;
        case Kind::SubscribeFailed:
            if (state_ == State::Subscribing) connection_down("subscribe failed: " + event.reason);
            return;
        case Kind::ConnectionLost:
            if (state_ == State::Ready || state_ == State::Subscribing) connection_down(event.reason);
            return;
        case Kind::PublishFailed:
            // Which batch is not known; its reply time-out sends it again.
            util::log_debug("uplink: a publish failed: " + event.reason);
            return;
        case Kind::Published:
            return;  // a client's own pacing (replies, not PUBACKs, confirm a batch)
        case Kind::Message:
            if (ends_with(event.topic, "_reply")) {
                on_reply(event.topic, event.payload);
            } else if (const auto service = enos::parse_service_topic(event.topic)) {
                on_service(*service, event.topic, event.payload);
            } else {
                on_downstream(event.topic, event.payload);
            }
            return;
    }
}

}  // namespace fieldgate::uplink
