#pragma once
// The simulator's register maps and value functions. Header-only and free of I/O so tests can
// compute what a device served at a given wall-clock time. README.md states the same formulas
// for tests written in Python; keep the two in step.
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>

namespace fieldgate::sim {

enum class Profile { Demo, Bench };

inline std::optional<Profile> parse_profile(std::string_view name) {
    if (name == "demo") return Profile::Demo;
    if (name == "bench") return Profile::Bench;
    return std::nullopt;
}

inline const char* profile_name(Profile p) {
    return p == Profile::Demo ? "demo" : "bench";
}

/// Every profile maps the same tables from address 0, so reads inside them are legal and reads
/// beyond get exception 2 (illegal data address) from libmodbus.
constexpr unsigned kHoldingRegisters = 100;
constexpr unsigned kInputRegisters = 100;
constexpr unsigned kCoils = 32;  ///< 0..15 follow the profile; 16..31 keep what clients write
constexpr unsigned kDiscreteInputs = 16;
constexpr unsigned kProfileCoils = 16;

/// Seeds are limited so every demo value fits its type (-seed*7 in int16, seed*100000+1 in int32).
constexpr int kMaxSeed = 4000;

/// Where a device's tables live (libmodbus's modbus_mapping_t arrays, or a test's).
struct Image {
    std::uint16_t* holding;  ///< kHoldingRegisters words
    std::uint16_t* input;    ///< kInputRegisters words
    std::uint8_t* coils;     ///< kCoils entries, 0 or 1
    std::uint8_t* discrete;  ///< kDiscreteInputs entries, 0 or 1
};

/// Wall-clock seconds from milliseconds since the epoch (floor; the clock is past 1970).
inline std::int64_t wall_seconds(std::int64_t now_ms) {
    return now_ms / 1000;
}

namespace demo {

/// holding 0..1 uint32 ABCD: tenths of a second since the epoch, mod 2^32.
inline std::uint32_t tick(std::int64_t now_ms) {
    return static_cast<std::uint32_t>(static_cast<std::uint64_t>(now_ms / 100) & 0xFFFFFFFFU);
}
/// holding 2..3 float32 ABCD: constant per device (exact in float32 for seed <= kMaxSeed).
inline float constant(int seed) {
    return static_cast<float>(seed * 100) + 0.25F;
}
/// holding 4..5 float32 CDAB: changes every second.
inline float seconds(int seed, std::int64_t now_ms) {
    return static_cast<float>(seed * 10 + static_cast<int>(wall_seconds(now_ms) % 60));
}
/// holding 6 int16: constant, negative for seed > 0.
inline std::int16_t negative(int seed) {
    return static_cast<std::int16_t>(-seed * 7);
}
/// holding 7 uint16.
inline std::uint16_t seconds_mod_1000(std::int64_t now_ms) {
    return static_cast<std::uint16_t>(wall_seconds(now_ms) % 1000);
}
/// input 0 int16: a temperature in hundredths (read it with scale=0.01).
inline std::int16_t temperature_raw(int seed) {
    return static_cast<std::int16_t>(2150 + seed);
}
/// input 1..2 int32 ABCD.
inline std::int32_t counter(int seed) {
    return seed * 100000 + 1;
}
/// coil k (0..15): bit k of the seed; discrete input k: its complement.
inline std::uint8_t coil(int seed, unsigned k) {
    return static_cast<std::uint8_t>((static_cast<unsigned>(seed) >> k) & 1U);
}
inline std::uint8_t discrete(int seed, unsigned k) {
    return static_cast<std::uint8_t>(coil(seed, k) ^ 1U);
}

}  // namespace demo

namespace bench {

constexpr unsigned kValues = 10;  ///< float32 ABCD at holding 2k..2k+1

/// Value k (0..9): the float32 nearest to the double (seed + k/10) + (wall seconds mod 100).
inline float value(int seed, unsigned k, std::int64_t now_ms) {
    const double v =
        static_cast<double>(seed) + static_cast<double>(k) / 10.0 + static_cast<double>(wall_seconds(now_ms) % 100);
    return static_cast<float>(v);
}

}  // namespace bench

inline std::uint32_t float_bits(float f) {
    std::uint32_t bits = 0;
    std::memcpy(&bits, &f, sizeof bits);
    return bits;
}

/// Writes a 32-bit value at regs[0..1], ABCD (high word first) or CDAB (low word first).
inline void put32(std::uint16_t* regs, std::uint32_t v, bool word_swapped = false) {
    const auto high = static_cast<std::uint16_t>(v >> 16);
    const auto low = static_cast<std::uint16_t>(v & 0xFFFFU);
    regs[0] = word_swapped ? low : high;
    regs[1] = word_swapped ? high : low;
}

/// Writes every value the profile defines, as of `now_ms` (ms since the epoch). Called right
/// before each reply, so a read sees the values of the moment it is answered. Registers the
/// profile does not define are left alone (clients may write them).
inline void refresh(Profile profile, int seed, std::int64_t now_ms, const Image& image) {
    if (profile == Profile::Demo) {
        put32(image.holding + 0, demo::tick(now_ms));
        put32(image.holding + 2, float_bits(demo::constant(seed)));
        put32(image.holding + 4, float_bits(demo::seconds(seed, now_ms)), true);
        image.holding[6] = static_cast<std::uint16_t>(demo::negative(seed));
        image.holding[7] = demo::seconds_mod_1000(now_ms);
        image.input[0] = static_cast<std::uint16_t>(demo::temperature_raw(seed));
        put32(image.input + 1, static_cast<std::uint32_t>(demo::counter(seed)));
        for (unsigned k = 0; k < kProfileCoils; ++k)
            image.coils[k] = demo::coil(seed, k);
        for (unsigned k = 0; k < kDiscreteInputs; ++k)
            image.discrete[k] = demo::discrete(seed, k);
    } else {
        for (unsigned k = 0; k < bench::kValues; ++k)
            put32(image.holding + std::size_t{2} * k, float_bits(bench::value(seed, k, now_ms)));
    }
}

}  // namespace fieldgate::sim
