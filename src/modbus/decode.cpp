#include "fieldgate/modbus/decode.hpp"

#include "fieldgate/util/json.hpp"

#include <algorithm>
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

// The JSON text under construction, in a buffer the caller keeps from poll to poll: the buffer is
// only ever grown (its size is the room, len_ what is written), so after the first polls writing
// costs neither an allocation nor clearing memory.
class Writer {
public:
    explicit Writer(std::string& buf) : buf_(buf) {}
    /// Room for n more bytes at the end of what is written.
    char* room(std::size_t n) {
        if (buf_.size() < len_ + n) buf_.resize(std::max(len_ + n, 2 * buf_.size()));
        return buf_.data() + len_;
    }
    /// What was written into room() ends at `end`.
    void commit(const char* end) { len_ = static_cast<std::size_t>(end - buf_.data()); }
    void put(char c) {
        *room(1) = c;
        ++len_;
    }
    void put(std::string_view s) {
        std::memcpy(room(s.size()), s.data(), s.size());
        len_ += s.size();
    }
    std::size_t size() const { return len_; }
    void cut(std::size_t n) { len_ = n; }
    std::string_view text() const { return {buf_.data(), len_}; }

private:
    std::string& buf_;
    std::size_t len_ = 0;
};

// Integers from registers without bit, scale, offset or quotes, the common case: the element's
// decoding chosen once per point, not once per element.
template <typename Value>
char* write_each(char* w, std::uint32_t count, Value value) {
    for (std::uint32_t e = 0; e < count; ++e) {
        if (e > 0) *w++ = ',';
        w = std::to_chars(w, w + kElementRoom, value(e)).ptr;
    }
    return w;
}

// "00" "01" ... "99": two digits at a time.
constexpr char kDigitPairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

// A value below 100,000 in decimal (what a 16-bit register holds, either sign), without
// std::to_chars's general length search.
inline char* write_small(char* w, std::uint32_t v) {
    const auto pair = [](char* at, std::uint32_t two) { std::memcpy(at, kDigitPairs + std::size_t{2} * two, 2); };
    if (v < 10) {
        *w = static_cast<char>('0' + v);
        return w + 1;
    }
    if (v < 100) {
        pair(w, v);
        return w + 2;
    }
    if (v < 1000) {
        *w = static_cast<char>('0' + v / 100);
        pair(w + 1, v % 100);
        return w + 3;
    }
    if (v < 10000) {
        pair(w, v / 100);
        pair(w + 2, v % 100);
        return w + 4;
    }
    *w = static_cast<char>('0' + v / 10000);
    pair(w + 1, v / 100 % 100);
    pair(w + 3, v % 100);
    return w + 5;
}

// One-register integers: the byte order and the sign are decided once for the point (a one-word
// value only sees the byte swap), the loop is made for that case, and the digits are written by
// write_small.
template <bool kSwapped, bool kSigned>
char* write_words(char* w, std::uint32_t count, const std::uint16_t* regs, std::uint32_t step) {
    for (std::uint32_t e = 0; e < count; ++e, regs += step) {
        *w = ',';
        w += e > 0 ? 1 : 0;
        const std::uint16_t word = kSwapped ? swap_bytes(*regs) : *regs;
        if (kSigned && (word & 0x8000U) != 0) {
            *w++ = '-';
            w = write_small(w, 0x10000U - word);
        } else {
            w = write_small(w, word);
        }
    }
    return w;
}

char* write_words(char* w, const Point& p, const std::uint16_t* regs, std::uint32_t step) {
    const bool swapped = p.order == ByteOrder::BADC || p.order == ByteOrder::DCBA;
    if (p.type == ValueType::Int16)
        return swapped ? write_words<true, true>(w, p.count, regs, step)
                       : write_words<false, true>(w, p.count, regs, step);
    return swapped ? write_words<true, false>(w, p.count, regs, step)
                   : write_words<false, false>(w, p.count, regs, step);
}

