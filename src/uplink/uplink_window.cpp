// The uplink's in-flight window: the live and backlog cursors over the store, batch building
// within the byte and record limits, sending, replies and their time-outs.
#include <algorithm>
#include <limits>
#include <string>
#include <string_view>

#include "fieldgate/enos/batch.hpp"
#include "fieldgate/uplink/uplink.hpp"
#include "fieldgate/util/log.hpp"

namespace fieldgate::uplink {

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

}  // namespace fieldgate::uplink
