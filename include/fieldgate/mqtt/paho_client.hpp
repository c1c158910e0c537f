#pragma once
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "fieldgate/mqtt/client.hpp"

namespace fieldgate::mqtt {

struct PahoLibrary;

/// Paho MQTT C asynchronous client. Paho calls back on its own threads; the callbacks only
/// copy what they got into a queue and wake the owner through an eventfd (event_fd()), so they
/// never block and never touch the owner's state.
class PahoClient final : public Client {
public:
    /// `uri` is tcp://host:port or ssl://host:port. The Paho handle is made anew by every
    /// connect(): an EnOS client id carries the sign's timestamp, and Paho fixes the client id
    /// at creation. Throws std::runtime_error when no eventfd can be had.
    explicit PahoClient(std::string uri);
    ~PahoClient() override;
    PahoClient(const PahoClient&) = delete;
    PahoClient& operator=(const PahoClient&) = delete;

    bool connect(const ConnectOptions& options) override;
    bool subscribe(const std::vector<std::string>& topics) override;
    bool publish(const std::string& topic, const std::string& payload) override;
    void disconnect() override;

    /// Readable when events wait; level-triggered until drain_events() empties the queue.
    int event_fd() const { return event_fd_; }
    /// Takes every queued event (call on the owner's thread).
    std::vector<Event> drain_events();

    struct Callbacks;  // the C trampolines; defined in the .cpp

private:
    void post(Event event) noexcept;
    void destroy_handle() noexcept;
    void set_nodelay() noexcept;

    void* handle_ = nullptr;  // MQTTAsync
    std::string uri_;
    int port_ = 0;
    const PahoLibrary* lib_;
    int event_fd_ = -1;
    std::mutex mutex_;
    std::deque<Event> events_;
};

}  // namespace fieldgate::mqtt