char* write_plain_integers(char* w, const Point& p, const std::uint16_t* regs, std::uint32_t step) {
    const auto at = [regs, step](std::uint32_t e) { return regs + std::size_t{e} * step; };
    switch (p.type) {
        case ValueType::Uint16:
        case ValueType::Int16:
            return write_words(w, p, regs, step);
        case ValueType::Uint32:
            return write_each(w, p.count, [&](std::uint32_t e) { return gather(at(e), 2, p.order); });
        case ValueType::Uint64:
            return write_each(w, p.count, [&](std::uint32_t e) { return gather(at(e), 4, p.order); });
        case ValueType::Int32:
            return write_each(w, p.count,
                              [&](std::uint32_t e) { return static_cast<std::int32_t>(gather(at(e), 2, p.order)); });
        case ValueType::Int64:
            return write_each(w, p.count,
                              [&](std::uint32_t e) { return static_cast<std::int64_t>(gather(at(e), 4, p.order)); });
        default:
            return nullptr;
    }
}

bool is_plain_integer(const Point& p) {
    const bool integer = p.type == ValueType::Uint16 || p.type == ValueType::Uint32 || p.type == ValueType::Uint64 ||
                         p.type == ValueType::Int16 || p.type == ValueType::Int32 || p.type == ValueType::Int64;
    return integer && !p.as_string && !p.scale && !p.offset && !p.bit && !is_bit_table(p.table);
}

// Writes a point's number elements, comma-separated, straight into the buffer. False when an
// element is NaN or infinite (the caller cuts the point off).
bool append_number_elements(Writer& out, const Point& p, const BlockData& d, std::uint32_t first, std::uint32_t step) {
    char* w = out.room(std::size_t{p.count} * kElementRoom);
    if (is_plain_integer(p)) {
        out.commit(write_plain_integers(w, p, d.registers.data() + first, step));
        return true;
    }
    for (std::uint32_t e = 0; e < p.count; ++e) {
        if (e > 0) *w++ = ',';
        w = write_number_element(w, p, d, first + e * step);
        if (!w) return false;
    }
    out.commit(w);
    return true;
}

// A point's id as a JSON key's text: most ids need no escaping and are copied as they are.
void put_key(Writer& out, const std::string& id) {
    const bool plain = std::all_of(id.begin(), id.end(), [](char ch) {
        const auto c = static_cast<unsigned char>(ch);
        return c >= 0x20 && c != '"' && c != '\\';
    });
    if (plain) {
        out.put(id);
        return;
    }
    std::string escaped;
    util::append_json_escaped(escaped, id);
    out.put(escaped);
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
    Writer json(scratch);  // written there, then copied once into m.json at its exact size
    json.put('{');
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
        if (m.written > 0) json.put(',');
        json.put('"');
        put_key(json, p.id);
        json.put("\":");
        // quality 0 = good (EnOS convention: 0 is a good value). Only values that were read are
        // written at all, so the quality of a written value is always 0; a failed read leaves the
        // point out (counted in unreadable) instead of sending a placeholder value.
        if (p.quality) json.put("{\"value\":");
        const bool array = p.is_array || p.count != 1;
        if (array) json.put('[');
        bool finite = true;
        if (p.type == ValueType::String && !is_bit_table(p.table) && !p.bit) {
            std::string text;
            for (std::uint32_t e = 0; e < p.count; ++e) {
                if (e > 0) text.push_back(',');
                append_string(text, p, d, first + e * step);
            }
            json.put(text);
        } else {
            finite = append_number_elements(json, p, d, first, step);
        }
        if (!finite) {
            json.cut(mark);
            ++m.non_finite;
            continue;
        }
        if (array) json.put(']');
        if (p.quality) json.put(",\"quality\":0}");
        ++m.written;
    }
    json.put('}');
    m.json.assign(json.text());
    return m;
}

}  // namespace fieldgate::modbus
