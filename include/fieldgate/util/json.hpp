#pragma once
#include <string>
#include <string_view>

namespace fieldgate::util {

/// How bytes >= 0x80 are written: Utf8 passes them through (ids and keys are UTF-8); Latin1
/// writes each as \u00XX, for bytes read from a device, which need not be valid UTF-8.
enum class JsonBytes { Utf8, Latin1 };

/// Appends `text` JSON-escaped, without quotes: `"`, `\` and control characters (RFC 8259).
void append_json_escaped(std::string& out, std::string_view text, JsonBytes bytes = JsonBytes::Utf8);

/// Appends `text` as a JSON string literal, quotes included.
void append_json_string(std::string& out, std::string_view text, JsonBytes bytes = JsonBytes::Utf8);

}  // namespace fieldgate::util
