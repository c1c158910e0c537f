#pragma once
// Counters of what the sim did, and their two renderings: the periodic log line and the
// --stats JSON file. Pure: no clock, no I/O.
#include <cstdint>
#include <map>
#include <string>

#include "hub.hpp"

namespace fieldgate::cloudsim {

struct Stats {
    std::uint64_t requests = 0;
    std::map<int, std::uint64_t> requests_by_code;
    std::uint64_t records_accepted = 0;
    std::uint64_t records_post = 0;
    std::uint64_t records_resume = 0;
    std::uint64_t points_dropped = 0;   ///< under skipInvalidMeasurepoints
    std::uint64_t faults_injected = 0;  ///< replies whose code [faults] forced
    std::uint64_t replies_dropped = 0;  ///< replies [faults] drop_replies held back
    std::uint64_t replies_failed = 0;   ///< replies the MQTT client could not send
    std::uint64_t unknown_topic = 0;    ///< messages on a topic that is not one of the five

    /// Counts one handled request.
    void add(const Outcome& outcome);
    bool operator==(const Stats& other) const;
    bool operator!=(const Stats& other) const { return !(*this == other); }
};

/// "12 requests (200:10 1204:2), 9800 records (post 9800, resume 0)" for the counts in `now`
/// since `before` (pass a default Stats for totals).
std::string describe(const Stats& now, const Stats& before);

/// The --stats file: {"requests", "requests_by_code": {"200": n}, "records_accepted",
/// "records_by_topic": {"post", "resume"}, "points_dropped", "faults_injected",
/// "replies_dropped", "replies_failed", "sessions"}.
std::string stats_json(const Stats& stats, std::size_t sessions);

}  // namespace fieldgate::cloudsim
