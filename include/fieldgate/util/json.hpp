#pragma once
#include <string>
#include <string_view>

namespace fieldgate::util {

/// Appends `text` as a JSON string literal (quotes included), escaping what RFC 8259 requires.
void append_json_string(std::string& out, std::string_view text);

}  // namespace fieldgate::util
