#include "fieldgate/daemon/write_results.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace fieldgate::daemon {

WriteResults::WriteResults() {
    event_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (event_fd_ < 0) throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
}

WriteResults::~WriteResults() {
    if (event_fd_ >= 0) close(event_fd_);
}

void WriteResults::write_done(modbus::WriteOutcome outcome) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        items_.push_back(std::move(outcome));
    }
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto n = write(event_fd_, &one, sizeof one);
}

std::vector<modbus::WriteOutcome> WriteResults::drain() {
    std::uint64_t count = 0;
    [[maybe_unused]] const auto n = read(event_fd_, &count, sizeof count);
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<modbus::WriteOutcome> out(std::make_move_iterator(items_.begin()),
                                          std::make_move_iterator(items_.end()));
    items_.clear();
    return out;
}

}  // namespace fieldgate::daemon
