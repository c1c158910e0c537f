#include "fieldgate/modbus/decode.hpp"

#include "fieldgate/util/json.hpp"

#include <charconv>
#include <cmath>
#include <cstring>

namespace fieldgate::modbus {

namespace {

using config::ByteOrder;
using config::Point;
using config::ValueType;

bool is_bit_table(config::Table t) {
    return t == config::Table::Coil || t == config::Table::Discrete;
}

std::uint16_t swap_bytes(std::uint16_t w) {
    return static_cast<std::uint16_t>((w << 8) | (w >> 8));
}

// Joins n words (1, 2 or 4) into one integer whose big-endian bytes are A B C D [E F G H].
// CDAB and DCBA reverse the word order on the wire; BADC and DCBA swap the bytes in each word.
// A one-word value only sees the byte swap, which is what "BA" means for 16 bits.
std::uint64_t gather(const std::uint16_t* regs, std::uint32_t n, ByteOrder order) {
    const bool reversed = order == ByteOrder::CDAB || order == ByteOrder::DCBA;
    const bool swapped = order == ByteOrder::BADC || order == ByteOrder::DCBA;
    std::uint64_t v = 0;
    for (std::uint32_t i = 0; i < n; ++i) {
        std::uint16_t w = regs[reversed ? n - 1 - i : i];
        if (swapped) w = swap_bytes(w);
        v = (v << 16) | w;
    }
    return v;
}

// One decoded element before it is written.
struct Raw {
    enum class Kind { Int, Uint, Float32, Float64 } kind = Kind::Uint;
    std::int64_t i = 0;
    std::uint64_t u = 0;
    float f = 0;
    double d = 0;

