#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

namespace fieldgate::daemon {

/// The control socket `fieldgatectl` talks to: a Unix stream socket; a client sends one request
/// line ("status", "values NAME", "dead-letters"), gets one reply (JSON) and the server closes.
/// Served on the main thread, so handlers read daemon state without locks.
///
/// Nothing a local client does can stall the caller's loop: every socket is non-blocking, a
/// request must arrive within `request_deadline_ms` of the connection and its reply be taken
/// within `reply_deadline_ms`, a request line is at most `max_request_bytes`, at most
/// `max_clients` connections are served at once. Whatever goes wrong is answered (best effort)
/// with one line of valid JSON, {"error":"..."}, before the connection is closed.
class ControlServer {
public:
    using Handler = std::function<std::string(const std::string& request)>;

    struct Limits {
        int request_deadline_ms = 2000;
        int reply_deadline_ms = 10000;
        std::size_t max_request_bytes = 4096;
        std::size_t max_clients = 64;
    };

    /// Binds `path` (mode 0660), replacing a stale socket file. Throws std::runtime_error when
    /// the path is held by a live server (another fieldgated) or cannot be bound.
    ControlServer(std::string path, Handler handler);
    ControlServer(std::string path, Handler handler, const Limits& limits);
    ~ControlServer();
    ControlServer(const ControlServer&) = delete;
    ControlServer& operator=(const ControlServer&) = delete;

    /// One descriptor for the caller's loop to watch (EPOLLIN): readable whenever a connection,
    /// a client or a deadline needs attention.
    int fd() const { return epoll_fd_; }
    /// Does what is ready (accepts, reads, answers, writes, expires) without blocking; call when
    /// fd() is readable. Calling it when nothing is ready is harmless.
    void on_readable();

    /// Connections open right now (tests, status).
    std::size_t clients() const { return clients_.size(); }

    /// `{"error":"<message>"}` plus a newline, with the message JSON-escaped.
    static std::string error_reply(const std::string& message);

private:
    enum class Phase {
        Reading,   // waiting for the request line
        Writing,   // the reply (or an error) is being sent; input is read and discarded
        Draining,  // all sent and our side shut down: waiting for the client's end of stream, so
                   // that closing with its unread bytes does not reset the reply away
    };
    struct Client {
        std::string in;
        std::string out;
        std::size_t sent = 0;
        Phase phase = Phase::Reading;
        bool peer_done = false;  // the client shut its writing side
        std::int64_t deadline_ms = 0;
    };
    void accept_all();
    void on_client(int fd, std::uint32_t events);
    void read_request(int fd, Client& c);
    bool discard_input(int fd, Client& c);  // false: error, close it
    void answer(int fd, Client& c, std::string reply);
    void write_reply(int fd, Client& c);
    void close_client(int fd);
    void expire();
    void arm_timer();

    std::string path_;
    Handler handler_;
    Limits limits_;
    int listen_fd_ = -1;
    int epoll_fd_ = -1;
    int timer_fd_ = -1;
    std::map<int, Client> clients_;
};

/// Client side: sends `request` to the socket at `path` and returns the reply. Throws
/// std::runtime_error with a message fit for users when no daemon answers.
std::string control_request(const std::string& path, const std::string& request, int timeout_ms = 5000);

}  // namespace fieldgate::daemon
