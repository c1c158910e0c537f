// Fuzz target: one model line, `<id> = <table>:<address> <type> [order] [scale=F] ...`.
// Oracle: a point that parses fits its table (address + width <= 65536) and the limits of
// point_grammar.hpp; parsing never throws or crashes.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fieldgate/config/point_grammar.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fieldgate::fuzz::Bytes in(data, size);
    const std::string id = in.str(16);
    const std::string spec(in.rest());
    const auto r = fieldgate::config::parse_point(id, spec);
    fieldgate::fuzz::require(r.point.has_value() == r.errors.empty(), "point xor errors");
    if (r.point) {
        const auto& p = *r.point;
        fieldgate::fuzz::require(std::uint32_t{p.address} + p.width() <= 65536, "point fits its table");
        fieldgate::fuzz::require(p.count >= 1 && p.count <= fieldgate::config::kMaxArrayLength, "array length");
        fieldgate::fuzz::require(!p.bit || *p.bit < 16, "bit 0..15");
    }
    return 0;
}
