#pragma once
#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "fieldgate/mqtt/client.hpp"
#include "fieldgate/mqtt/event_ring.hpp"

namespace fieldgate::mqtt {

struct PahoLibrary;

/// Paho MQTT C asynchronous client. Paho calls back on its own threads; the callbacks only
/// copy what they got into a fixed ring (no allocation, nothing that can throw) and wake the
/// owner through an eventfd (event_fd()), so they never block and never touch the owner's state.
/// Every event carries the generation of the Paho handle that produced it, and drain_events()
/// hands out only the current handle's: a late callback of a destroyed handle cannot tear down
/// a new connection.
///
/// Publishes are handed to Paho one at a time, the next when the broker acknowledged the one
/// before (PUBACK) or it failed; until then they wait here, in order. Paho 1.3.12 leaks every
/// publish still queued in it unwritten when its handle is destroyed (see paho_client.cpp).
class PahoClient final : public Client {
public:
    /// `uri` is tcp://host:port or ssl://host:port. The Paho handle is made anew by every
    /// connect(): an EnOS client id carries the sign's timestamp, and Paho fixes the client id
    /// at creation. Throws std::runtime_error when no eventfd can be had or the library for the
    /// URI's scheme cannot be loaded.
    explicit PahoClient(std::string uri);
    ~PahoClient() override;
    PahoClient(const PahoClient&) = delete;
    PahoClient& operator=(const PahoClient&) = delete;

    bool connect(const ConnectOptions& options) override;
    bool subscribe(const std::vector<std::string>& topics) override;
    bool publish(const std::string& topic, const std::string& payload) override;
    void disconnect() override;

    /// Readable when events wait; level-triggered until drain_events() empties the queue.
    int event_fd() const { return event_fd_.get(); }
    /// Takes every queued event of the current connection (call on the owner's thread). A TLS
    /// connection that fails is reported once its cause is known (see tls_probe.hpp), within
    /// a few seconds, by the eventfd again.
    std::vector<Event> drain_events();
    /// Whether `event` is of the current connection: one taken by drain_events() goes stale when
    /// an event before it made the owner disconnect or connect again.
    bool is_current(const Event& event) const { return event.handle == generation_.load(); }

    struct Callbacks;  // the C trampolines; defined in the .cpp

private:
    /// What a callback's context points at: the client and the handle generation it serves.
    /// A few are kept in a ring so a late callback still finds valid memory.
    struct Tag {
        PahoClient* owner = nullptr;
        std::uint64_t generation = 0;
    };
    class Fd {
    public:
        explicit Fd(int fd) : fd_(fd) {}
        ~Fd();
        Fd(const Fd&) = delete;
        Fd& operator=(const Fd&) = delete;
        int get() const { return fd_; }

    private:
        int fd_;
    };
    struct HandleDeleter {
        const PahoLibrary* lib;
        void operator()(void* handle) const noexcept;
    };
    using Handle = std::unique_ptr<void, HandleDeleter>;

    struct Publish {
        std::string topic;
        std::string payload;
    };

    void post(const RawEvent& event) noexcept;
    bool hand_to_paho(const std::string& topic, const std::string& payload);
    void send_waiting();
    void destroy_handle() noexcept;
    void stop_probe() noexcept;
    void start_probe(std::uint64_t generation, std::string paho_reason);
    // The remainder is below tags_.size(): narrowing it is exact on 32-bit size_t (armhf).
    Tag* tag_for_current() { return &tags_[static_cast<std::size_t>(generation_.load() % tags_.size())]; }

    std::string uri_;
    bool tls_;
    std::uint16_t port_ = 0;
    const PahoLibrary* lib_;
    ConnectOptions options_;  ///< of the last connect(): the TLS probe uses the same files
    Fd event_fd_;
    Fd cancel_fd_;  ///< readable: the running TLS probe stops
    std::array<Tag, 8> tags_{};
    std::atomic<std::uint64_t> generation_{0};
    Handle handle_;
    EventRing ring_;
    std::thread probe_;
    std::mutex probe_mutex_;
    bool probe_done_ = false;
    std::uint64_t probe_generation_ = 0;
    std::string probe_reason_;
    /// A publish of the current handle is in Paho, not yet acknowledged or failed.
    bool publishing_ = false;
    /// Publishes not yet handed to Paho (at most the uplink's window), oldest first.
    std::deque<Publish> waiting_;
};

}  // namespace fieldgate::mqtt
