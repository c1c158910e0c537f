#include "fieldgate/modbus/encode.hpp"

#include <charconv>
#include <cmath>
#include <algorithm>
#include <cstring>
#include <limits>

namespace fieldgate::modbus {

namespace {

using config::ByteOrder;
using config::Point;
using config::Table;
using config::ValueType;
using Kind = util::JsonValue::Kind;

std::uint16_t swap_bytes(std::uint16_t w) {
    return static_cast<std::uint16_t>((w << 8) | (w >> 8));
}

// The inverse of decode.cpp's gather(): n words (1, 2 or 4) whose big-endian bytes are
// A B C D [E F G H], laid out in `order`.
void scatter(std::uint64_t v, std::uint32_t n, ByteOrder order, std::vector<std::uint16_t>& out) {
    const bool reversed = order == ByteOrder::CDAB || order == ByteOrder::DCBA;
    const bool swapped = order == ByteOrder::BADC || order == ByteOrder::DCBA;
    const std::size_t base = out.size();
    out.resize(base + n);
    for (std::uint32_t i = 0; i < n; ++i) {
        auto w = static_cast<std::uint16_t>(v >> (16 * (n - 1 - i)));
        if (swapped) w = swap_bytes(w);
        out[base + (reversed ? n - 1 - i : i)] = w;
    }
}

std::int64_t min_of(ValueType t) {
    switch (t) {
        case ValueType::Int16:
            return std::numeric_limits<std::int16_t>::min();
        case ValueType::Int32:
            return std::numeric_limits<std::int32_t>::min();
        case ValueType::Int64:
            return std::numeric_limits<std::int64_t>::min();
        default:
            return 0;
    }
}

std::uint64_t max_of(ValueType t) {
    switch (t) {
        case ValueType::Int16:
            return static_cast<std::uint64_t>(std::numeric_limits<std::int16_t>::max());
        case ValueType::Uint16:
            return std::numeric_limits<std::uint16_t>::max();
        case ValueType::Int32:
            return static_cast<std::uint64_t>(std::numeric_limits<std::int32_t>::max());
        case ValueType::Uint32:
            return std::numeric_limits<std::uint32_t>::max();
        case ValueType::Int64:
            return static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
        default:
            return std::numeric_limits<std::uint64_t>::max();
    }
}

const char* type_name(ValueType t) {
    switch (t) {
        case ValueType::Bool:
            return "bool";
        case ValueType::Int16:
            return "int16";
        case ValueType::Uint16:
            return "uint16";
        case ValueType::Int32:
            return "int32";
        case ValueType::Uint32:
            return "uint32";
        case ValueType::Int64:
            return "int64";
        case ValueType::Uint64:
            return "uint64";
        case ValueType::Float32:
            return "float32";
        case ValueType::Float64:
            return "float64";
        case ValueType::String:
            return "string";
    }
    return "?";
}

std::string number_text(double v) {
    char buf[32];
    const auto res = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, static_cast<std::size_t>(res.ptr - buf));
}

// A number as the request gave it: exact integers stay exact. For `as=string` points the
// element is the number's text, parsed here with the same rules as a JSON number's digits.
struct Number {
    enum class Form { Int, Uint, Double } form = Form::Uint;
    std::int64_t i = 0;
    std::uint64_t u = 0;
    double d = 0;
    double as_double() const {
        return form == Form::Int ? static_cast<double>(i) : form == Form::Uint ? static_cast<double>(u) : d;
    }
};

bool parse_number_text(const std::string& text, Number& out) {
    const char* begin = text.data();
    const char* end = begin + text.size();
    if (text.empty()) return false;
    if (text[0] == '-') {
        std::int64_t i = 0;
        auto r = std::from_chars(begin, end, i);
        if (r.ec == std::errc{} && r.ptr == end) {
            out.form = Number::Form::Int;
            out.i = i;
            return true;
        }
    } else {
        std::uint64_t u = 0;
        auto r = std::from_chars(begin, end, u);
        if (r.ec == std::errc{} && r.ptr == end) {
            out.form = Number::Form::Uint;
            out.u = u;
            return true;
        }
    }
    double d = 0;
    auto r = std::from_chars(begin, end, d);
    if (r.ec != std::errc{} || r.ptr != end || !std::isfinite(d)) return false;
    out.form = Number::Form::Double;
    out.d = d;
    return true;
}

class Encoder {
public:
    Encoder(const Point& p, EncodeResult& r) : p_(p), r_(r) {}

