// The live queue: readings appended, committed in groups (or kept in memory while commits
// fail), fetched in batches by the uplink, deleted once confirmed or moved to the dead letters;
// and the figures for status. Opening and its fall-backs are open.cpp, a damaged file
// quarantine.cpp, the bounds bounds.cpp, a reload reconfigure.cpp.
#include "fieldgate/store/sqlite_store.hpp"

#include <algorithm>
#include <string>

#include "fieldgate/util/log.hpp"
#include "sqlite_support.hpp"

namespace fieldgate::store {

using namespace sqlite_support;

namespace {

// Commits that fail are tried again after 1 s, doubling up to this.
constexpr std::int64_t kRetryMaxMs = 4000;

}  // namespace

void SqliteStore::append(NewRecord record) {
    if (pending_.size() >= max_pending_) {
        // The store cannot take them and memory is full: the overflow policy decides which goes.
        ++unsaved_drops_["disk_full"];
        if (full_log_.allow(now_wall_ms()))
            util::log_error("store " + cfg_.path + ": commits keep failing and " + std::to_string(max_pending_) +
                            " readings wait in memory; dropping the " +
                            (cfg_.overflow == config::Overflow::DropOldest ? "oldest" : "newest") +
                            " (counted as disk_full)");
        if (cfg_.overflow != config::Overflow::DropOldest || pending_.empty()) return;
        pending_.erase(pending_.begin());
    }
    pending_.emplace(next_id_++, std::move(record));
}

void SqliteStore::write_pending() {
    Statements& st = *st_;
    for (const auto& [id, r] : pending_) {
        Stmt::Scope use(st.insert);
        st.insert.bind(1, id).bind(2, r.device).bind(3, r.time_ms).bind(4, r.body).run();
    }
    for (const auto& d : pending_dead_) {
        Stmt::Scope use(st.insert_dead);
        st.insert_dead.bind(1, d.id)
            .bind(2, d.record.device)
            .bind(3, d.record.time_ms)
            .bind(4, d.reason)
            .bind(5, d.code)
            .bind(6, d.dead_ms)
            .bind(7, d.record.body)
            .run();
    }
    for (const auto& [reason, n] : unsaved_drops_)
        count_drop(reason.c_str(), n);
}

void SqliteStore::commit_failed(const std::string& what) {
    write_error_ = what;
    const std::int64_t now = now_mono_ms();
    retry_delay_ms_ = std::clamp<std::int64_t>(retry_delay_ms_ * 2, 1000, kRetryMaxMs);
    retry_at_mono_ = now + retry_delay_ms_;
    if (!memory_mode_) {
        memory_mode_ = true;
        util::log_error("store " + cfg_.path + ": commit failed (" + what + "); " + std::to_string(pending_.size()) +
                        " readings kept in memory (at most " + std::to_string(max_pending_) +
                        ") and sent from there while the link is up (MEMORY MODE, not durable); retrying");
        fail_log_.allow(now_wall_ms());
    } else if (fail_log_.allow(now_wall_ms())) {
        util::log_error("store " + cfg_.path + ": commits still failing (" + what + "); " +
                        std::to_string(pending_.size()) + " readings in memory");
    }
}

std::size_t SqliteStore::commit() {
    if (pending_.empty() && pending_dead_.empty() && unsaved_drops_.empty()) return 0;
    if (memory_mode_ && now_mono_ms() < retry_at_mono_) return 0;
    if (!on_disk_ && !reopen_disk()) {
        commit_failed(write_error_);
        return 0;
    }
    std::uint64_t bytes = 0;
    try {
        if (!pending_.empty() && cfg_.overflow == config::Overflow::DropNewest && used_bytes() >= cfg_.max_bytes) {
            // drop_newest: what is stored stays; what arrives while the store is full does not.
            if (full_log_.allow(now_wall_ms()))
                util::log_warning("store " + cfg_.path + ": full (max_bytes " + std::to_string(cfg_.max_bytes) +
                                  ", overflow = drop_newest); dropping new readings until the uplink frees space");
            unsaved_drops_["store_full"] += pending_.size();
            pending_.clear();
        }
        Transaction tx(db_);
        write_pending();
        tx.commit();
    } catch (const SqliteError& e) {
        commit_failed(e.what());
        return 0;
    }
    for (const auto& [id, r] : pending_)
        bytes += r.body.size();
    for (const auto& d : pending_dead_)
        ++dead_counts_[d.reason];
    const std::size_t n = pending_.size();
    records_ += n;
    bytes_ += bytes;
    pending_.clear();
    pending_dead_.clear();
    unsaved_drops_.clear();
    if (memory_mode_)
        util::log_notice("store " + cfg_.path + ": commits work again (" + std::to_string(n) +
                         " readings committed); leaving memory mode");
    memory_mode_ = false;
    write_error_.clear();
    retry_delay_ms_ = 0;
    retry_at_mono_ = 0;
    return n;
}

std::vector<Record> SqliteStore::fetch(const FetchRange& range) {
    std::vector<Record> out;
    std::size_t bytes = 0;
    bool full = false;
    try {
        Stmt& s = st_->fetch;
        Stmt::Scope use(s);
        s.bind(1, range.after_id).bind(2, range.before_id).bind(3, static_cast<std::int64_t>(range.max_records));
        while (s.step()) {
            const std::size_t len = s.bytes(3);
            if (!out.empty() && bytes + len > range.max_bytes) {
                full = true;
                break;
            }
            out.push_back({s.int64(0), s.text(1), s.int64(2), s.text(3)});
            bytes += len;
        }
    } catch (const SqliteError& e) {
        throw StoreError("store " + cfg_.path + ": reading records failed: " + e.what());
    }
    if (!memory_mode_ || full) return out;
    // Memory mode: the readings that could not be committed follow (their ids are all newer).
    for (auto it = pending_.upper_bound(range.after_id);
         it != pending_.end() && it->first < range.before_id && out.size() < range.max_records; ++it) {
        const std::size_t len = it->second.body.size();
        if (!out.empty() && bytes + len > range.max_bytes) break;
        out.push_back({it->first, it->second.device, it->second.time_ms, it->second.body});
        bytes += len;
    }
    return out;
}

std::int64_t SqliteStore::first_id_at_or_after(std::int64_t time_ms) {
    try {
        Stmt& s = st_->first_at;
        Stmt::Scope use(s);
        s.bind(1, time_ms);
        if (s.step()) return s.int64(0);
    } catch (const SqliteError& e) {
        if (read_log_.allow(now_wall_ms())) util::log_error("store " + cfg_.path + ": read failed: " + e.what());
    }
    if (memory_mode_)
        for (const auto& [id, r] : pending_)
            if (r.time_ms >= time_ms) return id;
    return 0;
}

std::int64_t SqliteStore::last_id() {
    std::int64_t last = 0;
    try {
        Stmt& s = st_->last_id;
        Stmt::Scope use(s);
        if (s.step()) last = s.int64(0);
    } catch (const SqliteError& e) {
        if (read_log_.allow(now_wall_ms())) util::log_error("store " + cfg_.path + ": read failed: " + e.what());
    }
    if (memory_mode_ && !pending_.empty()) last = std::max(last, pending_.rbegin()->first);
    return last;
}

void SqliteStore::delete_record(std::int64_t id, std::uint64_t& count, std::uint64_t& bytes) {
    // A RETURNING statement must be stepped to SQLITE_DONE: reset earlier, it is rolled back.
    Stmt& s = st_->remove;
    Stmt::Scope use(s);
    s.bind(1, id);
    while (s.step()) {
        ++count;
        bytes += static_cast<std::uint64_t>(s.int64(0));
    }
}

bool SqliteStore::remove(const std::vector<std::int64_t>& ids) {
    // Readings sent from memory are done once confirmed: they never need to reach the file.
    std::vector<std::int64_t> stored;
    for (auto id : ids)
        if (pending_.erase(id) == 0) stored.push_back(id);
    if (stored.empty()) return true;
    std::uint64_t n = 0;
    std::uint64_t bytes = 0;
    try {
        Transaction tx(db_);
        for (auto id : stored)
            delete_record(id, n, bytes);
        tx.commit();
    } catch (const SqliteError& e) {
        // The records stay and will be sent again: a duplicate in the cloud, never a loss.
        if (fail_log_.allow(now_wall_ms()))
            util::log_error("store " + cfg_.path + ": deleting delivered records failed: " + e.what() +
                            "; they stay in the store until a delete lands");
        return false;
    }
    records_ -= std::min(records_, n);
    bytes_ -= std::min(bytes_, bytes);
    return true;
}

bool SqliteStore::dead_letter(const std::vector<std::int64_t>& ids, const std::string& reason, int code) {
    const std::int64_t now = now_wall_ms();
    std::vector<std::int64_t> stored;
    for (auto id : ids) {
        auto it = pending_.find(id);
        if (it == pending_.end()) {
            stored.push_back(id);
            continue;
        }
        // Sent from memory and refused: a dead letter written with the next commit that lands.
        if (pending_dead_.size() >= max_pending_) {
            pending_dead_.erase(pending_dead_.begin());
            ++unsaved_drops_["dead_letter_evicted"];
        }
        pending_dead_.push_back({id, std::move(it->second), reason, code, now});
        pending_.erase(it);
    }
    if (stored.empty()) return true;
    std::uint64_t n = 0;
    std::uint64_t bytes = 0;
    try {
        Transaction tx(db_);
        for (auto id : stored) {
            {
                Stmt& m = st_->move_dead;
                Stmt::Scope use(m);
                m.bind(1, id).bind(2, reason).bind(3, code).bind(4, now).run();
            }
            delete_record(id, n, bytes);
        }
        tx.commit();
    } catch (const SqliteError& e) {
        if (fail_log_.allow(now_wall_ms()))
            util::log_error("store " + cfg_.path + ": moving records to the dead letters failed: " + e.what() +
                            "; they stay and are tried again");
        return false;
    }
    records_ -= std::min(records_, n);
    bytes_ -= std::min(bytes_, bytes);
    dead_counts_[reason] += n;
    return true;
}

void SqliteStore::count_dead_letters() {
    // Counted once here and kept up to date in memory: status runs every few seconds, and a
    // GROUP BY over a large dead-letter table each time would cost a scan.
    dead_counts_.clear();
    Stmt s(db_, "SELECT reason, count(*) FROM dead_letters GROUP BY reason");
    while (s.step())
        dead_counts_[s.text(0)] = static_cast<std::uint64_t>(s.int64(1));
}

StoreStats SqliteStore::stats() {
    StoreStats st;
    st.records = records_;
    st.bytes = bytes_;
    st.pending = pending_.size();
    for (const auto& [reason, n] : dead_counts_)
        if (n > 0) st.dead_letters[reason] = n;
    try {
        {
            Stmt s(db_, "SELECT time_ms FROM records ORDER BY id LIMIT 1");
            if (s.step()) st.oldest_ms = s.int64(0);
        }
        Stmt s(db_, "SELECT reason, count FROM drops");
        while (s.step())
            st.dropped[s.text(0)] = static_cast<std::uint64_t>(s.int64(1));
        st.file_bytes = static_cast<std::uint64_t>(
            query_int(db_, "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()"));
    } catch (const SqliteError& e) {
        if (read_log_.allow(now_wall_ms())) util::log_error("store " + cfg_.path + ": read failed: " + e.what());
    }
    // What is counted but not yet committed shows too: nothing is dropped out of sight.
    for (const auto& [reason, n] : unsaved_drops_)
        st.dropped[reason] += n;
    for (const auto& d : pending_dead_)
        ++st.dead_letters[d.reason];
    if (st.oldest_ms == 0 && !pending_.empty()) st.oldest_ms = pending_.begin()->second.time_ms;
    st.memory_mode = memory_mode_;
    st.write_error = write_error_;
    st.quarantined = quarantined_;
    return st;
}

std::vector<DeadLetter> SqliteStore::dead_letters(std::size_t limit) {
    std::vector<DeadLetter> out;
    Stmt s(db_,
           "SELECT record_id, device, time_ms, reason, code, dead_ms, body FROM dead_letters "
           "ORDER BY id LIMIT ?1");
    s.bind(1, static_cast<std::int64_t>(limit));
    while (s.step()) {
        DeadLetter d;
        d.id = s.int64(0);
        d.device = s.text(1);
        d.time_ms = s.int64(2);
        d.reason = s.text(3);
        d.code = static_cast<int>(s.int64(4));
        d.dead_ms = s.int64(5);
        d.body = s.text(6);
        out.push_back(std::move(d));
    }
    return out;
}

}  // namespace fieldgate::store
