#include "fieldgate/daemon/reading_queue.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include "fieldgate/util/clock.hpp"

namespace fieldgate::daemon {

ReadingQueue::ReadingQueue(std::size_t capacity)
    : capacity_(capacity), wake_at_(std::max<std::size_t>(1, std::min(kWakeBatch, capacity / 2))) {
    event_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (event_fd_ < 0) throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
}

ReadingQueue::~ReadingQueue() {
    if (event_fd_ >= 0) close(event_fd_);
}

void ReadingQueue::push(modbus::Reading reading) {
    if (reading.mono_ms == 0) {
        // The poll stamped the wall clock when its first reply came; the age since then is short
        // (one poll) unless the wall clock was stepped in between: bounded to [0, 60 s].
        const util::SystemClock clock;
        const std::int64_t age = std::clamp<std::int64_t>(clock.wall_ms() - reading.time_ms, 0, 60'000);
        reading.mono_ms = clock.mono_ms() - age;
    }
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (items_.size() >= capacity_) {
            ++dropped_;
            return;
        }
        items_.push_back(std::move(reading));
        if (items_.size() != wake_at_) return;
    }
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto n = write(event_fd_, &one, sizeof one);
}

std::vector<modbus::Reading> ReadingQueue::drain() {
    std::uint64_t count = 0;
    [[maybe_unused]] const auto n = read(event_fd_, &count, sizeof count);
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<modbus::Reading> out(std::make_move_iterator(items_.begin()), std::make_move_iterator(items_.end()));
    items_.clear();
    return out;
}

}  // namespace fieldgate::daemon
