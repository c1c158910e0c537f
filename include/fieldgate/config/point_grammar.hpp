#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fieldgate/config/config.hpp"

namespace fieldgate::config {

/// Largest array, TYPE[N]: EnOS caps array measurepoints at 128 elements.
inline constexpr unsigned kMaxArrayLength = 128;
/// A register point is read by one FC3/FC4 request, which carries at most 125 registers, so no
/// point may be wider (this caps string[N] and e.g. float64[N] at N = 31).
inline constexpr unsigned kMaxPointRegisters = 125;

struct PointParse {
    std::optional<Point> point;       ///< set when `errors` is empty
    std::vector<std::string> errors;  ///< each `what is wrong; what is accepted`, no location prefix
};

/// Parses one model line's value, `<table>:<address> <type> [order] [scale=F] [offset=F]
/// [bit=N] [quality] [as=string]`, tokens after the type in any order. Every problem is
/// reported, not just the first. Rules beyond the grammar:
/// - id: [A-Za-z_][A-Za-z0-9_]*.
/// - address: 0-based, decimal or 0x hex; the whole point must fit in 0..65535 of its table.
/// - coil/discrete hold only bool (one bit per element); register tables hold every type but
///   bool (a bit of a register is `uint16 bit=N`).
/// - order: all four on 32/64-bit types. On int16/uint16 only ABCD and BADC, where BADC swaps
///   the two bytes of the register (CDAB/DCBA would reorder words a 16-bit value does not
///   have). No order on bool or string[N].
/// - bit=N (0..15): only a scalar int16/uint16 on a register table; the value is that bit, 0 or
///   1, so scale/offset are refused with it.
/// - scale/offset: finite numbers, not on bool or string[N]. as=string: not on string[N].
/// - string[N]: N registers of two characters each (1..125); arrays TYPE[N]: N 1..128 and at
///   most 125 registers in all.
PointParse parse_point(std::string_view id, std::string_view spec);

/// True for [A-Za-z_][A-Za-z0-9_]*.
bool is_point_id(std::string_view id);

}  // namespace fieldgate::config
