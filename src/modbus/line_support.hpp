#pragma once
// Private to src/modbus: what the libmodbus transports share.
#include <modbus.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <memory>
#include <stdexcept>
#include <string>

#include "fieldgate/modbus/transport.hpp"

namespace fieldgate::modbus::detail {

struct ModbusFree {
    void operator()(modbus_t* ctx) const noexcept { modbus_free(ctx); }
};
using ModbusPtr = std::unique_ptr<modbus_t, ModbusFree>;

/// The transport's "stop now": an eventfd a blocked poll() watches beside the line, and a flag.
class StopSignal {
public:
    StopSignal() : fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
        if (fd_ < 0) throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
    }
    ~StopSignal() { ::close(fd_); }
    StopSignal(const StopSignal&) = delete;
    StopSignal& operator=(const StopSignal&) = delete;

    /// Async-safe enough for any thread: one write and a store.
    void raise() noexcept {
        raised_ = true;
        const std::uint64_t one = 1;
        [[maybe_unused]] const auto n = ::write(fd_, &one, sizeof one);
    }
    bool raised() const noexcept { return raised_.load(); }
    int fd() const noexcept { return fd_; }

private:
    int fd_;
    std::atomic<bool> raised_{false};
};

inline Result stopped() {
    return Result{Outcome::Stopped, 0, "stopping"};
}

/// libmodbus reports a Modbus exception as errno MODBUS_ENOBASE + code.
inline bool is_exception_errno(int err) {
    return err > MODBUS_ENOBASE && err <= MODBUS_ENOBASE + 0x0B;
}

inline std::int64_t mono_now_ms() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1'000'000;
}

}  // namespace fieldgate::modbus::detail
