#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fieldgate::util {

/// Parses a duration: a non-negative integer followed by ms, s, min, h or d ("500ms", "10min",
/// "30d"). Returns milliseconds, or nullopt when the text is not such a duration or overflows.
std::optional<std::int64_t> parse_duration_ms(std::string_view text);

/// Parses a size: a non-negative integer, optionally followed by B, KiB, MiB, GiB or TiB
/// ("512", "256KiB"). Returns bytes, or nullopt when malformed or overflowing.
std::optional<std::uint64_t> parse_size_bytes(std::string_view text);

/// Parses true/false/yes/no/on/off (lower case). Returns nullopt otherwise.
std::optional<bool> parse_bool(std::string_view text);

/// Formats a duration for people: "850ms", "12s", "3min", "5h", "2d" (truncated to the unit).
std::string format_duration_ms(std::int64_t ms);

/// Strips blanks (space, tab, CR, LF) at both ends.
std::string_view trim(std::string_view text);

}  // namespace fieldgate::util
