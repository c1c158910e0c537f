#include "fieldgate/modbus/planner.hpp"

#include <algorithm>
#include <numeric>

namespace fieldgate::modbus {

namespace {

bool is_bit_table(config::Table t) {
    return t == config::Table::Coil || t == config::Table::Discrete;
}

// Never zero: even a degenerate point must land in some block.
std::uint32_t point_width(const config::Point& p) {
    return std::max<std::uint32_t>(p.width(), 1);
}

// Block counts are uint16; a point wider than that cannot be read anyway (validation rejects
// it long before), so clamp instead of wrapping round to a tiny count.
std::uint16_t clamp_count(std::uint32_t n) {
    return static_cast<std::uint16_t>(std::min<std::uint32_t>(n, 0xFFFF));
}

}  // namespace

Plan plan_reads(const std::vector<config::Point>& points, const PlanLimits& limits) {
    Plan plan;
    plan.block_of_point.assign(points.size(), 0);

    std::vector<std::size_t> order(points.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    // Table first (so each table's blocks come out together), then address; the wider point
    // first on a tie so the block's end is known as early as possible.
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        const auto& pa = points[a];
        const auto& pb = points[b];
        if (pa.table != pb.table) return static_cast<int>(pa.table) < static_cast<int>(pb.table);
        if (pa.address != pb.address) return pa.address < pb.address;
        return point_width(pa) > point_width(pb);
    });

    bool open = false;
    config::Table table = config::Table::Holding;
    std::uint32_t start = 0;
    std::uint32_t end = 0;  // one past the last register (bit) of the open block
    auto close_block = [&] {
        if (open) plan.blocks.push_back(ReadBlock{table, static_cast<std::uint16_t>(start), clamp_count(end - start)});
        open = false;
    };

    for (std::size_t i : order) {
        const auto& p = points[i];
        const std::uint32_t first = p.address;
        const std::uint32_t last = first + point_width(p);
        const bool bits = is_bit_table(p.table);
        const std::uint32_t cap = bits ? limits.max_bits : limits.max_registers;
        const std::uint32_t max_gap = bits ? limits.max_gap_bits : limits.max_gap_registers;

        bool joins = open && p.table == table;
        if (joins) {
            const std::uint32_t gap = first > end ? first - end : 0;
            joins = gap <= max_gap && std::max(end, last) - start <= cap;
        }
        if (!joins) {
            close_block();
            open = true;
            table = p.table;
            start = first;
            end = last;
        } else {
            end = std::max(end, last);
        }
        plan.block_of_point[i] = plan.blocks.size();  // the open block is pushed at this index
    }
    close_block();
    return plan;
}

Plan plan_single_reads(const std::vector<config::Point>& points) {
    Plan plan;
    plan.blocks.reserve(points.size());
    plan.block_of_point.reserve(points.size());
    for (const auto& p : points) {
        plan.block_of_point.push_back(plan.blocks.size());
        plan.blocks.push_back(ReadBlock{p.table, p.address, clamp_count(point_width(p))});
    }
    return plan;
}

}  // namespace fieldgate::modbus
