#include "thing_model.hpp"

#include <json/json.h>

namespace fieldgate::cloudsim {
namespace {

// Arrays hold at most 128 members (EnOS doc).
constexpr Json::ArrayIndex kMaxArrayMembers = 128;

bool is_json_number(const Json::Value& v) {
    return is_json_integer(v) || v.type() == Json::realValue;
}

}  // namespace

bool is_json_integer(const Json::Value& v) {
    return v.type() == Json::intValue || v.type() == Json::uintValue;
}

// Why a value does not fit its type, or "" when it does. `{"value": v, "quality": q}` with an
// integer quality 0..9 stands for v.
std::string point_problem(PointType type, const Json::Value& raw) {
    const Json::Value* v = &raw;
    if (raw.isObject()) {
        if (raw.size() != 2 || !raw.isMember("value") || !raw.isMember("quality")) {
            return "an object value must be {\"value\": v, \"quality\": q}";
        }
        const Json::Value& q = raw["quality"];
        if (!is_json_integer(q) || !q.isInt() || q.asInt() < 0 || q.asInt() > 9) {
            return "quality must be an integer 0..9";
        }
        v = &raw["value"];
        if (v->isObject()) return "a quality-wrapped value cannot be an object";
    }
    if (v->isNull()) return "null is not a value";
    if (v->isArray() && v->size() > kMaxArrayMembers) return "an array holds at most 128 members";
    switch (type) {
        case PointType::Number:
            return is_json_number(*v) ? "" : "expected a number";
        case PointType::Integer:
            return is_json_integer(*v) ? "" : "expected an integer";
        case PointType::String:
            return v->isString() ? "" : "expected a string";
        case PointType::Bool:
            if (v->isBool()) return "";
            if (is_json_integer(*v) && v->isUInt64() && v->asUInt64() <= 1) return "";
            return "expected a bool (0, 1, true or false)";
        case PointType::Array:
            if (!v->isArray()) return "expected an array";
            for (const auto& member : *v) {
                if (!is_json_number(member) && !member.isString()) return "array members must be numbers or strings";
            }
            return "";
        case PointType::Any:
            return "";
    }
    return "unknown type";
}

std::optional<PointType> parse_point_type(std::string_view text) {
    if (text == "number") return PointType::Number;
    if (text == "integer") return PointType::Integer;
    if (text == "string") return PointType::String;
    if (text == "bool") return PointType::Bool;
    if (text == "array") return PointType::Array;
    if (text == "any") return PointType::Any;
    return std::nullopt;
}

std::string_view point_type_name(PointType type) {
    switch (type) {
        case PointType::Number:
            return "number";
        case PointType::Integer:
            return "integer";
        case PointType::String:
            return "string";
        case PointType::Bool:
            return "bool";
        case PointType::Array:
            return "array";
        case PointType::Any:
            return "any";
    }
    return "?";
}

}  // namespace fieldgate::cloudsim
