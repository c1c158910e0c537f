// The uplink's reply-code policy (DESIGN.md): delete, retry, shrink, bisect, isolate, hold.
#include <algorithm>
#include <limits>
#include <set>

#include "fieldgate/enos/batch.hpp"
#include "fieldgate/uplink/uplink.hpp"
#include "fieldgate/util/log.hpp"

namespace fieldgate::uplink {
namespace {

// A device with this many records refused one by one in a row, and none accepted, has its
// further batches refused whole dead-lettered without bisection: a misconfigured device must not
// cost a round trip per record. Every kProbeEvery-th such batch is bisected again, so a device
// fixed in the cloud's model is noticed.
constexpr unsigned kCondemnAfter = 3;
constexpr std::uint64_t kProbeEvery = 8;

std::vector<std::int64_t> ids_of(const std::vector<store::Record>& records) {
    std::vector<std::int64_t> ids;
    ids.reserve(records.size());
    for (const auto& r : records)
        ids.push_back(r.id);
    return ids;
}

}  // namespace

void Uplink::handle_reply(InFlight entry, int code) {
    Batch& batch = entry.batch;
    switch (enos::classify(code)) {
        case enos::ReplyAction::Delete: {
            const auto n = batch.records.size();
            for (const auto& r : batch.records)
                if (!suspects_.empty()) suspects_.erase(r.device);
            if (!unbound_.empty()) {
                auto it = unbound_.find(batch.records.front().device);
                if (it != unbound_.end()) {
                    const bool skipped = it->second.skipped;
                    util::log_notice("uplink: device=" + it->first + " accepted again by the hub");
                    unbound_.erase(it);
                    if (skipped) reread_store();
                }
            }
            const auto ids = ids_of(batch.records);
            if (store_.remove(ids)) {
                stats_.delivered += n;
                const std::int64_t now = clock_.mono_ms();
                delivered_samples_.emplace_back(now, n);
            } else {
                // Delivered, but the store cannot delete them now (full disk, I/O error): not done
                // yet, so not counted; the delete is tried again until it lands. They are not sent
                // again meanwhile (after a reconnect they may be: a duplicate the cloud overwrites).
                undeleted_.insert(undeleted_.end(), ids.begin(), ids.end());
                undeleted_retry_mono_ = std::min(undeleted_retry_mono_, clock_.mono_ms() + 1000);
            }
            retry_backoff_.reset();
            // Restore a halved byte limit slowly: one eighth of the configured limit per success.
            const auto configured = static_cast<std::size_t>(settings_.uplink.batch_max_bytes);  // <= 512 KiB
            byte_limit_ = std::min(configured, byte_limit_ + configured / 8);
            const std::int64_t now = clock_.mono_ms();
            while (!delivered_samples_.empty() && now - delivered_samples_.front().first > kDrainWindowMs)
                delivered_samples_.pop_front();
            return;
        }
        case enos::ReplyAction::Bisect:
        case enos::ReplyAction::Relogin:
            if (enos::classify(code) == enos::ReplyAction::Relogin && !entry.allow_offline) {
                // The batch relied on sessions the hub no longer has: log those devices in again
                // and resend; without sessions the batch goes with allowOfflineSubDevice.
                for (const auto& r : batch.records)
                    sessions_.lost(r.device);
                send_logins();
                retry_later(std::move(batch));
                return;
            }
            if (enos::classify(code) == enos::ReplyAction::Relogin &&
                std::all_of(batch.records.begin(), batch.records.end(),
                            [&](const store::Record& r) { return r.device == batch.records.front().device; })) {
                // One device, refused although offline devices were allowed: it is not bound to
                // this gateway. Not a property of the records: hold them, keep the others going.
                hold_unbound(std::move(batch));
                return;
            }
            if (batch.records.size() == 1) {
                const auto& r = batch.records.front();
                util::log_warning("uplink: record of device=" + r.device + " time=" + std::to_string(r.time_ms) +
                                  " refused with code " + std::to_string(code) + "; moved to dead letters");
                ++suspects_[r.device].strikes;
                if (!store_.dead_letter({r.id}, "code_" + std::to_string(code), code)) {
                    retry_later(std::move(batch));  // the store refused the move: not done yet
                    return;
                }
                ++stats_.dead_lettered;
                return;
            }
            if (enos::classify(code) == enos::ReplyAction::Bisect && condemn(batch, code)) return;
            split_and_retry(std::move(batch));
            return;
        case enos::ReplyAction::Shrink:
            if (batch.records.size() == 1) {
                if (!store_.dead_letter({batch.records.front().id}, "code_1008", code)) {
                    retry_later(std::move(batch));
                    return;
                }
                ++stats_.dead_lettered;
                return;
            }
            byte_limit_ = std::max<std::size_t>(1, byte_limit_ / 2);
            split_and_retry(std::move(batch));
            return;
        case enos::ReplyAction::Retry:
            retry_later(std::move(batch));
            return;
    }
}

void Uplink::retry_deletes() {
    std::sort(undeleted_.begin(), undeleted_.end());
    undeleted_.erase(std::unique(undeleted_.begin(), undeleted_.end()), undeleted_.end());
    const std::int64_t now = clock_.mono_ms();
    if (!store_.remove(undeleted_)) {
        undeleted_retry_mono_ = now + 2000;
        return;
    }
    stats_.delivered += undeleted_.size();
    delivered_samples_.emplace_back(now, undeleted_.size());
    undeleted_.clear();
    undeleted_.shrink_to_fit();
    undeleted_retry_mono_ = std::numeric_limits<std::int64_t>::max();
}

void Uplink::retry_later(Batch batch) {
    batch.due_mono = clock_.mono_ms() + retry_backoff_.next_ms();
    retry_.push_back(std::move(batch));
}

void Uplink::hold_unbound(Batch batch) {
    const std::string device = batch.records.front().device;
    Unbound& u = unbound_[device];
    if (u.batch.records.empty()) {
        util::log_warning("uplink: device=" + device + ": the hub refuses its records (1212: not bound to this " +
                          "gateway?); holding them and trying again with back-off");
    }
    for (auto& r : batch.records) {
        if (u.batch.records.size() < settings_.uplink.batch_max_records)
            u.batch.records.push_back(std::move(r));
        else
            u.skipped = true;
    }
    u.batch.resume = batch.resume;
    u.delay_ms = std::clamp<std::int64_t>(u.delay_ms * 2, settings_.uplink.retry_min_ms, settings_.uplink.retry_max_ms);
    u.due_mono = clock_.mono_ms() + u.delay_ms;
}

void Uplink::reread_store() {
    // Records were left behind the cursors: read everything still stored again, as backfill.
    // What is in flight may go twice; the cloud keeps one value per device, point and time.
    backlog_cursor_ = 0;
    backlog_end_ = live_cursor_ + 1;
    backlog_more_ = true;
}

void Uplink::isolate_suspects(Batch& batch) {
    if (!unbound_.empty()) {
        std::vector<store::Record> keep;
        keep.reserve(batch.records.size());
        for (auto& r : batch.records) {
            auto it = unbound_.find(r.device);
            if (it == unbound_.end()) {
                keep.push_back(std::move(r));
            } else if (it->second.batch.records.size() < settings_.uplink.batch_max_records) {
                it->second.batch.records.push_back(std::move(r));
            } else {
                it->second.skipped = true;  // stays in the store
            }
        }
        batch.records = std::move(keep);
    }
    if (suspects_.empty()) return;
    // Records of a device already caught sending refused records travel in batches of their
    // own: they cannot make the good devices' batches fail, and gathered to full batches they
    // cost few round trips however many there are.
    std::vector<store::Record> keep;
    keep.reserve(batch.records.size());
    for (auto& r : batch.records) {
        if (suspects_.count(r.device) == 0) {
            keep.push_back(std::move(r));
            continue;
        }
        Batch& held = held_[r.device + (batch.resume ? "|resume" : "|post")];
        held.resume = batch.resume;
        held.records.push_back(std::move(r));
    }
    batch.records = std::move(keep);
    flush_held(false);
}

void Uplink::flush_held(bool all) {
    for (auto it = held_.begin(); it != held_.end();) {
        if (all || it->second.records.size() >= settings_.uplink.batch_max_records) {
            it->second.due_mono = clock_.mono_ms();
            retry_.push_front(std::move(it->second));
            it = held_.erase(it);
        } else {
            ++it;
        }
    }
}

bool Uplink::condemn(Batch& batch, int code) {
    const std::string& device = batch.records.front().device;
    for (const auto& r : batch.records)
        if (r.device != device) return false;
    auto it = suspects_.find(device);
    if (it == suspects_.end() || it->second.strikes < kCondemnAfter) return false;
    if (++it->second.condemned % kProbeEvery == 0) return false;  // bisect this one: fixed yet?
    std::vector<std::int64_t> ids;
    ids.reserve(batch.records.size());
    for (const auto& r : batch.records)
        ids.push_back(r.id);
    util::log_warning("uplink: device=" + device + ": every record refused again (code " + std::to_string(code) +
                      "); " + std::to_string(ids.size()) + " records moved to dead letters without bisection");
    if (!store_.dead_letter(ids, "code_" + std::to_string(code), code)) {
        retry_later(std::move(batch));  // the store refused the move: not done yet
        return true;
    }
    stats_.dead_lettered += ids.size();
    return true;
}

void Uplink::split_and_retry(Batch batch) {
    // Split along devices first: a bad record usually means a misconfigured device, and a half
    // that holds whole devices isolates it in fewer round trips.
    std::vector<store::Record>& recs = batch.records;
    std::vector<std::string> devices;
    for (const auto& r : recs)
        if (std::find(devices.begin(), devices.end(), r.device) == devices.end()) devices.push_back(r.device);
    Batch first;
    Batch second;
    first.resume = second.resume = batch.resume;
    if (devices.size() > 1) {
        const std::set<std::string> left(devices.begin(), devices.begin() + static_cast<long>(devices.size() / 2));
        for (auto& r : recs)
            (left.count(r.device) ? first : second).records.push_back(std::move(r));
    } else {
        const auto half = static_cast<long>(recs.size() / 2);
        first.records.assign(std::make_move_iterator(recs.begin()), std::make_move_iterator(recs.begin() + half));
        second.records.assign(std::make_move_iterator(recs.begin() + half), std::make_move_iterator(recs.end()));
    }
    const std::int64_t now = clock_.mono_ms();
    first.due_mono = second.due_mono = now;
    // To the front, oldest half first: isolating the bad record goes before anything new.
    retry_.push_front(std::move(second));
    retry_.push_front(std::move(first));
}

}  // namespace fieldgate::uplink
