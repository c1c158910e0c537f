#include "fieldgate/util/ini_reader.hpp"

#include "fieldgate/util/units.hpp"

namespace fieldgate::util {
namespace {

std::string_view strip_inline_comment(std::string_view text) {
    for (std::size_t i = 1; i < text.size(); ++i) {
        if (text[i] == ';' && (text[i - 1] == ' ' || text[i - 1] == '\t')) return text.substr(0, i);
    }
    return text;
}

std::string where(const std::string& file, int line) {
    return file + ":" + std::to_string(line) + ": ";
}

}  // namespace

std::string quote(std::string_view text) {
    constexpr std::size_t kMax = 64;
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out = "\"";
    for (std::size_t i = 0; i < text.size() && i < kMax; ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c >= 0x20 && c < 0x7f) {
            out += static_cast<char>(c);
        } else {
            out += "\\x";
            out += kHex[c >> 4];
            out += kHex[c & 0xf];
        }
    }
    if (text.size() > kMax) out += "...";
    out += '"';
    return out;
}

IniFile read_ini(const std::string& file, std::string_view text, std::string_view sections_accepted) {
    IniFile out;
    if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // UTF-8 BOM from Windows editors
    int line_no = 0;
    while (!text.empty()) {
        const auto nl = text.find('\n');
        const auto raw = text.substr(0, nl);
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        ++line_no;

        const auto line = trim(raw);
        if (line.empty() || line.front() == ';' || line.front() == '#') continue;

        if (line.front() == '[') {
            const auto close = line.find(']');
            const auto rest = close == std::string_view::npos ? line : trim(line.substr(close + 1));
            if (close == std::string_view::npos || !(rest.empty() || rest.front() == ';' || rest.front() == '#')) {
                out.errors.push_back(where(file, line_no) + "bad section header " + quote(line) +
                                     "; accepted: [name] alone on its line");
                // Keys up to the next good header would land in the wrong section: drop them.
                out.sections.push_back(IniSection{file, "", line_no, {}});
                continue;
            }
            const auto name = trim(line.substr(1, close - 1));
            if (name.empty()) {
                out.errors.push_back(where(file, line_no) +
                                     "empty section name []; accepted: " + std::string(sections_accepted));
            }
            out.sections.push_back(IniSection{file, std::string(name), line_no, {}});
            continue;
        }

        const auto eq = line.find('=');
        if (eq == std::string_view::npos) {
            out.errors.push_back(where(file, line_no) + "not a setting " + quote(line) +
                                 "; accepted: key = value, [section], or a comment starting with ; or #");
            continue;
        }
        const auto key = trim(line.substr(0, eq));
        if (key.empty()) {
            out.errors.push_back(where(file, line_no) + "no key before '='; accepted: key = value");
            continue;
        }
        if (out.sections.empty()) {
            out.errors.push_back(where(file, line_no) + std::string(key) +
                                 ": setting before any section; accepted: a [section] line first");
            continue;
        }
        if (out.sections.back().name.empty()) continue;  // under a bad header, already reported
        const auto value = trim(strip_inline_comment(line.substr(eq + 1)));
        out.sections.back().entries.push_back(IniEntry{std::string(key), std::string(value), line_no});
    }
    return out;
}

}  // namespace fieldgate::util
