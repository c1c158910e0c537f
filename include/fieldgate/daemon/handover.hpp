#pragma once
#include <cstddef>
#include <deque>
#include <iterator>
#include <limits>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

namespace fieldgate::daemon {

/// The eventfd a Handover wakes the main loop with. Throws std::runtime_error when no eventfd
/// can be had.
class HandoverSignal {
public:
    HandoverSignal();
    ~HandoverSignal();
    HandoverSignal(const HandoverSignal&) = delete;
    HandoverSignal& operator=(const HandoverSignal&) = delete;

    /// Makes fd() readable (any thread).
    void wake();
    /// Makes fd() unreadable again (the main thread, before it takes what waits).
    void clear();
    int fd() const { return fd_; }

private:
    int fd_ = -1;
};

/// Items handed from bus threads to the main thread, which watches fd() and takes them all with
/// drain(). When to wake the main loop is the owner's rule: put() says how many wait, wake()
/// makes fd() readable.
template <class T>
class Handover {
public:
    /// Adds `item` unless `capacity` items wait already; returns how many wait with it, or
    /// nothing when it was refused (any thread).
    std::optional<std::size_t> put(T item, std::size_t capacity = std::numeric_limits<std::size_t>::max()) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (items_.size() >= capacity) return std::nullopt;
        items_.push_back(std::move(item));
        return items_.size();
    }
    /// Makes fd() readable, so the main loop drains (any thread).
    void wake() { signal_.wake(); }
    /// Takes everything waiting (main thread).
    std::vector<T> drain() {
        signal_.clear();
        std::lock_guard<std::mutex> lock(mutex_);
        std::vector<T> out(std::make_move_iterator(items_.begin()), std::make_move_iterator(items_.end()));
        items_.clear();
        return out;
    }
    int fd() const { return signal_.fd(); }

private:
    HandoverSignal signal_;
    std::mutex mutex_;
    std::deque<T> items_;
};

}  // namespace fieldgate::daemon
