#include "fieldgate/util/json_reader.hpp"

#include <charconv>
#include <cmath>

#include "fieldgate/util/json.hpp"

namespace fieldgate::util {

const JsonValue* JsonValue::find(std::string_view key) const {
    for (const auto& [k, v] : members) {
        if (k == key) return &v;
    }
    return nullptr;
}

namespace {

class Parser {
public:
    Parser(std::string_view text, int max_depth) : t_(text), max_depth_(max_depth) {}

    bool document(JsonValue& out, std::string& error) {
        skip_ws();
        if (!value(out, 0)) {
            error = error_ + " at byte " + std::to_string(pos_);
            return false;
        }
        skip_ws();
        if (pos_ != t_.size()) {
            error = "unexpected text after the document at byte " + std::to_string(pos_);
            return false;
        }
        return true;
    }

private:
    std::string_view t_;
    std::size_t pos_ = 0;
    int max_depth_;
    std::string error_;

    bool fail(const char* why) {
        error_ = why;
        return false;
    }
    bool at_end() const { return pos_ >= t_.size(); }
    char peek() const { return at_end() ? '\0' : t_[pos_]; }

    void skip_ws() {
        while (!at_end() && (t_[pos_] == ' ' || t_[pos_] == '\t' || t_[pos_] == '\n' || t_[pos_] == '\r'))
            ++pos_;
    }

    bool literal(std::string_view word) {
        if (t_.substr(pos_, word.size()) != word) return fail("invalid literal");
        pos_ += word.size();
        return true;
    }

    bool value(JsonValue& out, int depth) {
        if (depth > max_depth_) return fail("nesting too deep");
        switch (peek()) {
            case '{':
                return object(out, depth);
            case '[':
                return array(out, depth);
            case '"':
                out.kind = JsonValue::Kind::String;
                return string(out.s);
            case 't':
                out.kind = JsonValue::Kind::Bool;
                out.b = true;
                return literal("true");
            case 'f':
                out.kind = JsonValue::Kind::Bool;
                out.b = false;
                return literal("false");
            case 'n':
                out.kind = JsonValue::Kind::Null;
                return literal("null");
            default:
                return number(out);
        }
    }

    bool object(JsonValue& out, int depth) {
        out.kind = JsonValue::Kind::Object;
        ++pos_;
        skip_ws();
        if (peek() == '}') {
            ++pos_;
            return true;
        }
        for (;;) {
            skip_ws();
            if (peek() != '"') return fail("expected a member name");
            std::string key;
            if (!string(key)) return false;
            skip_ws();
            if (peek() != ':') return fail("expected ':'");
            ++pos_;
            skip_ws();
            JsonValue v;
            if (!value(v, depth + 1)) return false;
            out.members.emplace_back(std::move(key), std::move(v));
            skip_ws();
            if (peek() == ',') {
                ++pos_;
                continue;
            }
            if (peek() == '}') {
                ++pos_;
                return true;
            }
            return fail("expected ',' or '}'");
        }
    }

    bool array(JsonValue& out, int depth) {
        out.kind = JsonValue::Kind::Array;
        ++pos_;
        skip_ws();
        if (peek() == ']') {
            ++pos_;
            return true;
        }
        for (;;) {
            skip_ws();
            JsonValue v;
            if (!value(v, depth + 1)) return false;
            out.items.push_back(std::move(v));
            skip_ws();
            if (peek() == ',') {
                ++pos_;
                continue;
            }
            if (peek() == ']') {
                ++pos_;
                return true;
            }
            return fail("expected ',' or ']'");
        }
    }

    static void append_utf8(std::string& out, std::uint32_t cp) {
        if (cp < 0x80) {
            out.push_back(static_cast<char>(cp));
        } else if (cp < 0x800) {
            out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        } else if (cp < 0x10000) {
            out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        } else {
            out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        }
    }

    bool hex4(std::uint32_t& cp) {
        if (t_.size() - pos_ < 4) return fail("short \\u escape");
        cp = 0;
        for (int k = 0; k < 4; ++k) {
            const char c = t_[pos_++];
            cp <<= 4;
            if (c >= '0' && c <= '9') {
                cp |= static_cast<std::uint32_t>(c - '0');
            } else if (c >= 'a' && c <= 'f') {
                cp |= static_cast<std::uint32_t>(c - 'a' + 10);
            } else if (c >= 'A' && c <= 'F') {
                cp |= static_cast<std::uint32_t>(c - 'A' + 10);
            } else {
                return fail("bad \\u escape");
            }
        }
        return true;
    }

    bool escape(std::string& out) {
        if (at_end()) return fail("unterminated string");
        const char c = t_[pos_++];
        switch (c) {
            case '"':
            case '\\':
            case '/':
                out.push_back(c);
                return true;
            case 'b':
                out.push_back('\b');
                return true;
            case 'f':
                out.push_back('\f');
                return true;
            case 'n':
                out.push_back('\n');
                return true;
            case 'r':
                out.push_back('\r');
                return true;
            case 't':
                out.push_back('\t');
                return true;
            case 'u': {
                std::uint32_t cp = 0;
                if (!hex4(cp)) return false;
                if (cp >= 0xDC00 && cp <= 0xDFFF) return fail("lone low surrogate");
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    std::uint32_t low = 0;
                    if (t_.substr(pos_, 2) != "\\u") return fail("lone high surrogate");
                    pos_ += 2;
                    if (!hex4(low)) return false;
                    if (low < 0xDC00 || low > 0xDFFF) return fail("bad surrogate pair");
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                }
                append_utf8(out, cp);
                return true;
            }
            default:
                return fail("bad escape");
        }
    }

