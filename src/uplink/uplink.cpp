// The uplink's connection state machine, window and batch building. The reply-code policy is in
// uplink_policy.cpp, the sub-device sessions in uplink_sessions.cpp: one class, a file per role.
#include "fieldgate/uplink/uplink.hpp"

#include <algorithm>
#include <limits>
#include <string_view>

#include "fieldgate/enos/batch.hpp"
#include "fieldgate/enos/sign.hpp"
#include "fieldgate/util/log.hpp"

namespace fieldgate::uplink {
namespace {

constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();
// EnOS blocks a client for 5 minutes after 4 connection attempts within 2 minutes.
constexpr std::int64_t kThrottleWindowMs = 120'000;
constexpr std::size_t kThrottleMaxAttempts = 3;

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

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

std::int64_t Uplink::live_from_id() {
    const std::int64_t last = store_.last_id();
    std::int64_t live_from = store_.first_id_at_or_after(clock_.wall_ms() - settings_.uplink.resume_after_ms);
    if (live_from == 0) live_from = last + 1;  // every stored record is old: all of it is backlog
    const std::int64_t cutoff = clock_.mono_ms() - settings_.uplink.resume_after_ms;
    if (!commits_mono_.empty() && commits_mono_.front().first <= cutoff) {
        // Running for longer than resume_after: what was committed since the cutoff is live,
        // everything before (this run's older records and every earlier run's) is backlog.
        std::int64_t old_up_to = commits_mono_.front().second;
        for (const auto& [mono, id] : commits_mono_)
            if (mono <= cutoff) old_up_to = id;
        return old_up_to + 1;
    }
    // Younger than resume_after: every record of this run is live; earlier ones go by wall time.
    return std::min(live_from, start_last_id_ + 1);
}

void Uplink::on_records_committed() {
    const std::int64_t now = clock_.mono_ms();
    commits_mono_.emplace_back(now, store_.last_id());
    const std::int64_t cutoff = now - settings_.uplink.resume_after_ms;
    while (commits_mono_.size() >= 2 && commits_mono_[1].first <= cutoff)
        commits_mono_.pop_front();
    live_more_ = true;
    if (state_ == State::Ready) fill_window();
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

std::size_t Uplink::byte_budget() const {
    const std::size_t overhead = enos::batch_overhead_bytes(20);
    return byte_limit_ > overhead ? byte_limit_ - overhead : 1;
}

bool Uplink::next_batch(Batch& out) {
    const std::int64_t now = clock_.mono_ms();
    // A due retry goes first: those records are the oldest in flight.
    for (auto it = retry_.begin(); it != retry_.end(); ++it) {
        if (it->due_mono <= now) {
            out = std::move(*it);
            retry_.erase(it);
            ++stats_.retries;
            return true;
        }
    }
    for (auto it = unbound_.begin(); it != unbound_.end(); ++it) {
        if (it->second.due_mono <= now && !it->second.batch.records.empty()) {
            out = std::move(it->second.batch);
            it->second.batch = Batch{};
            it->second.due_mono = std::numeric_limits<std::int64_t>::max();  // until its answer
            return true;
        }
    }
    // Memory stays bounded: no new records while the window plus the retries are full.
    if (inflight_.size() + retry_.size() >= settings_.uplink.inflight) return false;

    store::FetchRange range;
    range.max_records = settings_.uplink.batch_max_records;
    range.max_bytes = byte_budget();
    // While the store cannot delete what was delivered (full disk), the backlog waits once
    // max_undeleted such ids are remembered; the live end (readings served from memory) goes on.
    const bool backlog_ok = undeleted_.size() < settings_.max_undeleted;
    // Live data must not wait behind a week of backlog: alternate while both have records.
    // Every pass either returns, moves a cursor forward or finds an end empty, so it ends.
    while ((live_more_ || (backlog_more_ && backlog_ok)) &&
           inflight_.size() + retry_.size() < settings_.uplink.inflight) {
        const bool live = live_more_ && (prefer_live_ || !backlog_more_ || !backlog_ok);
        range.after_id = live ? live_cursor_ : backlog_cursor_;
        range.before_id = live ? std::numeric_limits<std::int64_t>::max() : backlog_end_;
        try {
            out.records = store_.fetch(range);
        } catch (const store::StoreError& e) {
            // A read error is not the end of the records: the cursors stay, tried again later.
            if (read_error_log_.allow(clock_.wall_ms())) util::log_error(std::string("uplink: ") + e.what());
            return false;
        }
        out.resume = !live;
        if (out.records.empty()) {
            (live ? live_more_ : backlog_more_) = false;  // live_more_ comes back with the next commit
            continue;
        }
        (live ? live_cursor_ : backlog_cursor_) = out.records.back().id;
        prefer_live_ = !live;
        isolate_suspects(out);
        if (!out.records.empty()) return true;
    }
    // Nothing fresh to send now: a full batch of a suspect device first, then what is held.
    if (retry_.empty()) flush_held(true);
    for (auto it = retry_.begin(); it != retry_.end(); ++it) {
        if (it->due_mono <= clock_.mono_ms()) {
            out = std::move(*it);
            retry_.erase(it);
            return true;
        }
    }
    return false;
}

void Uplink::fill_window() {
    while (state_ == State::Ready && inflight_.size() < settings_.uplink.inflight) {
        Batch batch;
        if (!next_batch(batch)) return;
        if (!send(std::move(batch))) return;
    }
}

bool Uplink::send(Batch batch) {
    const std::string id = std::to_string(next_request_id_++);
    enos::BatchFlags flags;
    flags.resume = batch.resume;
    flags.skip_invalid_measurepoints = settings_.uplink.skip_invalid_measurepoints;
    switch (settings_.uplink.allow_offline_subdevice) {
        case config::AllowOffline::True:
            flags.allow_offline_subdevice = true;
            break;
        case config::AllowOffline::False:
            flags.allow_offline_subdevice = false;
            break;
        case config::AllowOffline::Auto:
            // A batch that holds a record of a sub-device without a session now must say so, or
            // the hub refuses it whole (1212). A device no longer configured has none either.
            flags.allow_offline_subdevice =
                std::any_of(batch.records.begin(), batch.records.end(), [this](const store::Record& r) {
                    return settings_.gateway_devices.count(r.device) == 0 && !sessions_.logged_in(r.device);
                });
            break;
    }
    std::vector<std::string_view> bodies;
    bodies.reserve(batch.records.size());
    for (const auto& r : batch.records)
        bodies.emplace_back(r.body);
    const std::string payload = enos::encode_batch(id, flags, bodies);
    const std::string& topic = batch.resume ? topics_.resume_batch() : topics_.post_batch();
    if (!client_.publish(topic, payload)) {
        // The client refused at once (connection going down): keep the batch for later.
        batch.due_mono = clock_.mono_ms() + retry_backoff_.next_ms();
        retry_.push_front(std::move(batch));
        return false;
    }
    ++stats_.batches_sent;
    inflight_.emplace(id, InFlight{std::move(batch), clock_.mono_ms(), flags.allow_offline_subdevice});
    return true;
}

void Uplink::on_reply(const std::string& topic, const std::string& payload) {
    if (topic == enos::Topics::reply_of(topics_.login_batch())) {
        on_login_reply(payload);
        return;
    }
    if (topic == enos::Topics::reply_of(topics_.logout()) || topic == enos::Topics::reply_of(topics_.login())) return;
    (void)topic;
    const auto reply = enos::parse_reply(payload);
    if (!reply) {
        util::log_warning("uplink: unreadable reply on " + topic);
        return;
    }
    auto it = inflight_.find(reply->id);
    if (it == inflight_.end()) return;  // late reply to a batch already sent again
    InFlight entry = std::move(it->second);
    inflight_.erase(it);
    stats_.last_code = reply->code;
    stats_.last_reply_ms = clock_.wall_ms();
    if (reply->code != 200)
        util::log_warning("uplink: batch " + reply->id + " of " + std::to_string(entry.batch.records.size()) +
                          " records: code " + std::to_string(reply->code) +
                          (reply->message.empty() ? std::string() : " (" + reply->message + ")"));
    handle_reply(std::move(entry), reply->code);
    fill_window();
}

void Uplink::check_timeouts() {
    const std::int64_t now = clock_.mono_ms();
    for (auto it = pending_logins_.begin(); it != pending_logins_.end();) {
        if (now - it->second.sent_mono >= settings_.uplink.reply_timeout_ms) {
            util::log_warning("uplink: no reply to the login of " + std::to_string(it->second.names.size()) +
                              " sub-devices; trying again later");
            sessions_.login_failed(it->second.names);
            retry_logins_later();
            it = pending_logins_.erase(it);
        } else {
            ++it;
        }
    }
    for (auto it = inflight_.begin(); it != inflight_.end();) {
        if (now - it->second.sent_mono >= settings_.uplink.reply_timeout_ms) {
            ++stats_.timeouts;
            util::log_warning("uplink: no reply to batch " + it->first + " within " +
                              std::to_string(settings_.uplink.reply_timeout_ms) + " ms; it will be sent again");
            retry_later(std::move(it->second.batch));
            it = inflight_.erase(it);
        } else {
            ++it;
        }
    }
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