    bool element(const util::JsonValue& e) {
        if (p_.table == Table::Coil) return bit(e);
        if (p_.type == ValueType::String) return string(e);
        Number n;
        if (!number(e, n)) return false;
        if (p_.type == ValueType::Float32 || p_.type == ValueType::Float64) return floating(n);
        return integer(n);
    }

    bool fail(std::string why) {
        r_.error = "point " + p_.id + ": " + std::move(why);
        return false;
    }

private:
    const Point& p_;
    EncodeResult& r_;

    bool bit(const util::JsonValue& e) {
        if (e.kind == Kind::Bool) {
            r_.data.bits.push_back(e.b ? 1 : 0);
            return true;
        }
        if (p_.as_string && e.kind == Kind::String && (e.s == "0" || e.s == "1")) {
            r_.data.bits.push_back(e.s == "1" ? 1 : 0);
            return true;
        }
        if (!p_.as_string && ((e.kind == Kind::Uint && e.u <= 1) || (e.kind == Kind::Int && e.i >= 0 && e.i <= 1))) {
            r_.data.bits.push_back(e.kind == Kind::Uint ? static_cast<std::uint8_t>(e.u)
                                                        : static_cast<std::uint8_t>(e.i));
            return true;
        }
        return fail("a bool point takes true, false, 0 or 1");
    }

    bool string(const util::JsonValue& e) {
        if (e.kind != Kind::String) return fail("a string point takes a JSON string");
        // The decoder reads device bytes as Latin-1 (decode.hpp); the inverse turns each code
        // point up to U+00FF back into its byte and refuses the rest.
        std::string bytes;
        const auto& s = e.s;
        for (std::size_t k = 0; k < s.size(); ++k) {
            const auto c = static_cast<unsigned char>(s[k]);
            if (c < 0x80) {
                if (c == 0) return fail("a NUL inside the text; the device ends its strings at NUL");
                bytes.push_back(static_cast<char>(c));
            } else if ((c == 0xC2 || c == 0xC3) && k + 1 < s.size() &&
                       (static_cast<unsigned char>(s[k + 1]) & 0xC0) == 0x80) {
                bytes.push_back(static_cast<char>(((c & 0x03) << 6) | (static_cast<unsigned char>(s[k + 1]) & 0x3F)));
                ++k;
            } else {
                return fail("a character beyond Latin-1 (U+00FF); the device stores one byte per character");
            }
        }
        const std::size_t max = std::size_t{2} * p_.string_length;
        if (bytes.size() > max) {
            return fail("text of " + std::to_string(bytes.size()) + " characters, the point holds " +
                        std::to_string(max));
        }
        bytes.resize(max, '\0');
        for (std::size_t k = 0; k < max; k += 2) {
            r_.data.registers.push_back(static_cast<std::uint16_t>((static_cast<unsigned char>(bytes[k]) << 8) |
                                                                   static_cast<unsigned char>(bytes[k + 1])));
        }
        return true;
    }

    bool number(const util::JsonValue& e, Number& n) {
        if (p_.as_string) {
            if (e.kind != Kind::String || !parse_number_text(e.s, n)) {
                return fail("an as=string point takes its number as a JSON string, e.g. \"12.5\"");
            }
            return true;
        }
        switch (e.kind) {
            case Kind::Int:
                n.form = Number::Form::Int;
                n.i = e.i;
                return true;
            case Kind::Uint:
                n.form = Number::Form::Uint;
                n.u = e.u;
                return true;
            case Kind::Double:
                n.form = Number::Form::Double;
                n.d = e.d;
                return true;
            default:
                return fail(std::string("a ") + type_name(p_.type) + " point takes a JSON number");
        }
    }

    // The raw value the register must hold: (value - offset) / scale.
    double unscaled(const Number& n) const {
        return (n.as_double() - p_.offset.value_or(0.0)) / p_.scale.value_or(1.0);
    }

    bool floating(const Number& n) {
        const double raw = p_.scale || p_.offset ? unscaled(n) : n.as_double();
        if (!std::isfinite(raw)) return fail("value out of range after scale/offset");
        if (p_.type == ValueType::Float32) {
            if (std::fabs(raw) > static_cast<double>(std::numeric_limits<float>::max())) {
                return fail(number_text(n.as_double()) + " out of range for float32");
            }
            const auto f = static_cast<float>(raw);
            std::uint32_t bits = 0;
            std::memcpy(&bits, &f, sizeof bits);
            scatter(bits, 2, p_.order, r_.data.registers);
            return true;
        }
        std::uint64_t bits = 0;
        std::memcpy(&bits, &raw, sizeof bits);
        scatter(bits, 4, p_.order, r_.data.registers);
        return true;
    }

