#include "fieldgate/util/json.hpp"

namespace fieldgate::util {

void append_json_escaped(std::string& out, std::string_view text, JsonBytes bytes) {
    static constexpr char kHex[] = "0123456789abcdef";
    const bool latin1 = bytes == JsonBytes::Latin1;
    std::size_t run = 0;  // start of the pending run of bytes that need no escape
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c >= 0x20 && c != '"' && c != '\\' && !(latin1 && c >= 0x80)) continue;
        out.append(text.data() + run, i - run);
        run = i + 1;
        switch (c) {
            case '"':
                out.append("\\\"");
                break;
            case '\\':
                out.append("\\\\");
                break;
            case '\n':
                out.append("\\n");
                break;
            case '\r':
                out.append("\\r");
                break;
            case '\t':
                out.append("\\t");
                break;
            default:
                out.append("\\u00");
                out.push_back(kHex[c >> 4]);
                out.push_back(kHex[c & 0xF]);
        }
    }
    out.append(text.data() + run, text.size() - run);
}

void append_json_string(std::string& out, std::string_view text, JsonBytes bytes) {
    out.push_back('"');
    append_json_escaped(out, text, bytes);
    out.push_back('"');
}

}  // namespace fieldgate::util
