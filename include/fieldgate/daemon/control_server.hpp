#pragma once
#include <functional>
#include <string>

namespace fieldgate::daemon {

/// The control socket `fieldgatectl` talks to: a Unix stream socket; a client sends one request
/// line ("status", "values NAME", "dead-letters"), gets one reply (JSON) and the server closes.
/// Served on the main thread, so handlers read daemon state without locks.
class ControlServer {
public:
    using Handler = std::function<std::string(const std::string& request)>;

    /// Binds `path` (mode 0660), replacing a stale socket file. Throws std::runtime_error when
    /// the path is held by a live server (another fieldgated) or cannot be bound.
    ControlServer(std::string path, Handler handler);
    ~ControlServer();
    ControlServer(const ControlServer&) = delete;
    ControlServer& operator=(const ControlServer&) = delete;

    int fd() const { return fd_; }
    /// Accepts and serves one client (call when fd() is readable).
    void on_readable();

private:
    std::string path_;
    Handler handler_;
    int fd_ = -1;
};

/// Client side: sends `request` to the socket at `path` and returns the reply. Throws
/// std::runtime_error with a message fit for users when no daemon answers.
std::string control_request(const std::string& path, const std::string& request, int timeout_ms = 5000);

}  // namespace fieldgate::daemon
