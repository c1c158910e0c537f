#pragma once
#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "fieldgate/config/config.hpp"
#include "fieldgate/enos/service.hpp"
#include "fieldgate/enos/topics.hpp"
#include "fieldgate/mqtt/client.hpp"
#include "fieldgate/store/record.hpp"
#include "fieldgate/uplink/sessions.hpp"
#include "fieldgate/util/backoff.hpp"
#include "fieldgate/util/clock.hpp"
#include "fieldgate/util/log.hpp"

namespace fieldgate::uplink {

/// What the uplink is told at construction.
struct Settings {
    config::Uplink uplink;
    config::Mqtt mqtt;
    std::string product_key;  ///< the gateway's
    std::string device_key;
    std::string secret;
    /// Names of the [device.*] that are the gateway itself (no product/device key). Every other
    /// record is a sub-device's, also one whose device left the configuration since it was stored.
    std::set<std::string> gateway_devices;
    /// The sub-devices, logged in through the gateway while they are online.
    std::vector<SubDevice> subdevices;
    /// Ids confirmed by the cloud that the store could not delete yet (full disk) kept at most;
    /// at that many the backlog waits, the live end goes on.
    std::size_t max_undeleted = 250'000;
};

/// The numbers `fieldgatectl status` shows of the uplink.
struct UplinkStats {
    bool connected = false;
    std::size_t inflight = 0;
    std::uint64_t delivered = 0;  ///< records confirmed by a 200
    std::uint64_t batches_sent = 0;
    std::uint64_t retries = 0;  ///< batches sent again (time-out, lost connection, transient code)
    std::uint64_t timeouts = 0;
    std::uint64_t dead_lettered = 0;
    std::uint64_t connects = 0;          ///< successful CONNACKs
    std::uint64_t connect_attempts = 0;  ///< connections started (TCP, TLS, CONNECT)
    int last_code = 0;                   ///< 0 before the first reply
    std::int64_t last_reply_ms = 0;      ///< wall-clock
    double drain_rate_per_s = 0;         ///< records delivered per second over the last 10 s
    /// "connecting", "subscribing", "connected", "waiting" (to reconnect), or "refused": the hub's
    /// CONNACK refused the gateway's credentials, and no connection has succeeded since.
    std::string state;
    std::string last_error;       ///< why the last connection attempt failed or dropped; empty once connected
    std::int64_t byte_limit = 0;  ///< current batch byte limit (halved after 1008)
};

/// Who answers the cloud's measurepoint set and get requests (the daemon: it owns the devices).
/// Requests reach it already parsed and well formed; it answers, now or later, through
/// Uplink::reply_service().
class ServiceHandler {
public:
    virtual ~ServiceHandler() = default;
    virtual void on_service_request(const enos::ServiceTopic& topic, const std::string& reply_topic,
                                    enos::ServiceRequest request) = 0;
};

/// What the uplink logs of the store when it connects: "the store is empty", or the ids held,
/// the age of the oldest, and whether some go via resume/batch (ids below `backlog_end`).
/// `oldest` is the first record in the store, nullptr when there is none.
std::string describe_store(const store::Record* oldest, std::int64_t last_id, std::int64_t backlog_end,
                           std::int64_t now_wall_ms);

/// The connection state machine, the in-flight window and the reply-code policy. No I/O of its
/// own: it speaks to an mqtt::Client and a store::RecordStore and reads a util::Clock, so the
/// unit tests drive it with fakes and a fake clock. Single-threaded (the daemon's main loop).
class Uplink {
public:
    Uplink(Settings settings, mqtt::Client& client, store::RecordStore& store, const util::Clock& clock,
           std::uint64_t seed);

    /// Starts the first connection attempt.
    void start();
    /// A reload with the same gateway identity and [mqtt]: takes the new sub-devices and [uplink]
    /// settings and keeps the connection, the in-flight window, the cursors and the connect
    /// throttle's history. Sub-devices removed or changed while logged in are logged out.
    void reconfigure(Settings settings);
    /// Feeds one client event.
    void on_event(const mqtt::Event& event);
    /// New records were committed: the live end may have more to send.
    void on_records_committed();
    /// A device went online or offline on its bus: its cloud session follows.
    void set_device_online(const std::string& name, bool online);
    /// The device's cloud session for status: "logged_in", "logged_out", "logging_in", "refused:<code>".
    std::string session_of(const std::string& name) const { return sessions_.describe(name); }
    /// Where set/get requests go; without one they are answered 503.
    void set_service_handler(ServiceHandler* handler) { service_handler_ = handler; }
    /// Publishes a set/get reply (enos::service_reply) to `reply_topic`. False when there is no
    /// connection to publish on (the cloud times the request out).
    bool reply_service(const std::string& reply_topic, const std::string& body);
    /// Handles time-outs, due retries and reconnects, and sends what the window allows.
    void tick();
    /// The monotonic time at which tick() wants to run next (INT64_MAX: only on events).
    std::int64_t next_wakeup_mono() const;

    UplinkStats stats() const;

private:
    /// The window over which drain_rate_per_s is measured.
    static constexpr std::int64_t kDrainWindowMs = 10'000;
    /// A deadline that never comes.
    static constexpr std::int64_t kNever = INT64_MAX;

    enum class State { Idle, Connecting, Subscribing, Ready, Waiting };
    enum class Source { Live, Backlog, Retry };

