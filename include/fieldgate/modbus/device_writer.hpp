#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "fieldgate/config/config.hpp"
#include "fieldgate/modbus/encode.hpp"
#include "fieldgate/modbus/transport.hpp"

namespace fieldgate::modbus {

/// A checked set request for one device, handed to the device's bus thread.
struct WriteJob {
    std::uint64_t token = 0;  ///< the caller's, echoed in the outcome
    std::size_t device = 0;   ///< index into Config::devices
    std::vector<PointWrite> writes;
};

/// What became of a WriteJob (DESIGN.md "Writes from the cloud"): `code` 200 every point written
/// and read back equal; 503 the line is closed or the gateway is stopping; 504 the device did
/// not answer (or its reply was garbled); 500 the device refused (a Modbus exception, named in
/// `message`) or read back something else than was written. Nothing more is written after the
/// first failure; `written` lists the points (indexes into the model) already written.
struct WriteOutcome {
    std::uint64_t token = 0;
    std::size_t device = 0;
    int code = 200;
    std::string message;
    std::vector<std::size_t> written;
};

/// Where bus threads report finished writes. Thread-safe, must not block.
class WriteSink {
public:
    virtual ~WriteSink() = default;
    virtual void write_done(WriteOutcome outcome) = 0;
};

/// Performs a job's writes in order over an open transport, each read back (same table and
/// span) and compared word for word. No thread or socket of its own (unit-tested over a fake
/// transport). After a garbled reply or a time-out the line is flushed, as after a poll's.
WriteOutcome perform_writes(ModbusTransport& transport, const config::Model& model, std::uint8_t unit,
                            std::int64_t timeout_ms, const WriteJob& job);

}  // namespace fieldgate::modbus
