#pragma once
// The sim's main loop: connection state (start-up wait, reconnect, resubscribe), requests in,
// replies and records out, periodic summaries. Runs on the main thread; Paho's and the signal
// thread only push events.
#include <chrono>
#include <cstdint>
#include <string>

#include "event_queue.hpp"
#include "fieldgate/util/log.hpp"
#include "hub.hpp"
#include "mqtt_link.hpp"
#include "records_file.hpp"
#include "stats.hpp"

namespace fieldgate::cloudsim {

struct LoopOptions {
    std::string broker;             ///< for messages
    std::uint16_t broker_port = 0;  ///< to find Paho's socket for TCP_NODELAY
    std::string stats_path;         ///< "" for none
    bool verbose = false;           ///< one log line per request
    bool logout_on_reconnect = true;
    std::chrono::milliseconds startup_wait{10'000};
    std::chrono::milliseconds summary_interval{10'000};
};

class Simulator {
public:
    Simulator(LoopOptions options, Hub& hub, MqttLink& link, RecordsFile& records, EventQueue& events);

    /// Runs until a signal (returns 0), the broker stays unreachable through the start-up wait
    /// (returns 1), or it refuses the subscriptions (returns 2).
    int run();

private:
    enum class LinkState { Connecting, Subscribing, Ready, Waiting };
    using Clock = std::chrono::steady_clock;

    bool on_event(Event& event, int& exit_code);
    void on_message(const Event& event);
    void start_connect();
    void retry_later(std::chrono::milliseconds delay);
    void summary();
    void write_stats();
    void shutdown();

    LoopOptions options_;
    Hub& hub_;
    MqttLink& link_;
    RecordsFile& records_;
    EventQueue& events_;
    Stats stats_;
    Stats reported_;
    LinkState state_ = LinkState::Connecting;
    bool ever_ready_ = false;
    std::string last_failure_;
    std::uint64_t failed_attempts_ = 0;
    Clock::time_point startup_deadline_;
    Clock::time_point retry_at_;
    Clock::time_point next_summary_;
    util::RateLimit storage_log_{10'000};  // records-file errors: one line per 10 s
};

}  // namespace fieldgate::cloudsim
