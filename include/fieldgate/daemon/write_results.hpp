#pragma once
#include <deque>
#include <mutex>
#include <vector>

#include "fieldgate/modbus/device_writer.hpp"

namespace fieldgate::daemon {

/// The hand-over of finished writes from bus threads to the main thread. Unlike readings (drained
/// on the commit timer), every write outcome wakes the main loop at once: a reply is waiting.
class WriteResults final : public modbus::WriteSink {
public:
    WriteResults();
    ~WriteResults() override;
    WriteResults(const WriteResults&) = delete;
    WriteResults& operator=(const WriteResults&) = delete;

    void write_done(modbus::WriteOutcome outcome) override;
    /// Takes everything reported (main thread).
    std::vector<modbus::WriteOutcome> drain();
    int event_fd() const { return event_fd_; }

private:
    int event_fd_ = -1;
    std::mutex mutex_;
    std::deque<modbus::WriteOutcome> items_;
};

}  // namespace fieldgate::daemon
