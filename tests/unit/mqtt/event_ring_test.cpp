#include "fieldgate/mqtt/event_ring.hpp"

#include <cstring>
#include <string>
#include <vector>

// CppUTest's leak detector redefines new: it comes after every other header.
#include <CppUTest/TestHarness.h>

using namespace fieldgate::mqtt;

namespace {

RawEvent raw(Event::Kind kind, std::uint64_t generation, const char* reason = "") {
    RawEvent e;
    e.kind = kind;
    e.generation = generation;
    e.set_reason(reason);
    return e;
}

}  // namespace

TEST_GROUP(EventRing){};

TEST(EventRing, a_late_event_of_a_replaced_handle_is_set_apart_from_the_current_ones) {
    EventRing ring;
    CHECK(ring.push(raw(Event::Kind::Connected, 1)));
    CHECK(ring.push(raw(Event::Kind::ConnectionLost, 1, "old socket closed")));  // late, from handle 1
    CHECK(ring.push(raw(Event::Kind::Connected, 2)));
    std::vector<RawEvent> current;
    std::vector<RawEvent> stale;
    CHECK_FALSE(ring.take(2, current, stale));
    LONGS_EQUAL(1, current.size());
    CHECK(current[0].kind == Event::Kind::Connected);
    LONGS_EQUAL(2, stale.size());
    STRCMP_EQUAL("old socket closed", stale[1].reason);
    current.clear();
    stale.clear();
    ring.take(2, current, stale);
    LONGS_EQUAL(0, current.size() + stale.size());
}

TEST(EventRing, a_full_ring_refuses_without_allocating_and_remembers_a_lost_state_event) {
    EventRing ring;
    for (std::size_t i = 0; i < EventRing::kCapacity; ++i)
        CHECK(ring.push(raw(Event::Kind::Message, 3)));
    CHECK_FALSE(ring.push(raw(Event::Kind::Message, 3)));  // offered again later by the library
    std::vector<RawEvent> current;
    std::vector<RawEvent> stale;
    CHECK_FALSE(ring.take(3, current, stale));  // a refused message is not a lost event
    LONGS_EQUAL(EventRing::kCapacity, current.size());
    for (std::size_t i = 0; i < EventRing::kCapacity; ++i)
        CHECK(ring.push(raw(Event::Kind::Message, 3)));
    CHECK_FALSE(ring.push(raw(Event::Kind::ConnectionLost, 3)));
    current.clear();
    CHECK(ring.take(3, current, stale));  // the owner hears that a state change was lost
    CHECK_FALSE(ring.take(3, current, stale));
}

TEST(EventRing, a_long_reason_is_cut_to_fit) {
    const std::string long_text(500, 'x');
    const RawEvent e = raw(Event::Kind::ConnectFailed, 1, long_text.c_str());
    LONGS_EQUAL(sizeof e.reason - 1, std::strlen(e.reason));
}
