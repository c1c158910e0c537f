#include "fieldgate/modbus/planner.hpp"

#include <CppUTest/TestHarness.h>

#include <string>

using fieldgate::config::Point;
using fieldgate::config::Table;
using fieldgate::config::ValueType;
using fieldgate::modbus::Plan;
using fieldgate::modbus::plan_reads;
using fieldgate::modbus::plan_single_reads;
using fieldgate::modbus::PlanLimits;

namespace {

Point point(Table table, std::uint16_t address, ValueType type, std::uint16_t count = 1) {
    Point p;
    p.id = "p" + std::to_string(address);
    p.table = table;
    p.address = address;
    p.type = type;
    p.count = count;
    p.is_array = count != 1;
    return p;
}

Point holding(std::uint16_t address, ValueType type, std::uint16_t count = 1) {
    return point(Table::Holding, address, type, count);
}

void check_block(const Plan& plan, std::size_t index, Table table, unsigned start, unsigned count) {
    CHECK(index < plan.blocks.size());
    CHECK(plan.blocks[index].table == table);
    UNSIGNED_LONGS_EQUAL(start, plan.blocks[index].start);
    UNSIGNED_LONGS_EQUAL(count, plan.blocks[index].count);
}

}  // namespace

TEST_GROUP(Planner){};

TEST(Planner, adjacent_points_merge_into_one_block) {
    const std::vector<Point> points{holding(0, ValueType::Uint16), holding(1, ValueType::Float32),
                                    holding(3, ValueType::Int64)};
    const Plan plan = plan_reads(points);
    UNSIGNED_LONGS_EQUAL(1, plan.blocks.size());
    check_block(plan, 0, Table::Holding, 0, 7);
    UNSIGNED_LONGS_EQUAL(3, plan.block_of_point.size());
    for (auto b : plan.block_of_point)
        UNSIGNED_LONGS_EQUAL(0, b);
}

TEST(Planner, empty_model_plans_nothing) {
    const Plan plan = plan_reads({});
    UNSIGNED_LONGS_EQUAL(0, plan.blocks.size());
    UNSIGNED_LONGS_EQUAL(0, plan.block_of_point.size());
}

TEST(Planner, small_gap_is_read_across) {
    // 2..11 unused: a gap of exactly max_gap_registers (10) still joins.
    const std::vector<Point> points{holding(0, ValueType::Float32), holding(12, ValueType::Uint16)};
    const Plan plan = plan_reads(points);
    UNSIGNED_LONGS_EQUAL(1, plan.blocks.size());
    check_block(plan, 0, Table::Holding, 0, 13);
}

TEST(Planner, gap_wider_than_limit_splits) {
    const std::vector<Point> points{holding(0, ValueType::Float32), holding(13, ValueType::Uint16)};
    const Plan plan = plan_reads(points);
    UNSIGNED_LONGS_EQUAL(2, plan.blocks.size());
    check_block(plan, 0, Table::Holding, 0, 2);
    check_block(plan, 1, Table::Holding, 13, 1);
    UNSIGNED_LONGS_EQUAL(0, plan.block_of_point[0]);
    UNSIGNED_LONGS_EQUAL(1, plan.block_of_point[1]);
}

TEST(Planner, zero_gap_limit_joins_only_touching_points) {
    PlanLimits limits;
    limits.max_gap_registers = 0;
    const std::vector<Point> points{holding(0, ValueType::Uint16), holding(1, ValueType::Uint16),
                                    holding(3, ValueType::Uint16)};
    const Plan plan = plan_reads(points, limits);
    UNSIGNED_LONGS_EQUAL(2, plan.blocks.size());
    check_block(plan, 0, Table::Holding, 0, 2);
    check_block(plan, 1, Table::Holding, 3, 1);
}

TEST(Planner, register_cap_splits_130_contiguous_registers_in_two) {
    std::vector<Point> points;
    for (std::uint16_t a = 0; a < 130; ++a)
        points.push_back(holding(a, ValueType::Uint16));
    const Plan plan = plan_reads(points);
    UNSIGNED_LONGS_EQUAL(2, plan.blocks.size());
    check_block(plan, 0, Table::Holding, 0, 125);
    check_block(plan, 1, Table::Holding, 125, 5);
    UNSIGNED_LONGS_EQUAL(0, plan.block_of_point[124]);
    UNSIGNED_LONGS_EQUAL(1, plan.block_of_point[125]);
}

TEST(Planner, point_crossing_the_cap_starts_the_next_block) {
    std::vector<Point> points;
    for (std::uint16_t a = 0; a < 124; ++a)
        points.push_back(holding(a, ValueType::Uint16));
    points.push_back(holding(124, ValueType::Float32));  // 124..125 would make 126 registers
    const Plan plan = plan_reads(points);
    UNSIGNED_LONGS_EQUAL(2, plan.blocks.size());
    check_block(plan, 0, Table::Holding, 0, 124);
    check_block(plan, 1, Table::Holding, 124, 2);
    UNSIGNED_LONGS_EQUAL(1, plan.block_of_point[124]);
}

TEST(Planner, custom_register_cap_is_honoured) {
    PlanLimits limits;
    limits.max_registers = 4;
    const std::vector<Point> points{holding(0, ValueType::Float32), holding(2, ValueType::Float32),
                                    holding(4, ValueType::Float32)};
    const Plan plan = plan_reads(points, limits);
    UNSIGNED_LONGS_EQUAL(2, plan.blocks.size());
    check_block(plan, 0, Table::Holding, 0, 4);
    check_block(plan, 1, Table::Holding, 4, 2);
}

