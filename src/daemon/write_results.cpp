#include "fieldgate/daemon/write_results.hpp"

#include <utility>

namespace fieldgate::daemon {

void WriteResults::write_done(modbus::WriteOutcome outcome) {
    items_.put(std::move(outcome));
    items_.wake();
}

}  // namespace fieldgate::daemon
