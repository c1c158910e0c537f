// The uplink: one class, a file per role. Here its construction, the timer that drives it and
// its figures for status; the connection state machine is uplink_connection.cpp, the in-flight
// window and batch building uplink_window.cpp, the reply-code policy uplink_policy.cpp, the
// sub-device sessions and the cloud's requests uplink_sessions.cpp, a reload uplink_reload.cpp.
#include "fieldgate/uplink/uplink.hpp"

#include <algorithm>
#include <string>

namespace fieldgate::uplink {

Uplink::Uplink(Settings settings, mqtt::Client& client, store::RecordStore& store, const util::Clock& clock,
               std::uint64_t seed)
    : settings_(std::move(settings)),
      client_(client),
      store_(store),
      clock_(clock),
      topics_(settings_.product_key, settings_.device_key),
      reconnect_backoff_(settings_.uplink.retry_min_ms, settings_.uplink.retry_max_ms, seed),
      retry_backoff_(settings_.uplink.retry_min_ms, settings_.uplink.retry_max_ms, seed ^ 0x9E3779B97F4A7C15ULL),
      sessions_(settings_.subdevices),
      login_backoff_(settings_.uplink.retry_min_ms, settings_.uplink.retry_max_ms, seed ^ 0x5851F42D4C957F2DULL),
      // The configuration caps batch_max_bytes at 512 KiB: it fits a 32-bit size_t (armhf).
      byte_limit_(static_cast<std::size_t>(settings_.uplink.batch_max_bytes)) {}

void Uplink::start() {
    try {
        start_last_id_ = store_.last_id();
    } catch (const store::StoreError&) {
        start_last_id_ = 0;  // unknown: the records of earlier runs then count as this run's
    }
    connect_now();
}

void Uplink::tick() {
    const std::int64_t now = clock_.mono_ms();
    if (state_ == State::Idle) return;
    if (!undeleted_.empty() && now >= undeleted_retry_mono_) retry_deletes();
    if (state_ == State::Waiting) {
        if (now >= reconnect_at_mono_) connect_now();
        return;
    }
    if (state_ == State::Connecting && now >= deadline_mono_) {
        // The broker may have seen the CONNECT: count it against the hub's limit.
        connect_failed("no CONNACK within " + std::to_string(settings_.mqtt.connect_timeout_ms / 1000) + " s", true, 0);
        return;
    }
    if (state_ == State::Subscribing && now >= deadline_mono_) {
        connection_down("no SUBACK within " + std::to_string(settings_.uplink.reply_timeout_ms / 1000) + " s");
        return;
    }
    if (state_ != State::Ready) return;
    check_timeouts();
    if (now >= login_retry_at_mono_) {
        login_retry_at_mono_ = kNever;
        send_logins();
    }
    fill_window();
}

std::int64_t Uplink::next_wakeup_mono() const {
    const std::int64_t deletes = undeleted_.empty() ? kNever : undeleted_retry_mono_;
    if (state_ == State::Waiting) return std::min(reconnect_at_mono_, deletes);
    if (state_ == State::Connecting || state_ == State::Subscribing) return std::min(deadline_mono_, deletes);
    if (state_ != State::Ready) return deletes;
    std::int64_t next = deletes;
    for (const auto& [id, f] : inflight_)
        next = std::min(next, f.sent_mono + settings_.uplink.reply_timeout_ms);
    for (const auto& [id, p] : pending_logins_)
        next = std::min(next, p.sent_mono + settings_.uplink.reply_timeout_ms);
    next = std::min(next, login_retry_at_mono_);
    if (inflight_.size() < settings_.uplink.inflight)
        for (const auto& [device, u] : unbound_)
            if (!u.batch.records.empty()) next = std::min(next, u.due_mono);
    if (inflight_.size() < settings_.uplink.inflight)
        for (const auto& b : retry_)
            next = std::min(next, b.due_mono);
    return next;
}

UplinkStats Uplink::stats() const {
    UplinkStats s = stats_;
    s.connected = state_ == State::Ready;
    s.inflight = inflight_.size();
    s.byte_limit = static_cast<std::int64_t>(byte_limit_);
    switch (state_) {
        case State::Idle:
            s.state = "idle";
            break;
        case State::Connecting:
            s.state = "connecting";
            break;
        case State::Subscribing:
            s.state = "subscribing";
            break;
        case State::Ready:
            s.state = "connected";
            break;
        case State::Waiting:
            s.state = "waiting";
            break;
    }
    if (refused_ && state_ != State::Ready) s.state = "refused";
    s.last_error = last_error_;
    // Records per second over the last 10 s, or since the first delivery in that window when it
    // is younger (a backlog drained in 2 s would otherwise show a fifth of its rate).
    std::uint64_t sum = 0;
    const std::int64_t now = clock_.mono_ms();
    std::int64_t first = now;
    for (const auto& [t, n] : delivered_samples_) {
        if (now - t > kDrainWindowMs) continue;
        sum += n;
        first = std::min(first, t);
    }
    const std::int64_t span_ms = std::max<std::int64_t>(1000, now - first);
    s.drain_rate_per_s = static_cast<double>(sum) * 1000.0 / static_cast<double>(span_ms);
    return s;
}

}  // namespace fieldgate::uplink
