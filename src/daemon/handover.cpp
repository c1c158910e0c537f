#include "fieldgate/daemon/handover.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

namespace fieldgate::daemon {

HandoverSignal::HandoverSignal() {
    fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd_ < 0) throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
}

HandoverSignal::~HandoverSignal() {
    if (fd_ >= 0) close(fd_);
}

void HandoverSignal::wake() {
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto n = write(fd_, &one, sizeof one);
}

void HandoverSignal::clear() {
    std::uint64_t count = 0;
    [[maybe_unused]] const auto n = read(fd_, &count, sizeof count);
}

}  // namespace fieldgate::daemon
