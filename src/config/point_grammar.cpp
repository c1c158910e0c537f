#include "fieldgate/config/point_grammar.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <utility>

#include "fieldgate/util/ini_reader.hpp"

namespace fieldgate::config {

using util::quote;

namespace {

constexpr std::string_view kOptions = "ABCD CDAB BADC DCBA scale=F offset=F bit=N quality as=string writable";
constexpr std::string_view kTypes =
    "bool int16 uint16 int32 uint32 int64 uint64 float32 float64 string[N], arrays TYPE[N]";

constexpr std::array<std::pair<std::string_view, Table>, 4> kTables{
    {{"holding", Table::Holding}, {"input", Table::Input}, {"coil", Table::Coil}, {"discrete", Table::Discrete}}};

constexpr std::array<std::pair<std::string_view, ValueType>, 10> kTypeNames{{{"bool", ValueType::Bool},
                                                                             {"int16", ValueType::Int16},
                                                                             {"uint16", ValueType::Uint16},
                                                                             {"int32", ValueType::Int32},
                                                                             {"uint32", ValueType::Uint32},
                                                                             {"int64", ValueType::Int64},
                                                                             {"uint64", ValueType::Uint64},
                                                                             {"float32", ValueType::Float32},
                                                                             {"float64", ValueType::Float64},
                                                                             {"string", ValueType::String}}};

constexpr std::array<std::pair<std::string_view, ByteOrder>, 4> kOrders{
    {{"ABCD", ByteOrder::ABCD}, {"CDAB", ByteOrder::CDAB}, {"BADC", ByteOrder::BADC}, {"DCBA", ByteOrder::DCBA}}};

template <typename T, std::size_t N>
std::optional<T> lookup(const std::array<std::pair<std::string_view, T>, N>& table, std::string_view name) {
    for (const auto& [key, value] : table) {
        if (key == name) return value;
    }
    return std::nullopt;
}

// Decimal, or hex with 0x; the whole text must be the number.
std::optional<std::uint64_t> parse_unsigned(std::string_view text) {
    int base = 10;
    if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        text.remove_prefix(2);
        base = 16;
    }
    std::uint64_t value = 0;
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value, base);
    if (text.empty() || ec != std::errc{} || ptr != end) return std::nullopt;
    return value;
}

std::optional<double> parse_finite(std::string_view text) {
    double value = 0;
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc{} || ptr != end || !std::isfinite(value)) return std::nullopt;
    return value;
}

std::vector<std::string_view> split_blanks(std::string_view text) {
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && (text[i] == ' ' || text[i] == '\t'))
            ++i;
        const auto start = i;
        while (i < text.size() && text[i] != ' ' && text[i] != '\t')
            ++i;
        if (i > start) out.push_back(text.substr(start, i - start));
    }
    return out;
}

bool is_16bit(ValueType t) {
    return t == ValueType::Int16 || t == ValueType::Uint16;
}

bool is_register_table(Table t) {
    return t == Table::Holding || t == Table::Input;
}

}  // namespace

bool is_point_id(std::string_view id) {
    if (id.empty()) return false;
    for (std::size_t i = 0; i < id.size(); ++i) {
        const char c = id[i];
        const bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
        const bool digit = c >= '0' && c <= '9';
        if (!(alpha || (digit && i > 0))) return false;
    }
    return true;
}