    struct Batch {
        std::vector<store::Record> records;
        bool resume = false;
        std::int64_t due_mono = 0;  ///< retries: not before
    };
    struct InFlight {
        Batch batch;
        std::int64_t sent_mono = 0;
        bool allow_offline = false;  ///< what the batch said: a 1212 then means "not bound", not "not logged in"
    };
    struct PendingLogin {
        std::vector<std::string> names;
        std::int64_t sent_mono = 0;
    };

    void connect_now();
    void connection_down(const std::string& why);
    void schedule_reconnect();
    void became_ready();
    void fill_window();
    bool next_batch(Batch& out);
    bool send(Batch batch);
    void on_reply(const std::string& topic, const std::string& payload);
    void on_downstream(const std::string& topic, const std::string& payload);
    void on_service(const enos::ServiceTopic& service, const std::string& topic, const std::string& payload);
    std::vector<std::string> subscriptions() const;
    void send_logins();
    void publish_logout(const SubDevice* device);
    void on_login_reply(const std::string& payload);
    void retry_logins_later();
    void handle_reply(InFlight entry, int code);
    void retry_later(Batch batch);
    void split_and_retry(Batch batch);
    void isolate_suspects(Batch& batch);
    bool condemn(Batch& batch, int code);
    void check_timeouts();
    std::size_t byte_budget() const;

    Settings settings_;
    mqtt::Client& client_;
    store::RecordStore& store_;
    const util::Clock& clock_;
    enos::Topics topics_;
    ServiceHandler* service_handler_ = nullptr;
    util::Backoff reconnect_backoff_;
    util::Backoff retry_backoff_;

    State state_ = State::Idle;
    std::int64_t reconnect_at_mono_ = 0;
    /// Connecting: the CONNACK is due by then; Subscribing: the SUBACK (our own deadlines, so
    /// a broker that accepts TCP and then says nothing cannot hold the uplink).
    std::int64_t deadline_mono_ = 0;
    bool refused_ = false;  ///< the last CONNACK refused the gateway's credentials
    std::string last_error_;
    void connect_failed(const std::string& reason, bool hub_saw_it, int connack_code);
    util::RateLimit read_error_log_{60'000};
    /// Records the cloud confirmed but the store could not delete yet (full disk): counted as
    /// delivered once the delete lands, not sent again meanwhile. At settings_.max_undeleted ids
    /// the backlog waits (the live end, where memory-mode readings are, goes on).
    std::vector<std::int64_t> undeleted_;
    std::int64_t undeleted_retry_mono_ = INT64_MAX;
    void retry_deletes();
    std::deque<std::int64_t> hub_attempts_mono_;  ///< CONNECTs the hub saw, for its throttle
    std::uint64_t failed_connects_ = 0;           ///< since the last good connection
    std::string last_connect_error_;
    util::RateLimit connect_log_{600'000};

    std::map<std::string, InFlight> inflight_;  ///< by request id
    /// Devices with records refused as invalid (1204/1206/1220) and no accepted batch since.
    struct Suspect {
        unsigned strikes = 0;         ///< records of it dead-lettered one by one, in a row
        std::uint64_t condemned = 0;  ///< its batches dead-lettered whole
    };
    std::map<std::string, Suspect> suspects_;
    Sessions sessions_;
    std::map<std::string, PendingLogin> pending_logins_;  ///< by request id
    std::int64_t login_retry_at_mono_ = INT64_MAX;
    util::Backoff login_backoff_;
    /// Records of suspect devices gathered into batches of their own, sent when full or when the
    /// store has nothing more to give.
    std::map<std::string, Batch> held_;
    void flush_held(bool all);
    /// Devices the hub refuses with 1212 although the batch allowed offline sub-devices: not
    /// bound to this gateway. Their records wait here, one batch each, with a back-off of their
    /// own, out of the window, so the other devices keep flowing. Records of such a device
    /// beyond that batch stay in the store and are read again once the hub accepts the device.
    struct Unbound {
        Batch batch;
        std::int64_t due_mono = 0;
        std::int64_t delay_ms = 0;
        bool skipped = false;  ///< records left in the store behind the cursors
    };
    std::map<std::string, Unbound> unbound_;
    void hold_unbound(Batch batch);
    void reread_store();
    std::deque<Batch> retry_;
    std::uint64_t next_request_id_ = 1;

    /// The resume/post split by the monotonic clock, for the records of this run: (mono ms,
    /// last id) after each commit, the newest one older than resume_after kept. A wall-clock
    /// step (NTP correcting by hours) then moves neither old records into post nor live ones
    /// into resume. Records from before start() are split by their wall time.
    std::deque<std::pair<std::int64_t, std::int64_t>> commits_mono_;
    std::int64_t start_last_id_ = 0;  ///< the store's last id at start()
    std::int64_t live_from_id();
    std::int64_t backlog_cursor_ = 0;  ///< last id handed out from the backlog
    std::int64_t backlog_end_ = 0;     ///< backlog is ids < backlog_end_
    std::int64_t live_cursor_ = 0;     ///< last id handed out from the live end
    bool live_more_ = false;           ///< the live end may hold unsent records
    bool backlog_more_ = false;
    bool prefer_live_ = true;
    std::size_t byte_limit_;

    UplinkStats stats_;
    std::deque<std::pair<std::int64_t, std::uint64_t>> delivered_samples_;  ///< (mono ms, records)
};

}  // namespace fieldgate::uplink
