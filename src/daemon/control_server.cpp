#include "fieldgate/daemon/control_server.hpp"

#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "fieldgate/util/json.hpp"
#include "fieldgate/util/log.hpp"

namespace fieldgate::daemon {
namespace {

sockaddr_un address_of(const std::string& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path) throw std::runtime_error("control socket path too long: " + path);
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    return addr;
}

class Fd {
public:
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() {
        if (fd_ >= 0) close(fd_);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }
    int release() {
        const int f = fd_;
        fd_ = -1;
        return f;
    }

private:
    int fd_;
};

std::int64_t mono_ms() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

void epoll_set(int ep, int op, int fd, std::uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    if (epoll_ctl(ep, op, fd, &ev) != 0 && op != EPOLL_CTL_DEL)
        throw std::runtime_error(std::string("control socket: epoll_ctl: ") + std::strerror(errno));
}

// At most this many connections are accepted per call, so a flood of connects cannot keep the
// caller's loop in accept(); the rest wait in the backlog for the next call.
constexpr int kAcceptPerCall = 16;
constexpr std::size_t kMaxReplyBytes = 64U << 20;  // client side: a reply larger is not fieldgated's

}  // namespace

std::string ControlServer::error_reply(const std::string& message) {
    std::string out = "{\"error\":";
    util::append_json_string(out, message, util::JsonBytes::Latin1);
    out += "}\n";
    return out;
}

ControlServer::ControlServer(std::string path, Handler handler)
    : ControlServer(std::move(path), std::move(handler), Limits{}) {}

