#pragma once
#include <vector>

#include "fieldgate/daemon/handover.hpp"
#include "fieldgate/modbus/device_writer.hpp"

namespace fieldgate::daemon {

/// The hand-over of finished writes from bus threads to the main thread. Unlike readings (drained
/// on the commit timer), every write outcome wakes the main loop at once: a reply is waiting.
class WriteResults final : public modbus::WriteSink {
public:
    void write_done(modbus::WriteOutcome outcome) override;
    /// Takes everything reported (main thread).
    std::vector<modbus::WriteOutcome> drain() { return items_.drain(); }
    int event_fd() const { return items_.fd(); }

private:
    Handover<modbus::WriteOutcome> items_;
};

}  // namespace fieldgate::daemon
