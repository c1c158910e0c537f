#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <cstring>
#include <mutex>

#include "fieldgate/modbus/rtu_frame.hpp"
#include "fieldgate/modbus/tcp_frame.hpp"
#include "line_support.hpp"
#include "transports.hpp"

namespace fieldgate::modbus::detail {
namespace {

/// Modbus TCP, framed here (tcp_frame.hpp) on a non-blocking socket: a request is one send(), its
/// reply usually one poll() and one recv() (libmodbus takes three selects and three recvs, the
/// header, the function and the rest, each). The socket is made and connected here too, so a
/// hanging connect can be interrupted: the connect wait polls the stop signal beside the socket,
/// and interrupt() shuts a connected socket down, which wakes a wait for a reply.
class TcpTransport final : public ModbusTransport {
public:
    explicit TcpTransport(const config::Bus& bus)
        : host_(bus.host), port_(bus.port), connect_timeout_ms_(bus.timeout_ms) {}
    ~TcpTransport() override { close(); }

    Result open() override {
        if (stop_.raised()) return stopped();
        if (fd_ >= 0) return Result{};
        addrinfo hints{};
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        addrinfo* found = nullptr;
        const std::string port = std::to_string(port_);
        if (const int rc = ::getaddrinfo(host_.c_str(), port.c_str(), &hints, &found); rc != 0)
            return Result{Outcome::Closed, 0, "cannot resolve " + host_ + ": " + ::gai_strerror(rc)};
        std::string error = "no address for " + host_;
        Result r{Outcome::Closed, 0, {}};
        for (const addrinfo* a = found; a; a = a->ai_next) {
            r = connect_one(a, error);
            if (r.outcome != Outcome::Closed) break;
        }
        ::freeaddrinfo(found);
        if (r.outcome == Outcome::Closed) r.detail = error;
        return r;
    }

    bool is_open() const override { return fd_ >= 0; }

    void close() override {
        std::lock_guard<std::mutex> lock(fd_mutex_);
        if (fd_ < 0) return;
        ::close(fd_);
        fd_ = -1;
    }

    Result read(std::uint8_t unit, const ReadBlock& block, std::int64_t timeout_ms, BlockData& out) override {
        const auto adu = rtu_read_request(unit, block);
        std::size_t have = 0;
        Result r = exchange(adu.data(), adu.size(), timeout_ms, have);
        if (!r.ok()) return r;
        return parse_read_adu(reply_ + kMbapLength, have - kMbapLength, unit, block, out, false);
    }

    Result write(std::uint8_t unit, config::Table table, std::uint16_t address, const EncodedWrite& data,
                 std::int64_t timeout_ms) override {
        const auto adu = rtu_write_request(unit, table, address, data);
        if (adu.size() + kMbapLength > kTcpMaxFrame)
            return Result{Outcome::Garbled, 0, "request too long for one Modbus frame"};
        std::size_t have = 0;
        Result r = exchange(adu.data(), adu.size(), timeout_ms, have);
        if (!r.ok()) return r;
        return parse_write_adu(reply_ + kMbapLength, have - kMbapLength, unit, table, address, data, false);
    }

    // TCP has no line to drain: a fresh connection is the one place a late reply cannot land.
    void flush() override { close(); }

    void interrupt() override {
        stop_.raise();
        std::lock_guard<std::mutex> lock(fd_mutex_);
        if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
    }

private:
    /// Sends one request and receives the frame that answers it into reply_: Ok with `have`
    /// bytes, a whole frame whose header is ours; Timeout, Garbled, Closed or Stopped.
    Result exchange(const std::uint8_t* adu, std::size_t adu_length, std::int64_t timeout_ms, std::size_t& have) {
        if (stop_.raised()) return stopped();
        if (fd_ < 0) return Result{Outcome::Closed, 0, "not connected"};
        std::uint8_t request[kTcpMaxFrame];
        const std::uint16_t transaction = ++transaction_;
        const std::size_t length = tcp_frame(transaction, adu, adu_length, request);
        const std::int64_t deadline = mono_now_ms() + timeout_ms;
        Result r = send_all(request, length, deadline);
        if (r.ok()) r = wait(POLLIN, deadline);  // the device has not answered yet: recv() would not do
        if (!r.ok()) return r;
        have = 0;
        for (;;) {
            const std::size_t expected = tcp_expected_length(reply_, have);
            if (expected != 0) {
                if (Result fits = check_tcp_length(expected); !fits.ok()) return fits;
                if (have >= expected) break;
            }
            // Asks for all the room there is: the whole reply in one recv() as a rule.
            const auto n = ::recv(fd_, reply_ + have, kTcpMaxFrame - have, 0);
            if (n > 0) {
                have += static_cast<std::size_t>(n);
                continue;
            }
            if (n == 0) return lost("closed by the device");
            if (errno == EINTR) continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) return lost(std::strerror(errno));
            r = wait(POLLIN, deadline);
            if (!r.ok()) return r;
        }
        // One request is out at a time, so bytes beyond the frame are a device out of step: Garbled
        // (check_tcp_frame wants the exact length), and the caller's flush() starts a new connection.
        const std::size_t expected = tcp_expected_length(reply_, have);
        if (have > expected)
            return Result{Outcome::Garbled, 0, std::to_string(have - expected) + " stray bytes after the reply"};
        return check_tcp_frame(reply_, have, transaction);
    }