    // One UTF-8 sequence copied through, checked: no overlongs, no surrogates, at most U+10FFFF.
    bool utf8(std::string& out) {
        const auto c = static_cast<unsigned char>(t_[pos_]);
        int more = 0;
        std::uint32_t cp = 0;
        if (c >= 0xC2 && c <= 0xDF) {
            more = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            more = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            more = 3;
            cp = c & 0x07;
        } else {
            return fail("invalid UTF-8");
        }
        if (t_.size() - pos_ <= static_cast<std::size_t>(more)) return fail("invalid UTF-8");
        for (int k = 1; k <= more; ++k) {
            const auto cc = static_cast<unsigned char>(t_[pos_ + static_cast<std::size_t>(k)]);
            if ((cc & 0xC0) != 0x80) return fail("invalid UTF-8");
            cp = (cp << 6) | (cc & 0x3F);
        }
        if ((more == 2 && cp < 0x800) || (more == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF)) {
            return fail("invalid UTF-8");
        }
        out.append(t_.substr(pos_, static_cast<std::size_t>(more) + 1));
        pos_ += static_cast<std::size_t>(more) + 1;
        return true;
    }

    bool string(std::string& out) {
        ++pos_;  // the opening quote
        for (;;) {
            if (at_end()) return fail("unterminated string");
            const auto c = static_cast<unsigned char>(t_[pos_]);
            if (c == '"') {
                ++pos_;
                return true;
            }
            if (c == '\\') {
                ++pos_;
                if (!escape(out)) return false;
            } else if (c < 0x20) {
                return fail("control character in a string");
            } else if (c < 0x80) {
                out.push_back(static_cast<char>(c));
                ++pos_;
            } else if (!utf8(out)) {
                return false;
            }
        }
    }

    bool number(JsonValue& out) {
        const std::size_t start = pos_;
        if (peek() == '-') ++pos_;
        if (peek() == '0') {
            ++pos_;
        } else if (peek() >= '1' && peek() <= '9') {
            while (peek() >= '0' && peek() <= '9')
                ++pos_;
        } else {
            return fail("expected a value");
        }
        bool integral = true;
        if (peek() == '.') {
            integral = false;
            ++pos_;
            if (!(peek() >= '0' && peek() <= '9')) return fail("bad number");
            while (peek() >= '0' && peek() <= '9')
                ++pos_;
        }
        if (peek() == 'e' || peek() == 'E') {
            integral = false;
            ++pos_;
            if (peek() == '+' || peek() == '-') ++pos_;
            if (!(peek() >= '0' && peek() <= '9')) return fail("bad number");
            while (peek() >= '0' && peek() <= '9')
                ++pos_;
        }
        const char* b = t_.data() + start;
        const char* e = t_.data() + pos_;
        if (integral) {
            if (*b == '-') {
                std::int64_t v = 0;
                if (std::from_chars(b, e, v).ec == std::errc{}) {
                    out.kind = v < 0 ? JsonValue::Kind::Int : JsonValue::Kind::Uint;
                    out.i = v;
                    out.u = v < 0 ? 0 : static_cast<std::uint64_t>(v);
                    return true;
                }
            } else {
                std::uint64_t v = 0;
                if (std::from_chars(b, e, v).ec == std::errc{}) {
                    out.kind = JsonValue::Kind::Uint;
                    out.u = v;
                    return true;
                }
            }
            // Too large for 64 bits: a double, as any JSON reader would.
        }
        double d = 0;
        const auto r = std::from_chars(b, e, d);
        if (r.ec != std::errc{} || !std::isfinite(d)) return fail("number out of range");
        out.kind = JsonValue::Kind::Double;
        out.d = d;
        return true;
    }
};

}  // namespace

bool parse_json(std::string_view text, JsonValue& out, std::string& error, int max_depth) {
    out = JsonValue{};
    Parser p(text, max_depth);
    return p.document(out, error);
}

void append_json(std::string& out, const JsonValue& v) {
    char buf[32];
    switch (v.kind) {
        case JsonValue::Kind::Null:
            out.append("null");
            return;
        case JsonValue::Kind::Bool:
            out.append(v.b ? "true" : "false");
            return;
        case JsonValue::Kind::Int:
            out.append(buf, static_cast<std::size_t>(std::to_chars(buf, buf + sizeof buf, v.i).ptr - buf));
            return;
        case JsonValue::Kind::Uint:
            out.append(buf, static_cast<std::size_t>(std::to_chars(buf, buf + sizeof buf, v.u).ptr - buf));
            return;
        case JsonValue::Kind::Double:
            // -0.0 written "-0" would read back as the integer 0: a float register would get
            // +0.0's bits instead of the sign bit the request carried.
            if (v.d == 0 && std::signbit(v.d)) {
                out.append("-0.0");
                return;
            }
            out.append(buf, static_cast<std::size_t>(std::to_chars(buf, buf + sizeof buf, v.d).ptr - buf));
            return;
        case JsonValue::Kind::String:
            append_json_string(out, v.s);
            return;
        case JsonValue::Kind::Array:
            out.push_back('[');
            for (std::size_t k = 0; k < v.items.size(); ++k) {
                if (k) out.push_back(',');
                append_json(out, v.items[k]);
            }
            out.push_back(']');
            return;
        case JsonValue::Kind::Object:
            out.push_back('{');
            for (std::size_t k = 0; k < v.members.size(); ++k) {
                if (k) out.push_back(',');
                append_json_string(out, v.members[k].first);
                out.push_back(':');
                append_json(out, v.members[k].second);
            }
            out.push_back('}');
            return;
    }
}

}  // namespace fieldgate::util
