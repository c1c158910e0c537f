#pragma once
#include <atomic>
#include <cstddef>
#include <vector>

#include "fieldgate/daemon/handover.hpp"
#include "fieldgate/modbus/reading.hpp"

namespace fieldgate::daemon {

/// The bounded hand-over from bus threads to the main thread. push() never blocks on the
/// consumer: when the queue is full (the main loop is stuck) the reading is dropped and
/// counted. The main loop drains it on its commit timer; event_fd() becomes readable only when
/// kWakeBatch readings wait (or half the capacity, if smaller), so a steady flow of readings
/// costs no wake-up of the main thread per reading, and a fast one (a bus polling back to back)
/// is taken while its readings are still in the caches instead of piling up for a whole commit
/// interval (measured: bench/RESULTS.md, bench/footprint and bench/acquisition).
class ReadingQueue final : public modbus::ReadingSink {
public:
    /// Readings that wake the consumer: a few hundred KiB of measurepoints at most.
    static constexpr std::size_t kWakeBatch = 256;

    explicit ReadingQueue(std::size_t capacity);

    void push(modbus::Reading reading) override;
    /// Takes everything queued (main thread).
    std::vector<modbus::Reading> drain() { return items_.drain(); }
    int event_fd() const { return items_.fd(); }
    std::uint64_t dropped() const { return dropped_.load(); }

private:
    std::size_t capacity_;
    std::size_t wake_at_;  ///< queue length that makes event_fd() readable
    Handover<modbus::Reading> items_;
    std::atomic<std::uint64_t> dropped_{0};
};

}  // namespace fieldgate::daemon
