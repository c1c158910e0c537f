#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "fieldgate/config/config.hpp"
#include "fieldgate/util/json_reader.hpp"

namespace fieldgate::modbus {

/// What goes on the wire for one point: `registers` (holding, FC6 for one word, FC16 for
/// more) or `bits` (coil, FC5 for one, FC15 for more), starting at the point's address.
struct EncodedWrite {
    std::vector<std::uint16_t> registers;
    std::vector<std::uint8_t> bits;
};

struct EncodeResult {
    bool ok = false;
    std::string error;  ///< why the value was refused, for the 400 reply's message
    EncodedWrite data;
};

/// The exact inverse of the decoder (decode.hpp) for one point: applies the inverse of
/// scale/offset, checks the result fits the register type (a value out of range, not a whole
/// number for an integer type, or not representable at the point's scale is refused, never
/// wrapped or rounded away), and lays the words out in the point's byte order. Pure.
/// Refuses: a value of the wrong JSON type for the point (a number for `as=string` points and
/// strings, a string for numbers), an array for a scalar point or the wrong element count,
/// string text longer than the point's registers or with characters beyond Latin-1, and points
/// the decoder reads but no write can reproduce (`bit=N`, input and discrete tables).
/// `value` is the request's JSON value for the point: a number, a string (string points and
/// `as=string` points), true/false or 0/1 (coils), or an array of those for array points.
EncodeResult encode_write(const config::Point& point, const util::JsonValue& value);

/// One point of a checked set request, ready for the bus: `point` indexes the device's points.
struct PointWrite {
    std::size_t point = 0;
    EncodedWrite data;
};

/// A set request checked whole before anything is written. `ok` false: nothing may be written,
/// `error` names the first point at fault (unknown, not writable, wrong type, out of range).
struct WritePlan {
    bool ok = false;
    std::string error;
    std::vector<PointWrite> writes;  ///< in the order the request gave them
};

/// Checks every point of a set request's `params` (a JSON object of point id -> value) against
/// the device's points and encodes each value. Pure.
WritePlan check_set_request(const std::vector<config::Point>& points, const util::JsonValue& params);

}  // namespace fieldgate::modbus