namespace {

// <table>:<address>. Returns whether both are good (the fit checks need them).
bool parse_location(std::string_view token, Point& p, std::vector<std::string>& errors) {
    bool table_ok = false;
    const auto colon = token.find(':');
    if (colon == std::string_view::npos) {
        errors.push_back("expected <table>:<address>, got " + quote(token) +
                         "; accepted: holding|input|coil|discrete:ADDRESS, e.g. holding:100");
    } else {
        if (const auto table = lookup(kTables, token.substr(0, colon))) {
            p.table = *table;
            table_ok = true;
        } else {
            errors.push_back("unknown table " + quote(token.substr(0, colon)) +
                             "; accepted: holding input coil discrete");
        }
        const auto address = parse_unsigned(token.substr(colon + 1));
        if (address && *address <= 0xFFFF) {
            p.address = static_cast<std::uint16_t>(*address);
        } else {
            errors.push_back("bad address " + quote(token.substr(colon + 1)) +
                             "; accepted: 0..65535 (0-based, decimal or 0x hex)");
            table_ok = false;  // no fit check without an address
        }
    }

    return table_ok;
}

// TYPE, TYPE[N] or string[N]. Returns whether it is good.
bool parse_type(std::string_view token, Point& p, std::vector<std::string>& errors) {
    bool type_ok = false;
    auto type_text = token;
    std::optional<std::uint64_t> length;
    bool shape_ok = true;
    if (const auto open = type_text.find('['); open != std::string_view::npos) {
        const auto inner = type_text.substr(open + 1);
        if (inner.empty() || inner.back() != ']' || !(length = parse_unsigned(inner.substr(0, inner.size() - 1)))) {
            shape_ok = false;
        }
        type_text = type_text.substr(0, open);
    }
    const auto type = lookup(kTypeNames, type_text);
    if (!type || !shape_ok) {
        errors.push_back("unknown type " + quote(token) + "; accepted: " + std::string(kTypes));
    } else if (*type == ValueType::String) {
        if (!length || *length < 1 || *length > kMaxPointRegisters) {
            errors.push_back("string needs its length in registers, " + quote(token) + "; accepted: string[N], N 1.." +
                             std::to_string(kMaxPointRegisters));
        } else {
            p.type = ValueType::String;
            p.string_length = static_cast<std::uint16_t>(*length);
            type_ok = true;
        }
    } else if (length && (*length < 1 || *length > kMaxArrayLength)) {
        errors.push_back("array length " + quote(token) + " out of range; accepted: TYPE[N], N 1.." +
                         std::to_string(kMaxArrayLength));
    } else {
        p.type = *type;
        if (length) {
            p.is_array = true;
            p.count = static_cast<std::uint16_t>(*length);
        }
        type_ok = true;
    }
    return type_ok;
}

// The options after the type. Returns whether a byte order was given.
bool parse_options(const std::vector<std::string_view>& tokens, Point& p, std::vector<std::string>& errors) {
    bool order_given = false;
    for (std::size_t i = 2; i < tokens.size(); ++i) {
        const auto token = tokens[i];
        const auto eq = token.find('=');
        const auto name = token.substr(0, eq);
        const auto value = eq == std::string_view::npos ? std::string_view{} : token.substr(eq + 1);
        const auto twice = [&](std::string_view what = {}) {
            errors.push_back((what.empty() ? quote(name) : std::string(what)) +
                             " given twice; accepted: each option once");
        };
        if (const auto order = lookup(kOrders, token)) {
            if (order_given) twice("byte order");
            p.order = *order;
            order_given = true;
        } else if (token == "quality") {
            if (p.quality) twice();
            p.quality = true;
        } else if (token == "as=string") {
            if (p.as_string) twice();
            p.as_string = true;
        } else if (token == "writable") {
            if (p.writable) twice();
            p.writable = true;
        } else if (eq != std::string_view::npos && (name == "scale" || name == "offset")) {
            auto& slot = name == "scale" ? p.scale : p.offset;
            if (slot) twice();
            if (const auto number = parse_finite(value)) {
                slot = *number;
            } else {
                errors.push_back("bad number in " + quote(token) + "; accepted: " + std::string(name) +
                                 "=F, a finite decimal number such as 0.001 or 1e-3");
            }
        } else if (eq != std::string_view::npos && name == "bit") {
            if (p.bit) twice();
            const auto bit = parse_unsigned(value);
            if (bit && *bit <= 15) {
                p.bit = static_cast<std::uint8_t>(*bit);
            } else {
                errors.push_back("bad bit in " + quote(token) + "; accepted: bit=N, N 0..15");
            }
        } else {
            errors.push_back("unknown token " + quote(token) + "; accepted: " + std::string(kOptions));
        }
    }
    return order_given;
}

// What the table allows of the type and options, and that the point fits the table.
void check_table(const Point& p, std::vector<std::string>& errors) {
    const bool bits = !is_register_table(p.table);
    if (bits && p.type != ValueType::Bool) {
        errors.push_back(std::string(p.table == Table::Coil ? "coil" : "discrete") +
                         " table holds single bits; accepted: bool or bool[N]");
    }
    if (!bits && p.type == ValueType::Bool) {
        errors.push_back("bool needs a coil or discrete table; accepted: uint16 bit=N for one bit of a register");
    }
    if (!bits && p.bit && (!is_16bit(p.type) || p.is_array)) {
        errors.push_back("bit=N applies to a single int16 or uint16 only; accepted: e.g. holding:7 uint16 bit=3");
    }
    if (bits && p.bit) errors.push_back("bit=N on a bit table; accepted: bit=N with holding or input");
    if (p.writable && (p.table == Table::Input || p.table == Table::Discrete)) {
        errors.push_back(std::string(p.table == Table::Input ? "input" : "discrete") +
                         " points are read-only; accepted: writable on holding and coil points");
    }
    if (p.writable && p.bit) {
        errors.push_back(
            "writable with bit=N (the other bits of the register would be overwritten); "
            "accepted: writable on a whole register or a coil");
    }
    const std::uint32_t width = p.width();
    if (!bits && width > kMaxPointRegisters) {
        errors.push_back("point occupies " + std::to_string(width) +
                         " registers, more than one read carries; accepted: at most " +
                         std::to_string(kMaxPointRegisters) + " registers");
    }
    if (std::uint32_t{p.address} + width - 1 > 0xFFFF) {
        errors.push_back("point runs past the end of the table (address " + std::to_string(p.address) + " + " +
                         std::to_string(width) + (bits ? " bits" : " registers") +
                         "); accepted: address + width - 1 <= 65535");
    }
}

// What the type allows of the options.
void check_type_options(const Point& p, bool order_given, std::vector<std::string>& errors) {
    const bool plain = p.type == ValueType::Bool || p.type == ValueType::String;
    if (order_given && plain) {
        errors.push_back("byte order on a bool or string; accepted: an order on numeric types only");
    }
    if (order_given && is_16bit(p.type) && (p.order == ByteOrder::CDAB || p.order == ByteOrder::DCBA)) {
        errors.push_back("word order on a 16-bit type; accepted: ABCD or BADC (bytes swapped) for int16/uint16");
    }
    if ((p.scale || p.offset) && plain) {
        errors.push_back("scale/offset on a bool or string; accepted: scale/offset on numeric types only");
    }
    if ((p.scale || p.offset) && p.bit) {
        errors.push_back("scale/offset with bit=N, whose value is 0 or 1; accepted: one or the other");
    }
    if (p.as_string && p.type == ValueType::String) {
        errors.push_back("as=string on a string; accepted: as=string on numeric and bool types");
    }
}

}  // namespace

PointParse parse_point(std::string_view id, std::string_view spec) {
    PointParse out;
    auto& errors = out.errors;
    Point p;
    p.id = std::string(id);
    if (!is_point_id(id)) {
        errors.push_back("bad point id " + quote(id) + "; accepted: a letter or _, then letters, digits or _");
    }

    const auto tokens = split_blanks(spec);
    if (tokens.empty()) {
        errors.push_back("no point definition; accepted: <table>:<address> <type> [" + std::string(kOptions) + "]");
        return out;
    }

    const bool table_ok = parse_location(tokens[0], p, errors);
    bool type_ok = false;
    if (tokens.size() < 2)
        errors.push_back("no type; accepted: " + std::string(kTypes));
    else
        type_ok = parse_type(tokens[1], p, errors);
    const bool order_given = parse_options(tokens, p, errors);
    if (table_ok && type_ok) check_table(p, errors);
    if (type_ok) check_type_options(p, order_given, errors);

    if (errors.empty()) out.point = std::move(p);
    return out;
}

}  // namespace fieldgate::config