TEST(Planner, bit_cap_splits_coils_at_2000) {
    std::vector<Point> points;
    for (std::uint16_t a = 0; a < 2010; ++a)
        points.push_back(point(Table::Coil, a, ValueType::Bool));
    const Plan plan = plan_reads(points);
    UNSIGNED_LONGS_EQUAL(2, plan.blocks.size());
    check_block(plan, 0, Table::Coil, 0, 2000);
    check_block(plan, 1, Table::Coil, 2000, 10);
}

TEST(Planner, bits_use_their_own_gap_limit) {
    // 64 unused bits join; the same gap in registers would not.
    const std::vector<Point> points{point(Table::Discrete, 0, ValueType::Bool),
                                    point(Table::Discrete, 65, ValueType::Bool),
                                    point(Table::Discrete, 200, ValueType::Bool)};
    const Plan plan = plan_reads(points);
    UNSIGNED_LONGS_EQUAL(2, plan.blocks.size());
    check_block(plan, 0, Table::Discrete, 0, 66);
    check_block(plan, 1, Table::Discrete, 200, 1);
}

TEST(Planner, bool_array_on_coils_counts_bits) {
    const std::vector<Point> points{point(Table::Coil, 10, ValueType::Bool, 16)};
    const Plan plan = plan_reads(points);
    check_block(plan, 0, Table::Coil, 10, 16);
}

TEST(Planner, tables_are_planned_separately) {
    const std::vector<Point> points{holding(0, ValueType::Uint16), point(Table::Input, 1, ValueType::Uint16),
                                    point(Table::Coil, 2, ValueType::Bool), holding(1, ValueType::Uint16)};
    const Plan plan = plan_reads(points);
    UNSIGNED_LONGS_EQUAL(3, plan.blocks.size());
    const auto& holding_block = plan.blocks[plan.block_of_point[0]];
    CHECK(holding_block.table == Table::Holding);
    UNSIGNED_LONGS_EQUAL(0, holding_block.start);
    UNSIGNED_LONGS_EQUAL(2, holding_block.count);
    UNSIGNED_LONGS_EQUAL(plan.block_of_point[0], plan.block_of_point[3]);
    CHECK(plan.blocks[plan.block_of_point[1]].table == Table::Input);
    UNSIGNED_LONGS_EQUAL(1, plan.blocks[plan.block_of_point[1]].start);
    CHECK(plan.blocks[plan.block_of_point[2]].table == Table::Coil);
    UNSIGNED_LONGS_EQUAL(2, plan.blocks[plan.block_of_point[2]].start);
}

TEST(Planner, block_of_point_follows_model_order_not_address_order) {
    const std::vector<Point> points{holding(200, ValueType::Uint16), holding(0, ValueType::Uint16),
                                    holding(100, ValueType::Uint16)};
    const Plan plan = plan_reads(points);
    UNSIGNED_LONGS_EQUAL(3, plan.blocks.size());
    UNSIGNED_LONGS_EQUAL(200, plan.blocks[plan.block_of_point[0]].start);
    UNSIGNED_LONGS_EQUAL(0, plan.blocks[plan.block_of_point[1]].start);
    UNSIGNED_LONGS_EQUAL(100, plan.blocks[plan.block_of_point[2]].start);
}

TEST(Planner, overlapping_points_share_a_block) {
    // A uint32 and its low word read as uint16: one read serves both.
    const std::vector<Point> points{holding(10, ValueType::Uint32), holding(11, ValueType::Uint16)};
    const Plan plan = plan_reads(points);
    UNSIGNED_LONGS_EQUAL(1, plan.blocks.size());
    check_block(plan, 0, Table::Holding, 10, 2);
}

TEST(Planner, contained_point_does_not_shrink_block) {
    const std::vector<Point> points{holding(10, ValueType::Uint64), holding(11, ValueType::Uint16),
                                    holding(14, ValueType::Uint16)};
    const Plan plan = plan_reads(points);
    UNSIGNED_LONGS_EQUAL(1, plan.blocks.size());
    check_block(plan, 0, Table::Holding, 10, 5);
}

TEST(Planner, string_and_array_widths_are_counted) {
    Point s = holding(0, ValueType::String);
    s.string_length = 8;
    const std::vector<Point> points{s, holding(8, ValueType::Float64, 3)};
    const Plan plan = plan_reads(points);
    UNSIGNED_LONGS_EQUAL(1, plan.blocks.size());
    check_block(plan, 0, Table::Holding, 0, 20);
}

TEST(Planner, bit_of_a_register_takes_one_register) {
    Point b = holding(5, ValueType::Bool);
    b.bit = 3;
    const Plan plan = plan_reads({b});
    check_block(plan, 0, Table::Holding, 5, 1);
}

TEST(Planner, point_at_the_top_of_the_address_space_fits) {
    const Plan plan = plan_reads({holding(65534, ValueType::Float32)});
    check_block(plan, 0, Table::Holding, 65534, 2);
}

TEST(Planner, single_reads_give_one_block_per_point_in_model_order) {
    const std::vector<Point> points{holding(1, ValueType::Float32), holding(0, ValueType::Uint16),
                                    point(Table::Input, 0, ValueType::Int64),
                                    point(Table::Coil, 3, ValueType::Bool, 4)};
    const Plan plan = plan_single_reads(points);
    UNSIGNED_LONGS_EQUAL(4, plan.blocks.size());
    for (std::size_t i = 0; i < points.size(); ++i)
        UNSIGNED_LONGS_EQUAL(i, plan.block_of_point[i]);
    check_block(plan, 0, Table::Holding, 1, 2);
    check_block(plan, 1, Table::Holding, 0, 1);
    check_block(plan, 2, Table::Input, 0, 4);
    check_block(plan, 3, Table::Coil, 3, 4);
}
