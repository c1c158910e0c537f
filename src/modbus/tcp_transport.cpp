#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <cstring>
#include <mutex>

#include "line_support.hpp"
#include "transports.hpp"

namespace fieldgate::modbus::detail {
namespace {

std::int64_t mono_now_ms() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1'000'000;
}

/// Modbus TCP through libmodbus. The socket is made and connected here (libmodbus's connect
/// cannot be interrupted) and handed to the context; interrupt() shuts it down, which wakes
/// libmodbus's select() at once.
class TcpTransport final : public ModbusTransport {
public:
    explicit TcpTransport(const config::Bus& bus)
        : host_(bus.host),
          port_(bus.port),
          connect_timeout_ms_(bus.timeout_ms),
          ctx_(modbus_new_tcp_pi(bus.host.c_str(), std::to_string(bus.port).c_str())) {
        if (!ctx_) throw std::runtime_error("bus=" + bus.name + ": cannot create a Modbus TCP context");
    }
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
        modbus_set_socket(ctx_.get(), -1);
        ::close(fd_);
        fd_ = -1;
    }

    Result read(std::uint8_t unit, const ReadBlock& block, std::int64_t timeout_ms, BlockData& out) override {
        if (stop_.raised()) return stopped();
        if (fd_ < 0) return Result{Outcome::Closed, 0, "not connected"};
        modbus_t* ctx = ctx_.get();
        modbus_set_slave(ctx, unit);
        set_response_timeout(ctx, timeout_ms);
        int rc = -1;
        switch (block.table) {
            case config::Table::Holding:
                out.registers.resize(block.count);
                rc = modbus_read_registers(ctx, block.start, block.count, out.registers.data());
                break;
            case config::Table::Input:
                out.registers.resize(block.count);
                rc = modbus_read_input_registers(ctx, block.start, block.count, out.registers.data());
                break;
            case config::Table::Coil:
                out.bits.resize(block.count);
                rc = modbus_read_bits(ctx, block.start, block.count, out.bits.data());
                break;
            case config::Table::Discrete:
                out.bits.resize(block.count);
                rc = modbus_read_input_bits(ctx, block.start, block.count, out.bits.data());
                break;
        }
        if (rc == block.count) return Result{};
        return failure(errno);
    }

    Result write(std::uint8_t unit, config::Table table, std::uint16_t address, const EncodedWrite& data,
                 std::int64_t timeout_ms) override {
        if (stop_.raised()) return stopped();
        if (fd_ < 0) return Result{Outcome::Closed, 0, "not connected"};
        modbus_t* ctx = ctx_.get();
        modbus_set_slave(ctx, unit);
        set_response_timeout(ctx, timeout_ms);
        int rc = -1;
        int want = 1;
        if (table == config::Table::Coil) {
            want = static_cast<int>(data.bits.size());
            rc = want == 1 ? modbus_write_bit(ctx, address, data.bits[0])
                           : modbus_write_bits(ctx, address, want, data.bits.data());
        } else {
            want = static_cast<int>(data.registers.size());
            rc = want == 1 ? modbus_write_register(ctx, address, data.registers[0])
                           : modbus_write_registers(ctx, address, want, data.registers.data());
        }
        if (rc == want) return Result{};
        return failure(errno);
    }

    // What a failed libmodbus call means, from its errno.
    Result failure(int err) {
        if (stop_.raised()) {
            close();
            return stopped();
        }
        if (is_exception_errno(err)) {
            const auto code = static_cast<std::uint8_t>(err - MODBUS_ENOBASE);
            return Result{Outcome::Exception, code, exception_name(code)};
        }
        if (err == ETIMEDOUT) return Result{Outcome::Timeout, 0, modbus_strerror(err)};
        if (err > EMBXGTAR && err <= EMBBADSLAVE) return Result{Outcome::Garbled, 0, modbus_strerror(err)};
        close();
        return Result{Outcome::Closed, 0, std::string("connection lost: ") + modbus_strerror(err)};
    }

    // TCP has no line to drain: a fresh connection is the one place a late reply cannot land.
    void flush() override { close(); }

    void interrupt() override {
        stop_.raise();
        std::lock_guard<std::mutex> lock(fd_mutex_);
        if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
    }

private:
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
        modbus_set_socket(ctx_.get(), s);
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
    ModbusPtr ctx_;
    StopSignal stop_;
    std::mutex fd_mutex_;  // fd_ changes under it; interrupt() reads it under it
    int fd_ = -1;
};

}  // namespace

void set_response_timeout(modbus_t* ctx, std::int64_t ms) {
    modbus_set_response_timeout(ctx, static_cast<std::uint32_t>(ms / 1000),
                                static_cast<std::uint32_t>((ms % 1000) * 1000));
}

std::unique_ptr<ModbusTransport> make_tcp_transport(const config::Bus& bus) {
    return std::make_unique<TcpTransport>(bus);
}

}  // namespace fieldgate::modbus::detail
