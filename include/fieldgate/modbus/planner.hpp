#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fieldgate/config/config.hpp"

namespace fieldgate::modbus {

/// One Modbus read request: function 1/2/3/4 by table, `count` registers or bits from `start`.
struct ReadBlock {
    config::Table table = config::Table::Holding;
    std::uint16_t start = 0;
    std::uint16_t count = 0;
};

struct PlanLimits {
    std::uint16_t max_registers = 125;  ///< protocol cap for FC3/FC4
    std::uint16_t max_bits = 2000;      ///< protocol cap for FC1/FC2
    /// Unused registers (bits) a block may read across to join two points; reading a few
    /// more words is far cheaper than another round trip (9600 baud: ~2 ms/word vs ~40 ms/request).
    std::uint16_t max_gap_registers = 10;
    std::uint16_t max_gap_bits = 64;
};

/// A device's read plan: the blocks, and for every point (same index as the model's points)
/// which block holds it.
struct Plan {
    std::vector<ReadBlock> blocks;
    std::vector<std::size_t> block_of_point;
};

/// Groups a model's points into as few requests as the caps allow, per table, in address
/// order. A point never straddles two blocks. Pure; never fails for points that fit 0..65535.
Plan plan_reads(const std::vector<config::Point>& points, const PlanLimits& limits = {});

/// The plan with one block per point: the fall-back when a merged block is refused with
/// "illegal data address" because it crosses a hole in the device's register map.
Plan plan_single_reads(const std::vector<config::Point>& points);

}  // namespace fieldgate::modbus