    Result send_all(const std::uint8_t* data, std::size_t length, std::int64_t deadline) {
        std::size_t sent = 0;
        while (sent < length) {
            const auto n = ::send(fd_, data + sent, length - sent, MSG_NOSIGNAL);
            if (n > 0) {
                sent += static_cast<std::size_t>(n);
                continue;
            }
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return lost(std::strerror(errno));
            Result r = wait(POLLOUT, deadline);
            if (!r.ok()) return r;
        }
        return Result{};
    }

    /// Waits until the socket is ready for `events` or the deadline: Ok, Timeout or Stopped;
    /// an error on the socket is left to the send or recv that follows.
    Result wait(short events, std::int64_t deadline) {
        for (;;) {
            const std::int64_t left = deadline - mono_now_ms();
            if (left <= 0) return Result{Outcome::Timeout, 0, "timeout"};
            // The socket alone: interrupt() shuts it down, which wakes this poll() at once (a
            // connected socket; the connect wait watches the stop signal beside it).
            pollfd fds{fd_, events, 0};
            const int n = ::poll(&fds, 1, static_cast<int>(left));
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) return lost(std::string("poll: ") + std::strerror(errno));
            if (stop_.raised()) {
                close();
                return stopped();
            }
            if (n > 0) return Result{};
        }
    }

    Result lost(const std::string& why) {
        if (stop_.raised()) {
            close();
            return stopped();
        }
        close();
        return Result{Outcome::Closed, 0, "connection lost: " + why};
    }

    Result connect_one(const addrinfo* a, std::string& error) {
        const int s = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
        if (s < 0) {
            error = std::string("socket: ") + std::strerror(errno);
            return Result{Outcome::Closed, 0, {}};
        }
        {
            // Published before connect() so interrupt() can shut a hanging connect down too.
            std::lock_guard<std::mutex> lock(fd_mutex_);
            if (stop_.raised()) {
                ::close(s);
                return stopped();
            }
            fd_ = s;
        }
        const std::string where = "connect to " + host_ + ":" + std::to_string(port_) + " failed: ";
        int err = 0;
        if (::connect(s, a->ai_addr, a->ai_addrlen) != 0) err = errno;
        if (err == EINPROGRESS) err = wait_connected(s);
        if (stop_.raised()) {
            close();
            return stopped();
        }
        if (err != 0) {
            error = where + (err == ETIMEDOUT ? "timed out after " + std::to_string(connect_timeout_ms_) + " ms"
                                              : std::string(std::strerror(err)));
            close();
            return Result{Outcome::Closed, 0, {}};
        }
        const int one = 1;
        ::setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        return Result{};
    }

    int wait_connected(int s) const {
        const std::int64_t deadline = mono_now_ms() + connect_timeout_ms_;
        for (;;) {
            const std::int64_t left = deadline - mono_now_ms();
            if (left <= 0) return ETIMEDOUT;
            pollfd fds[2] = {{s, POLLOUT, 0}, {stop_.fd(), POLLIN, 0}};
            const int n = ::poll(fds, 2, static_cast<int>(left));
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) return errno;
            if (n == 0) return ETIMEDOUT;
            if (fds[1].revents != 0) return ECANCELED;
            int so_error = 0;
            socklen_t len = sizeof so_error;
            if (::getsockopt(s, SOL_SOCKET, SO_ERROR, &so_error, &len) != 0) return errno;
            return so_error;
        }
    }

    std::string host_;
    std::uint16_t port_;
    std::int64_t connect_timeout_ms_;
    StopSignal stop_;
    std::mutex fd_mutex_;  // fd_ changes under it; interrupt() reads it under it
    int fd_ = -1;
    std::uint16_t transaction_ = 0;
    std::uint8_t reply_[kTcpMaxFrame] = {};
};

}  // namespace

std::unique_ptr<ModbusTransport> make_tcp_transport(const config::Bus& bus) {
    return std::make_unique<TcpTransport>(bus);
}

}  // namespace fieldgate::modbus::detail