    bool integer(const Number& n) {
        const ValueType t = p_.type;
        std::uint64_t word = 0;  // the two's complement bit pattern, truncated by scatter
        if ((p_.scale || p_.offset) || n.form == Number::Form::Double) {
            const double raw = p_.scale || p_.offset ? unscaled(n) : n.d;
            if (!std::isfinite(raw)) return fail("value out of range after scale/offset");
            const double whole = std::nearbyint(raw);
            // Division by a decimal scale leaves a tiny error (21.53 / 0.01 = 2152.9999999999995):
            // within a millionth of a step it is that step; further off, the value is not one
            // the register can hold, and rounding it would write something else than was asked.
            if (std::fabs(raw - whole) > 1e-6 * std::max(1.0, std::fabs(whole))) {
                if (p_.scale || p_.offset) {
                    return fail(number_text(n.as_double()) +
                                " is not a multiple of scale=" + number_text(p_.scale.value_or(1.0)) +
                                " from offset=" + number_text(p_.offset.value_or(0.0)));
                }
                return fail(number_text(n.d) + " is not a whole number; a " + type_name(t) + " point takes integers");
            }
            const std::string range_error = number_text(n.as_double()) + " out of range for " + type_name(t) +
                                            (p_.scale || p_.offset ? " after scale/offset" : "");
            // -2^63 and 2^64 are exact doubles, so these comparisons are exact.
            if (whole < static_cast<double>(min_of(t)) || whole >= 18446744073709551616.0) return fail(range_error);
            if (whole >= 0) {
                word = static_cast<std::uint64_t>(whole);
                if (word > max_of(t)) return fail(range_error);
            } else {
                word = static_cast<std::uint64_t>(static_cast<std::int64_t>(whole));
            }
        } else if (n.form == Number::Form::Int) {
            if (n.i < min_of(t)) return fail(std::to_string(n.i) + " out of range for " + type_name(t));
            word = static_cast<std::uint64_t>(n.i);
        } else {
            if (n.u > max_of(t)) return fail(std::to_string(n.u) + " out of range for " + type_name(t));
            word = n.u;
        }
        scatter(word, p_.element_width(), p_.order, r_.data.registers);
        return true;
    }
};

}  // namespace

EncodeResult encode_write(const config::Point& point, const util::JsonValue& value) {
    EncodeResult r;
    Encoder enc(point, r);
    if (point.table == Table::Input || point.table == Table::Discrete) {
        enc.fail("an input or discrete point is read-only");
        return r;
    }
    if (point.bit) {
        enc.fail("a bit=N point cannot be written (it shares its register with other bits)");
        return r;
    }
    const bool array = point.is_array || point.count != 1;
    if (array != (value.kind == Kind::Array)) {
        enc.fail(array ? "an array point takes a JSON array of " + std::to_string(point.count) + " values"
                       : std::string("a scalar point takes one value, not an array"));
        return r;
    }
    if (array && value.items.size() != point.count) {
        enc.fail("takes " + std::to_string(point.count) + " values, got " + std::to_string(value.items.size()));
        return r;
    }
    const auto ok = [&](const util::JsonValue& e) {
        if (e.kind == Kind::Array || e.kind == Kind::Object || e.kind == Kind::Null) {
            return enc.fail("takes a number, a string or a bool, not " +
                            std::string(e.kind == Kind::Null ? "null" : "a nested array or object"));
        }
        return enc.element(e);
    };
    bool good = true;
    if (array) {
        for (const auto& e : value.items) {
            if (!(good = ok(e))) break;
        }
    } else {
        good = ok(value);
    }
    if (!good) {
        r.data = {};
        return r;
    }
    r.ok = true;
    return r;
}

WritePlan check_set_request(const std::vector<config::Point>& points, const util::JsonValue& params) {
    WritePlan plan;
    if (params.kind != Kind::Object || params.members.empty()) {
        plan.error = "params must name at least one point";
        return plan;
    }
    for (const auto& [id, value] : params.members) {
        std::size_t k = 0;
        while (k < points.size() && points[k].id != id)
            ++k;
        if (k == points.size()) {
            plan.error = "point " + id + ": unknown to this device";
        } else if (!points[k].writable) {
            plan.error = "point " + id + ": not writable";
        } else {
            EncodeResult r = encode_write(points[k], value);
            if (r.ok) {
                plan.writes.push_back({k, std::move(r.data)});
                continue;
            }
            plan.error = std::move(r.error);
        }
        plan.writes.clear();
        return plan;
    }
    plan.ok = true;
    return plan;
}

}  // namespace fieldgate::modbus
