#include "fieldgate/util/units.hpp"

#include <array>
#include <charconv>
#include <limits>
#include <utility>

namespace fieldgate::util {
namespace {

// Splits "123abc" into the leading integer and the suffix. Fails on no digits or overflow.
std::optional<std::pair<std::uint64_t, std::string_view>> split_number(std::string_view text) {
    text = trim(text);
    std::uint64_t value = 0;
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc{} || ptr == text.data()) return std::nullopt;
    return std::make_pair(value, trim(std::string_view(ptr, static_cast<std::size_t>(end - ptr))));
}

template <std::size_t N>
std::optional<std::uint64_t> scaled(std::string_view text,
                                    const std::array<std::pair<std::string_view, std::uint64_t>, N>& units,
                                    std::uint64_t limit) {
    auto parts = split_number(text);
    if (!parts) return std::nullopt;
    for (const auto& [suffix, factor] : units) {
        if (parts->second != suffix) continue;
        if (parts->first > limit / factor) return std::nullopt;
        return parts->first * factor;
    }
    return std::nullopt;
}

}  // namespace

std::string_view trim(std::string_view text) {
    constexpr std::string_view kBlank = " \t\r\n";
    const auto first = text.find_first_not_of(kBlank);
    if (first == std::string_view::npos) return {};
    const auto last = text.find_last_not_of(kBlank);
    return text.substr(first, last - first + 1);
}

std::optional<std::int64_t> parse_duration_ms(std::string_view text) {
    static constexpr std::array<std::pair<std::string_view, std::uint64_t>, 5> kUnits{
        {{"ms", 1}, {"s", 1000}, {"min", 60'000}, {"h", 3'600'000}, {"d", 86'400'000}}};
    auto ms = scaled(text, kUnits, static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()));
    if (!ms) return std::nullopt;
    return static_cast<std::int64_t>(*ms);
}

std::optional<std::uint64_t> parse_size_bytes(std::string_view text) {
    static constexpr std::array<std::pair<std::string_view, std::uint64_t>, 6> kUnits{
        {{"", 1}, {"B", 1}, {"KiB", 1ULL << 10}, {"MiB", 1ULL << 20}, {"GiB", 1ULL << 30}, {"TiB", 1ULL << 40}}};
    return scaled(text, kUnits, std::numeric_limits<std::uint64_t>::max());
}

std::optional<bool> parse_bool(std::string_view text) {
    text = trim(text);
    if (text == "true" || text == "yes" || text == "on") return true;
    if (text == "false" || text == "no" || text == "off") return false;
    return std::nullopt;
}

std::string format_duration_ms(std::int64_t ms) {
    if (ms < 0) ms = 0;
    if (ms < 1000) return std::to_string(ms) + "ms";
    if (ms < 60'000) return std::to_string(ms / 1000) + "s";
    if (ms < 3'600'000) return std::to_string(ms / 60'000) + "min";
    if (ms < 86'400'000) return std::to_string(ms / 3'600'000) + "h";
    return std::to_string(ms / 86'400'000) + "d";
}

}  // namespace fieldgate::util