    double as_double() const {
        switch (kind) {
            case Kind::Int:
                return static_cast<double>(i);
            case Kind::Uint:
                return static_cast<double>(u);
            case Kind::Float32:
                return static_cast<double>(f);
            case Kind::Float64:
                return d;
        }
        return 0;
    }
};

Raw make_int(std::int64_t v) {
    Raw r;
    r.kind = Raw::Kind::Int;
    r.i = v;
    return r;
}

Raw make_uint(std::uint64_t v) {
    Raw r;
    r.kind = Raw::Kind::Uint;
    r.u = v;
    return r;
}

Raw decode_number(const Point& p, const BlockData& d, std::uint32_t at) {
    if (is_bit_table(p.table)) return make_uint(d.bits[at] != 0 ? 1 : 0);
    const std::uint16_t* regs = d.registers.data() + at;
    if (p.bit) return make_uint(*p.bit < 16 ? (regs[0] >> *p.bit) & 1U : 0);
    switch (p.type) {
        case ValueType::Bool:
            return make_uint(regs[0] != 0 ? 1 : 0);
        case ValueType::Int16:
            return make_int(static_cast<std::int16_t>(gather(regs, 1, p.order)));
        case ValueType::Uint16:
            return make_uint(gather(regs, 1, p.order));
        case ValueType::Int32:
            return make_int(static_cast<std::int32_t>(gather(regs, 2, p.order)));
        case ValueType::Uint32:
            return make_uint(gather(regs, 2, p.order));
        case ValueType::Int64:
            return make_int(static_cast<std::int64_t>(gather(regs, 4, p.order)));
        case ValueType::Uint64:
            return make_uint(gather(regs, 4, p.order));
        case ValueType::Float32: {
            const auto bits = static_cast<std::uint32_t>(gather(regs, 2, p.order));
            Raw r;
            r.kind = Raw::Kind::Float32;
            std::memcpy(&r.f, &bits, sizeof r.f);
            return r;
        }
        case ValueType::Float64: {
            const std::uint64_t bits = gather(regs, 4, p.order);
            Raw r;
            r.kind = Raw::Kind::Float64;
            std::memcpy(&r.d, &bits, sizeof r.d);
            return r;
        }
        case ValueType::String:
            break;  // handled by append_string
    }
    return make_uint(0);
}

template <typename T>
void append_chars(std::string& out, T value) {
    char buf[32];  // the longest shortest-form double is 24 chars, an int64 20
    const auto res = std::to_chars(buf, buf + sizeof buf, value);
    out.append(buf, static_cast<std::size_t>(res.ptr - buf));
}

// Room one number element takes at most: a comma, two quotes (as=string), the longest
// shortest-form double (24 chars; an int64 takes 20).
constexpr std::size_t kElementRoom = 1 + 2 + 32;

// Writes one number element at `w` (kElementRoom bytes are there); returns the end, or nullptr
// when the value is NaN or infinite.
char* write_number_element(char* w, const Point& p, const BlockData& d, std::uint32_t at) {
    char* const end = w + kElementRoom;
    const Raw raw = decode_number(p, d, at);
    if (p.as_string) *w++ = '"';  // number text never needs escaping
    std::to_chars_result res{};
    if (p.scale || p.offset) {
        const double v = raw.as_double() * p.scale.value_or(1.0) + p.offset.value_or(0.0);
        if (!std::isfinite(v)) return nullptr;
        res = std::to_chars(w, end, v);
    } else {
        switch (raw.kind) {
            case Raw::Kind::Int:
                res = std::to_chars(w, end, raw.i);
                break;
            case Raw::Kind::Uint:
                res = std::to_chars(w, end, raw.u);
                break;
            case Raw::Kind::Float32:
                if (!std::isfinite(raw.f)) return nullptr;
                res = std::to_chars(w, end, raw.f);
                break;
            case Raw::Kind::Float64:
                if (!std::isfinite(raw.d)) return nullptr;
                res = std::to_chars(w, end, raw.d);
                break;
        }
    }
    w = res.ptr;
    if (p.as_string) *w++ = '"';
    return w;
}

// Writes a point's number elements, comma-separated, straight into `out`'s storage: room for all
// of them is made once (out is a reused buffer, so that costs no allocation after the first
// polls), then cut to what was written. False when an element is NaN or infinite.
bool append_number_elements(std::string& out, const Point& p, const BlockData& d, std::uint32_t first,
                            std::uint32_t step) {
    const std::size_t start = out.size();
    out.resize(start + std::size_t{p.count} * kElementRoom);
    char* w = out.data() + start;
    for (std::uint32_t e = 0; e < p.count; ++e) {
        if (e > 0) *w++ = ',';
        w = write_number_element(w, p, d, first + e * step);
        if (!w) return false;
    }
    out.resize(static_cast<std::size_t>(w - out.data()));
    return true;
}

// string[N]: N registers, two ASCII chars each, high byte first; ends at the first NUL,
// trailing blanks (devices pad with spaces) trimmed.
void append_string(std::string& out, const Point& p, const BlockData& d, std::uint32_t at) {
    const std::uint16_t* regs = d.registers.data() + at;
    auto byte = [regs](std::size_t k) { return static_cast<char>(k % 2 == 0 ? regs[k / 2] >> 8 : regs[k / 2] & 0xFF); };
    const std::size_t max = std::size_t{2} * p.string_length;
    std::string text;
    text.reserve(max);
    for (std::size_t k = 0; k < max && byte(k) != '\0'; ++k)
        text.push_back(byte(k));
    while (!text.empty() && text.back() == ' ')
        text.pop_back();
    // Device strings are bytes, not UTF-8: a stray byte from a meter must not make the whole
    // batch invalid UTF-8.
    util::append_json_string(out, text, util::JsonBytes::Latin1);
}

}  // namespace

void append_number(std::string& out, double value) {
    if (!std::isfinite(value)) {
        out.append("null");
        return;
    }
    append_chars(out, value);
}

void append_number(std::string& out, float value) {
    if (!std::isfinite(value)) {
        out.append("null");
        return;
    }
    append_chars(out, value);
}

Measurepoints encode_measurepoints(const std::vector<config::Point>& points, const Plan& plan,
                                   const std::vector<BlockData>& data) {
    std::string scratch;
    return encode_measurepoints(points, plan, data, scratch);
}

Measurepoints encode_measurepoints(const std::vector<config::Point>& points, const Plan& plan,
                                   const std::vector<BlockData>& data, std::string& scratch) {
    Measurepoints m;
    std::string& json = scratch;  // written here, then copied once into m.json at its exact size
    json.clear();
    json.push_back('{');
    for (std::size_t i = 0; i < points.size(); ++i) {
        const Point& p = points[i];
        // Any mismatch between plan and data (a short read, a plan for other points) makes the
        // point unreadable rather than reading past a vector's end.
        const std::size_t b = i < plan.block_of_point.size() ? plan.block_of_point[i] : plan.blocks.size();
        if (b >= plan.blocks.size() || b >= data.size() || !data[b].ok || p.address < plan.blocks[b].start ||
            p.table != plan.blocks[b].table) {
            ++m.unreadable;
            continue;
        }
        const BlockData& d = data[b];
        const std::uint32_t first = p.address - plan.blocks[b].start;
        const std::uint32_t step = p.element_width();
        const std::size_t available = is_bit_table(p.table) ? d.bits.size() : d.registers.size();
        if (first + std::size_t{step} * p.count > available) {
            ++m.unreadable;
            continue;
        }

        const std::size_t mark = json.size();
        if (m.written > 0) json.push_back(',');
        json.push_back('"');
        util::append_json_escaped(json, p.id);
        json.append("\":");
        // quality 0 = good (EnOS convention: 0 is a good value). Only values that were read are
        // written at all, so the quality of a written value is always 0; a failed read leaves the
        // point out (counted in unreadable) instead of sending a placeholder value.
        if (p.quality) json.append("{\"value\":");
        const bool array = p.is_array || p.count != 1;
        if (array) json.push_back('[');
        bool finite = true;
        if (p.type == ValueType::String && !is_bit_table(p.table) && !p.bit) {
            for (std::uint32_t e = 0; e < p.count; ++e) {
                if (e > 0) json.push_back(',');
                append_string(json, p, d, first + e * step);
            }
        } else {
            finite = append_number_elements(json, p, d, first, step);
        }
        if (!finite) {
            json.resize(mark);
            ++m.non_finite;
            continue;
        }
        if (array) json.push_back(']');
        if (p.quality) json.append(",\"quality\":0}");
        ++m.written;
    }
    json.push_back('}');
    m.json.assign(json);
    return m;
}

}  // namespace fieldgate::modbus
