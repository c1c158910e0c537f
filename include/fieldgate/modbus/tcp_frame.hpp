#pragma once
#include <cstddef>
#include <cstdint>

#include "fieldgate/modbus/transport.hpp"

namespace fieldgate::modbus {

/// Modbus TCP framing (Modbus Messaging on TCP/IP Implementation Guide V1.0b, 3.1.3): the MBAP
/// header (transaction id, protocol id 0, the length of what follows) in front of the ADU
/// (unit + PDU, as rtu_read_request and rtu_write_request make it, without a CRC).
constexpr std::size_t kMbapLength = 6;             ///< the header before the unit id
constexpr std::size_t kTcpMaxFrame = 6 + 1 + 253;  ///< header, unit, the largest PDU

/// Writes the header and `adu` into `out` (room for kMbapLength + adu_length); returns the
/// frame's length.
std::size_t tcp_frame(std::uint16_t transaction, const std::uint8_t* adu, std::size_t adu_length, std::uint8_t* out);

/// Bytes the frame being received has in all, once its header is there: 0 while fewer than
/// kMbapLength bytes are. Any bytes give some length; check_tcp_frame judges them.
std::size_t tcp_expected_length(const std::uint8_t* data, std::size_t length);

/// Whether a frame `expected` bytes long (tcp_expected_length) can be a reply: at least a unit, a
/// function and one byte after the header, at most kTcpMaxFrame. Ok or Garbled ("frame length N").
/// Judged as soon as the header is in, so a receiver never waits for a frame that cannot be.
Result check_tcp_length(std::size_t expected);

/// Checks the header of a reply frame of exactly `length` bytes: our transaction id, protocol 0,
/// a length that holds at least a unit, a function and one byte. Ok or Garbled with the reason.
/// The ADU after it is parse_read_adu's or parse_write_adu's. Pure.
Result check_tcp_frame(const std::uint8_t* data, std::size_t length, std::uint16_t transaction);

}  // namespace fieldgate::modbus
