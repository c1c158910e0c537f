#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fieldgate::util {

/// A parsed JSON value that keeps what jsoncpp does not: the order of an object's members as
/// written (a measurepoint set is performed in the order given) and the exact value of every
/// integer (Int for negatives, Uint for the rest, so 64-bit values never pass through a double).
struct JsonValue {
    enum class Kind { Null, Bool, Int, Uint, Double, String, Array, Object };
    Kind kind = Kind::Null;
    bool b = false;
    std::int64_t i = 0;
    std::uint64_t u = 0;
    double d = 0;
    std::string s;                                           ///< String (UTF-8)
    std::vector<JsonValue> items;                            ///< Array
    std::vector<std::pair<std::string, JsonValue>> members;  ///< Object, in document order

    bool is_number() const { return kind == Kind::Int || kind == Kind::Uint || kind == Kind::Double; }
    /// The member called `key`, or nullptr (the first, should a document repeat a key).
    const JsonValue* find(std::string_view key) const;
};

/// Parses one JSON document (RFC 8259) strictly: nothing but white space after it, no
/// comments, no trailing commas, strings valid UTF-8 with \u escapes (surrogate pairs joined),
/// nesting at most `max_depth` deep. Returns false with `error` set (with the byte offset) when
/// the text is not such a document. Never throws on bad input; pure.
bool parse_json(std::string_view text, JsonValue& out, std::string& error, int max_depth = 32);

/// Appends `v` as compact JSON text: integers exact, doubles in the shortest form that reads
/// back the same (std::to_chars), members in their order. The inverse of parse_json.
void append_json(std::string& out, const JsonValue& v);

}  // namespace fieldgate::util
