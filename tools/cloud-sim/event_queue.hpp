#pragma once
// Hands events from Paho's and the signal thread to the main thread, which does all the work.
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>

namespace fieldgate::cloudsim {

struct Event {
    enum class Type {
        Message,
        Connected,
        ConnectFailed,
        ConnectionLost,
        Subscribed,
        SubscribeFailed,
        Disconnected,
        Signal
    };
    Type type = Type::Signal;
    std::string topic;    ///< Message
    std::string payload;  ///< Message
    std::string text;     ///< a cause, for the log
    int code = 0;         ///< Paho's return code, or the signal number
};

/// Unbounded: the sim must keep reading while the main thread is busy with a large batch, and
/// the broker's own in-flight limit bounds what can pile up.
class EventQueue {
public:
    void push(Event event) {
        {
            const std::lock_guard<std::mutex> lock(mutex_);
            events_.push_back(std::move(event));
        }
        ready_.notify_one();
    }

    /// Moves every queued event into `out` (appending), waiting until `deadline` for the first.
    /// Returns false when the deadline passed with nothing queued.
    bool pop_all_until(std::deque<Event>& out, std::chrono::steady_clock::time_point deadline) {
        std::unique_lock<std::mutex> lock(mutex_);
        if (!ready_.wait_until(lock, deadline, [this] { return !events_.empty(); })) return false;
        if (out.empty()) {
            out.swap(events_);
        } else {
            for (auto& e : events_)
                out.push_back(std::move(e));
            events_.clear();
        }
        return true;
    }

private:
    std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<Event> events_;
};

}  // namespace fieldgate::cloudsim
