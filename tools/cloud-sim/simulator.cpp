#include "simulator.hpp"

#include <csignal>
#include <cstring>
#include <deque>
#include <utility>

#include "fieldgate/util/log.hpp"

namespace fieldgate::cloudsim {
namespace {

using std::chrono::milliseconds;

constexpr int kConnectTimeoutS = 2;
constexpr milliseconds kStartupRetry{500};
// The broker is local (tests restart it); EnOS's 4-attempts-in-2-minutes throttle is the
// gateway's concern, not the simulator's.
constexpr milliseconds kReconnectRetry{1000};
constexpr milliseconds kDisconnectWait{2000};

std::int64_t wall_ms() {
    return std::chrono::duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::int64_t steady_ms() {
    return std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

Simulator::Simulator(LoopOptions options, Hub& hub, MqttLink& link, RecordsFile& records, EventQueue& events)
    : options_(std::move(options)), hub_(hub), link_(link), records_(records), events_(events) {}

int Simulator::run() {
    const auto start = Clock::now();
    startup_deadline_ = start + options_.startup_wait;
    next_summary_ = start + options_.summary_interval;
    start_connect();

    std::deque<Event> batch;
    int exit_code = -1;
    while (exit_code < 0) {
        Clock::time_point deadline = next_summary_;
        if (state_ == LinkState::Waiting && retry_at_ < deadline) deadline = retry_at_;
        if (!events_.pop_all_until(batch, deadline)) {
            const auto now = Clock::now();
            if (state_ == LinkState::Waiting && now >= retry_at_) start_connect();
            if (now >= next_summary_) {
                summary();
                next_summary_ = now + options_.summary_interval;
            }
            continue;
        }
        while (!batch.empty() && exit_code < 0) {
            on_event(batch.front(), exit_code);
            batch.pop_front();
        }
        // A steady stream of requests must not starve the summary.
        if (Clock::now() >= next_summary_) {
            summary();
            next_summary_ = Clock::now() + options_.summary_interval;
        }
    }
    shutdown();
    return exit_code;
}

bool Simulator::on_event(Event& event, int& exit_code) {
    switch (event.type) {
        case Event::Type::Message:
            on_message(event);
            return true;
        case Event::Type::Connected: {
            if (ever_ready_ && options_.logout_on_reconnect && hub_.sessions() > 0) {
                // The broker went away, so the gateway's connection dropped too: the hub logs
                // every sub-device out then, and the gateway must log them in again.
                util::log_notice("logged out " + std::to_string(hub_.sessions()) +
                                 " sub-device(s): the broker connection was lost, as the gateway's was");
                hub_.logout_all();
            }
            const int nodelay = link_.set_tcp_nodelay(options_.broker_port);
            if (options_.verbose)
                util::log_info("connected; TCP_NODELAY set on " + std::to_string(nodelay) + " socket(s)");
            state_ = LinkState::Subscribing;
            if (!link_.subscribe(hub_.topics())) {
                util::log_warning("cannot subscribe on " + options_.broker + "; reconnecting");
                link_.disconnect(0);
                retry_later(kReconnectRetry);
            }
            return true;
        }
        case Event::Type::Subscribed: {
            state_ = LinkState::Ready;
            const std::string gw = hub_.config().product_key + "/" + hub_.config().device_key;
            if (!ever_ready_) {
                util::log_notice("ready: gateway " + gw + ", subscribed to its 5 request topics on " + options_.broker +
                                 ", records to " + records_.path());
                write_stats();
            } else {
                util::log_notice("reconnected to " + options_.broker + " and resubscribed (after " +
                                 std::to_string(failed_attempts_) + " failed attempt(s))");
            }
            ever_ready_ = true;
            failed_attempts_ = 0;
            return true;
        }
        case Event::Type::SubscribeFailed:
            util::log_error("the broker at " + options_.broker + " refused the subscriptions: " + event.text);
            exit_code = 2;
            return true;
        case Event::Type::ConnectFailed: {
            last_failure_ = event.text;
            ++failed_attempts_;
            if (!ever_ready_) {
                if (Clock::now() + kStartupRetry >= startup_deadline_) {
                    util::log_error("cannot reach the MQTT broker at " + options_.broker + " within " +
                                    std::to_string(options_.startup_wait.count() / 1000) + " s (" +
                                    std::to_string(failed_attempts_) + " attempts): " + last_failure_ +
                                    "; is mosquitto running there?");
                    exit_code = 1;
                    return true;
                }
                retry_later(kStartupRetry);
            } else {
                retry_later(kReconnectRetry);
            }
            return true;
        }
        case Event::Type::ConnectionLost:
            util::log_warning("lost the connection to " + options_.broker + " (" + event.text +
                              "); reconnecting every " + std::to_string(kReconnectRetry.count()) + " ms");
            retry_later(kReconnectRetry);
            return true;
        case Event::Type::Disconnected:
            return true;
        case Event::Type::Signal:
            util::log_notice(std::string("received ") + (event.code == SIGINT ? "SIGINT" : "SIGTERM") + ", stopping");
            exit_code = 0;
            return true;
    }
    return false;
}

void Simulator::on_message(const Event& event) {
    const auto kind = hub_.kind_of(event.topic);
    if (!kind) {
        ++stats_.unknown_topic;
        return;
    }
    Outcome out = hub_.handle(*kind, event.payload, wall_ms());
    if (!out.records.empty()) {
        // Records land before the reply leaves: whoever sees the 200 can read them already.
        const std::string error = records_.append(out.records);
        if (!error.empty()) {
            if (storage_log_.allow(steady_ms())) util::log_error("cannot append to " + records_.path() + ": " + error);
            hub_.override_reply(out, kCodeSimStorageFailed, "records file: " + error);
        }
    }
    if (out.send_reply && !link_.publish(hub_.reply_topic(*kind), out.reply_body)) ++stats_.replies_failed;
    stats_.add(out);
    if (options_.verbose) {
        std::string line =
            std::string(request_kind_name(*kind)) + " id=\"" + out.id + "\" -> " + std::to_string(out.code);
        if (out.records_accepted > 0) line += ", " + std::to_string(out.records_accepted) + " records";
        if (!out.detail.empty()) line += ": " + out.detail;
        if (!out.send_reply) line += " (reply dropped by fault injection)";
        util::log_info(line);
    }
}

void Simulator::start_connect() {
    state_ = LinkState::Connecting;
    if (!link_.connect(kConnectTimeoutS)) {
        Event failed;
        failed.type = Event::Type::ConnectFailed;
        failed.text = "the MQTT client refused to start a connection";
        events_.push(std::move(failed));
    }
}

void Simulator::retry_later(milliseconds delay) {
    state_ = LinkState::Waiting;
    retry_at_ = Clock::now() + delay;
    if (ever_ready_ && failed_attempts_ > 0 && failed_attempts_ % 10 == 0) {
        util::log_warning("still cannot reach " + options_.broker + " after " + std::to_string(failed_attempts_) +
                          " attempts: " + last_failure_);
    }
}

void Simulator::summary() {
    if (stats_ == reported_) return;
    util::log_info("last " + std::to_string(options_.summary_interval.count() / 1000) + " s: " +
                   describe(stats_, reported_) + "; " + std::to_string(hub_.sessions()) + " sub-device(s) logged in");
    reported_ = stats_;
    write_stats();
}

void Simulator::write_stats() {
    if (options_.stats_path.empty()) return;
    const std::string error = write_file_atomically(options_.stats_path, stats_json(stats_, hub_.sessions()));
    if (!error.empty()) util::log_warning(error);
}

void Simulator::shutdown() {
    if (!ever_ready_) return;  // never served: nothing to report, nothing to disconnect
    util::log_notice("total: " + describe(stats_, Stats{}) + "; " + std::to_string(hub_.sessions()) +
                     " sub-device(s) logged in");
    write_stats();
    if (state_ == LinkState::Waiting || !link_.disconnect(1000)) return;
    // Wait (bounded) for Paho to finish the disconnect before the client is destroyed.
    const auto deadline = Clock::now() + kDisconnectWait;
    std::deque<Event> rest;
    while (events_.pop_all_until(rest, deadline)) {
        for (const auto& e : rest) {
            if (e.type == Event::Type::Disconnected || e.type == Event::Type::ConnectionLost) return;
        }
        rest.clear();
    }
}

}  // namespace fieldgate::cloudsim