ControlServer::ControlServer(std::string path, Handler handler, const Limits& limits)
    : path_(std::move(path)), handler_(std::move(handler)), limits_(limits) {
    const sockaddr_un addr = address_of(path_);
    Fd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (fd.get() < 0) throw std::runtime_error(std::string("control socket: ") + std::strerror(errno));
    if (bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        if (errno != EADDRINUSE) throw std::runtime_error("control socket " + path_ + ": " + std::strerror(errno));
        // Stale file of a daemon that died, or a live one? Ask it.
        Fd probe(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (connect(probe.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0)
            throw std::runtime_error("control socket " + path_ + " is served by another running fieldgated");
        unlink(path_.c_str());
        if (bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0)
            throw std::runtime_error("control socket " + path_ + ": " + std::strerror(errno));
    }
    chmod(path_.c_str(), 0660);
    if (listen(fd.get(), 32) != 0) throw std::runtime_error("control socket " + path_ + ": " + std::strerror(errno));
    Fd ep(epoll_create1(EPOLL_CLOEXEC));
    Fd timer(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
    if (ep.get() < 0 || timer.get() < 0)
        throw std::runtime_error(std::string("control socket: ") + std::strerror(errno));
    epoll_set(ep.get(), EPOLL_CTL_ADD, fd.get(), EPOLLIN);
    epoll_set(ep.get(), EPOLL_CTL_ADD, timer.get(), EPOLLIN);
    listen_fd_ = fd.release();
    epoll_fd_ = ep.release();
    timer_fd_ = timer.release();
}

ControlServer::~ControlServer() {
    for (const auto& c : clients_)
        close(c.first);
    if (timer_fd_ >= 0) close(timer_fd_);
    if (epoll_fd_ >= 0) close(epoll_fd_);
    if (listen_fd_ >= 0) {
        close(listen_fd_);
        unlink(path_.c_str());
    }
}

void ControlServer::on_readable() {
    epoll_event events[32];
    const int n = epoll_wait(epoll_fd_, events, 32, 0);
    for (int i = 0; i < n; ++i) {
        const int fd = events[i].data.fd;
        if (fd == listen_fd_) {
            accept_all();
        } else if (fd == timer_fd_) {
            std::uint64_t expirations = 0;
            while (read(timer_fd_, &expirations, sizeof expirations) > 0) {
            }
        } else if (clients_.count(fd) != 0) {  // (closed earlier in this round: skip)
            on_client(fd, events[i].events);
        }
    }
    expire();
    arm_timer();
}

void ControlServer::accept_all() {
    for (int i = 0; i < kAcceptPerCall; ++i) {
        const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            return;  // EAGAIN: none left; EMFILE and the like: the next call tries again
        }
        if (clients_.size() >= limits_.max_clients) {
            const std::string busy =
                error_reply("busy: " + std::to_string(clients_.size()) + " control connections open; try again");
            (void)send(fd, busy.data(), busy.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
            close(fd);
            continue;
        }
        Client& c = clients_[fd];
        c.deadline_ms = mono_ms() + limits_.request_deadline_ms;
        try {
            epoll_set(epoll_fd_, EPOLL_CTL_ADD, fd, EPOLLIN);
        } catch (const std::exception&) {
            clients_.erase(fd);
            close(fd);
            throw;
        }
    }
}

void ControlServer::on_client(int fd, std::uint32_t events) {
    Client& c = clients_.at(fd);
    switch (c.phase) {
        case Phase::Reading:
            read_request(fd, c);
            return;
        case Phase::Writing:
            if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0 && !discard_input(fd, c)) {
                close_client(fd);
                return;
            }
            write_reply(fd, c);
            return;
        case Phase::Draining:
            if (!discard_input(fd, c) || c.peer_done) close_client(fd);
            return;
    }
}

void ControlServer::read_request(int fd, Client& c) {
    char buf[1024];
    for (;;) {
        const ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n > 0) {
            c.in.append(buf, static_cast<std::size_t>(n));
            if (c.in.size() > limits_.max_request_bytes || c.in.find('\n') != std::string::npos) break;
            continue;
        }
        if (n == 0) {
            c.peer_done = true;
            break;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        close_client(fd);  // reset by the peer and the like
        return;
    }
    const auto nl = c.in.find('\n');
    std::string request;
    if (nl != std::string::npos && nl <= limits_.max_request_bytes) {
        request = c.in.substr(0, nl);
        if (!request.empty() && request.back() == '\r') request.pop_back();
    } else if (c.in.size() > limits_.max_request_bytes) {
        answer(fd, c, error_reply("request longer than " + std::to_string(limits_.max_request_bytes) + " bytes"));
        return;
    } else if (c.peer_done && !c.in.empty()) {
        request = c.in;  // a request without its newline, then the end of the stream: all of it
    } else {
        if (c.peer_done) close_client(fd);  // connected and left without a word
        return;
    }
    std::string reply;
    try {
        reply = handler_(request);
    } catch (const std::exception& e) {
        reply = error_reply(e.what());
    }
    answer(fd, c, std::move(reply));
}

bool ControlServer::discard_input(int fd, Client& c) {
    char buf[4096];
    for (std::size_t total = 0; total < (1U << 20);) {  // bounded: a flood waits for the next call
        const ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n > 0) {
            total += static_cast<std::size_t>(n);
            continue;
        }
        if (n == 0) {
            c.peer_done = true;
            return true;
        }
        if (errno == EINTR) continue;
        return errno == EAGAIN || errno == EWOULDBLOCK;
    }
    return true;
}

void ControlServer::answer(int fd, Client& c, std::string reply) {
    if (reply.empty() || reply.back() != '\n') reply += '\n';
    c.out = std::move(reply);
    c.in.clear();
    c.in.shrink_to_fit();
    c.phase = Phase::Writing;
    c.deadline_ms = mono_ms() + limits_.reply_deadline_ms;
    epoll_set(epoll_fd_, EPOLL_CTL_MOD, fd, EPOLLIN | EPOLLOUT);
    write_reply(fd, c);
}

void ControlServer::write_reply(int fd, Client& c) {
    while (c.sent < c.out.size()) {
        const ssize_t n = send(fd, c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            c.sent += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;  // the rest when writable
        close_client(fd);                                                // the client went away
        return;
    }
    // All sent: end our side; the client reads to the end and closes, and so do we.
    shutdown(fd, SHUT_WR);
    if (c.peer_done) {
        close_client(fd);
        return;
    }
    c.out.clear();
    c.out.shrink_to_fit();
    c.phase = Phase::Draining;
    epoll_set(epoll_fd_, EPOLL_CTL_MOD, fd, EPOLLIN);
}

void ControlServer::close_client(int fd) {
    epoll_set(epoll_fd_, EPOLL_CTL_DEL, fd, 0);
    close(fd);
    clients_.erase(fd);
}

void ControlServer::expire() {
    const std::int64_t now = mono_ms();
    std::vector<int> late;
    for (const auto& c : clients_)
        if (c.second.deadline_ms <= now) late.push_back(c.first);
    for (int fd : late) {
        auto it = clients_.find(fd);
        if (it == clients_.end()) continue;
        Client& c = it->second;
        switch (c.phase) {
            case Phase::Reading:  // told why, in JSON, then closed like any answered client
                answer(fd, c,
                       error_reply("no complete request line within " + std::to_string(limits_.request_deadline_ms) +
                                   " ms"));
                break;
            case Phase::Writing:
                util::log_warning("control socket: a client did not take its reply within " +
                                  std::to_string(limits_.reply_deadline_ms) + " ms; closed");
                close_client(fd);
                break;
            case Phase::Draining:
                close_client(fd);
                break;
        }
    }
}

void ControlServer::arm_timer() {
    itimerspec spec{};  // all zero: disarmed
    if (!clients_.empty()) {
        std::int64_t next = clients_.begin()->second.deadline_ms;
        for (const auto& c : clients_)
            next = std::min(next, c.second.deadline_ms);
        spec.it_value.tv_sec = static_cast<time_t>(next / 1000);
        spec.it_value.tv_nsec = static_cast<long>(next % 1000) * 1'000'000L;
        if (spec.it_value.tv_sec == 0 && spec.it_value.tv_nsec == 0) spec.it_value.tv_nsec = 1;
    }
    timerfd_settime(timer_fd_, TFD_TIMER_ABSTIME, &spec, nullptr);
}

std::string control_request(const std::string& path, const std::string& request, int timeout_ms) {
    const sockaddr_un addr = address_of(path);
    Fd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (fd.get() < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    if (connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        const int err = errno;
        if (err == ENOENT || err == ECONNREFUSED)
            throw std::runtime_error("fieldgated is not running (no daemon answers on " + path + ")");
        throw std::runtime_error("cannot reach fieldgated on " + path + ": " + std::strerror(err));
    }
    // One deadline for the whole exchange, however the daemon trickles its answer.
    const std::int64_t deadline = mono_ms() + timeout_ms;
    auto wait_for = [&](short what) {
        for (;;) {
            const std::int64_t left = deadline - mono_ms();
            if (left <= 0)
                throw std::runtime_error("no reply from fieldgated on " + path + " within " +
                                         std::to_string(timeout_ms) + " ms");
            pollfd p{fd.get(), what, 0};
            const int r = poll(&p, 1, static_cast<int>(left));
            if (r > 0) return;
            if (r < 0 && errno != EINTR) throw std::runtime_error(std::string("poll: ") + std::strerror(errno));
        }
    };
    const std::string line = request + "\n";
    std::size_t off = 0;
    while (off < line.size()) {
        wait_for(POLLOUT);
        const ssize_t n = send(fd.get(), line.data() + off, line.size() - off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (n <= 0) throw std::runtime_error("cannot send to fieldgated on " + path + ": " + std::strerror(errno));
        off += static_cast<std::size_t>(n);
    }
    std::string reply;
    char buf[4096];
    for (;;) {
        wait_for(POLLIN);
        const ssize_t n = recv(fd.get(), buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (n < 0) throw std::runtime_error("no reply from fieldgated on " + path + ": " + std::strerror(errno));
        if (n == 0) break;
        reply.append(buf, static_cast<std::size_t>(n));
        if (reply.size() > kMaxReplyBytes) throw std::runtime_error("reply from fieldgated on " + path + " too large");
    }
    return reply;
}

}  // namespace fieldgate::daemon
