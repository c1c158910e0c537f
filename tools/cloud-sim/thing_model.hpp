#pragma once
// A product's thing model as the simulated hub knows it: point ids and their value types, and the
// check of one posted value against its type. Pure.
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace Json {
class Value;
}  // namespace Json

namespace fieldgate::cloudsim {

/// Value types of a product's thing model, as named in the sim's INI.
enum class PointType { Number, Integer, String, Bool, Array, Any };

/// "number", "integer", "string", "bool", "array", "any"; nullopt for anything else.
std::optional<PointType> parse_point_type(std::string_view text);
std::string_view point_type_name(PointType type);

/// Point id -> type. std::less<> so a string_view from the parsed JSON finds its id.
using ThingModel = std::map<std::string, PointType, std::less<>>;

/// Why a posted value does not fit `type`, or "" when it does. `{"value": v, "quality": q}` with
/// an integer quality 0..9 stands for v; arrays hold at most 128 members (EnOS doc).
std::string point_problem(PointType type, const Json::Value& raw);

/// A JSON integer (signed or unsigned), not a real that happens to be whole.
bool is_json_integer(const Json::Value& v);

}  // namespace fieldgate::cloudsim
