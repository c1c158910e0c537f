#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace fieldgate::util {

/// One `key = value` line, value trimmed and its inline comment removed.
struct IniEntry {
    std::string key;
    std::string value;
    int line = 0;
};

/// One `[name]` section as written in one file; the same name may appear in several.
struct IniSection {
    std::string file;
    std::string name;
    int line = 0;
    std::vector<IniEntry> entries;  ///< in file order, duplicates kept (the caller reports them)
};

struct IniFile {
    std::vector<IniSection> sections;
    std::vector<std::string> errors;  ///< `FILE:LINE: what is wrong; what is accepted`
};

/// The INI dialect of fieldgated and of the simulators (fieldgate-modbus-sim, fieldgate-cloud-sim).
///
/// Splits an INI text into sections. Lines: `[name]`, `key = value`, blank, or a comment
/// starting with `;` or `#`. After a value, ` ;` (a semicolon after a blank) starts a comment,
/// so a value cannot contain " ;" (a `;` without a blank before it is kept). Never fails on
/// garbage: a line that is none of the above becomes an error and is skipped. Values are taken
/// as written (no quotes are removed). `sections_accepted` ends the message about an empty `[]`,
/// e.g. "[gateway] [mqtt]".
///
/// inih is not used: Debian builds it without INI_HANDLER_LINENO (no line numbers for
/// messages), it truncates lines at 200 bytes, and it joins indented lines to the previous value.
IniFile read_ini(const std::string& file, std::string_view text, std::string_view sections_accepted);

/// `text` fit for an error message: quoted, non-printable bytes as \xNN, cut after 64 bytes.
std::string quote(std::string_view text);

}  // namespace fieldgate::util
