#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fieldgate/config/config.hpp"
#include "fieldgate/modbus/planner.hpp"

namespace fieldgate::modbus {

/// What one block's read returned. Register tables fill `registers` (count words); bit tables
/// fill `bits` (count entries, 0 or 1). `ok` false: the read failed, its points are left out.
struct BlockData {
    bool ok = false;
    std::vector<std::uint16_t> registers;
    std::vector<std::uint8_t> bits;
};

/// A device's measurepoints as one compact JSON object text, e.g. `{"Power":1.5,"temp":21}`,
/// ready to be embedded in a batch without re-parsing.
struct Measurepoints {
    std::string json;
    unsigned written = 0;     ///< points in json
    unsigned non_finite = 0;  ///< NaN/inf left out (not JSON)
    unsigned unreadable = 0;  ///< points whose block failed
};

/// Decodes every point from the blocks' data and writes the JSON object, following DESIGN.md
/// "Values in JSON". Pure. Keys in `points` order. Choices the design leaves open:
/// - `quality` writes `{"value":v,"quality":0}`; 0 means good (EnOS convention). A failed read
///   leaves the point out (counted in `unreadable`), so a written quality is always 0.
/// - `as=string` applies to each number: an array stays a JSON array of strings.
/// - `bit=N` on a register reads bit N (0 = least significant) of the raw word, as bool 0/1;
///   a bool on a register without `bit` is 1 when the word is non-zero.
/// - The byte order also applies to 16-bit values: BADC and DCBA swap their two bytes.
/// - string[N] bytes >= 0x80 are written as \u00XX (read as Latin-1), so the JSON stays UTF-8.
/// - A point whose block is missing, failed or too short is counted in `unreadable`; a point
///   with any NaN/inf element (after scale/offset) is left out whole and counted in `non_finite`.
Measurepoints encode_measurepoints(const std::vector<config::Point>& points, const Plan& plan,
                                   const std::vector<BlockData>& data);
/// The same, writing into `scratch` (a buffer the caller keeps from poll to poll, so a poll
/// allocates nothing but the result's text, at its exact size).
Measurepoints encode_measurepoints(const std::vector<config::Point>& points, const Plan& plan,
                                   const std::vector<BlockData>& data, std::string& scratch);

/// Appends the shortest text that reads back to the same value (std::to_chars). NaN and
/// infinities are not JSON: they are written as `null`; callers that must leave such values out
/// check std::isfinite first.
void append_number(std::string& out, double value);
void append_number(std::string& out, float value);

}  // namespace fieldgate::modbus
