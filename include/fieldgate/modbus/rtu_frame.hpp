#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fieldgate/modbus/transport.hpp"

namespace fieldgate::modbus {

/// Modbus RTU CRC-16 (polynomial 0xA001, initial 0xFFFF). On the wire the low byte goes first.
std::uint16_t rtu_crc(const std::uint8_t* data, std::size_t length);

/// The function code that reads `table`: 1 coils, 2 discrete inputs, 3 holding, 4 input registers.
std::uint8_t read_function(config::Table table);

/// The request without its CRC: unit, function, start and count (big-endian). libmodbus's
/// modbus_send_raw_request adds the CRC and drives RTS.
std::array<std::uint8_t, 6> rtu_read_request(std::uint8_t unit, const ReadBlock& block);

/// Bytes the reply being received will have in all, once enough of it is there to tell:
/// 0 while that is not known yet (fewer than 3 bytes). An exception reply is 5 bytes; a read
/// reply 5 + its byte count; a write reply (FC5/6/15/16) 8. Works on any bytes (garbage gives some length; the CRC
/// refuses it).
std::size_t rtu_expected_length(const std::uint8_t* data, std::size_t length);

/// Checks a reply's ADU (unit + PDU, no checksum: what RTU carries inside its CRC and TCP behind
/// its MBAP header) to a read of `block` from `unit`, exactly `length` bytes as its function and
/// byte count say, and decodes it into `out`. Ok; Exception; Garbled with the reason. A TCP reply
/// is matched by its transaction id, and gateways answer with unit ids of their own (0, 255):
/// TCP passes check_unit = false. Pure.
Result parse_read_adu(const std::uint8_t* adu, std::size_t length, std::uint8_t unit, const ReadBlock& block,
                      BlockData& out, bool check_unit);

/// The same for the ADU of a reply to a write (see parse_rtu_write_reply).
Result parse_write_adu(const std::uint8_t* adu, std::size_t length, std::uint8_t unit, config::Table table,
                       std::uint16_t address, const EncodedWrite& written, bool check_unit);

/// Checks a complete reply frame (CRC included) to a read of `block` from `unit` and decodes it
/// into `out`. Ok; Exception (the code in Result::exception); Garbled with the reason: CRC error,
/// short frame, reply from another unit, wrong function, wrong byte count. Pure.
Result parse_rtu_reply(const std::uint8_t* data, std::size_t length, std::uint8_t unit, const ReadBlock& block,
                       BlockData& out);

/// The write request without its CRC: FC5 (one coil), FC15 (coils), FC6 (one register) or FC16
/// (registers) by `table` and the size of `data`.
std::vector<std::uint8_t> rtu_write_request(std::uint8_t unit, config::Table table, std::uint16_t address,
                                            const EncodedWrite& data);

/// Checks a complete reply frame to that write: the device echoes function and address (and
/// the value for FC5/FC6, the count for FC15/FC16). Ok, Exception or Garbled like
/// parse_rtu_reply. Pure.
Result parse_rtu_write_reply(const std::uint8_t* data, std::size_t length, std::uint8_t unit, config::Table table,
                             std::uint16_t address, const EncodedWrite& written);

}  // namespace fieldgate::modbus
