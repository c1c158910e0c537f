#include <json/json.h>

#include <sstream>

#include "stats.hpp"

// Last: CppUTest redefines new for leak detection, which must not reach the other headers.
#include <CppUTest/TestHarness.h>

using namespace fieldgate::cloudsim;

TEST_GROUP(CloudSimStats){};

namespace {
Outcome outcome(RequestKind kind, int code, std::uint64_t records) {
    Outcome o;
    o.kind = kind;
    o.code = code;
    o.records_accepted = records;
    return o;
}
}  // namespace

TEST(CloudSimStats, describe_counts_only_what_happened_since_the_last_report) {
    Stats s;
    s.add(outcome(RequestKind::PostBatch, 200, 1000));
    s.add(outcome(RequestKind::PostBatch, 1204, 0));
    const Stats before = s;
    s.add(outcome(RequestKind::ResumeBatch, 200, 500));
    s.add(outcome(RequestKind::Login, 742, 0));
    STRCMP_EQUAL("2 requests (200:1 742:1), 500 records (post 0, resume 500)", describe(s, before).c_str());
    STRCMP_EQUAL("4 requests (200:2 742:1 1204:1), 1500 records (post 1000, resume 500)", describe(s, Stats{}).c_str());
    CHECK(s != before);
    CHECK(s == s);
}

TEST(CloudSimStats, stats_json_holds_codes_and_records) {
    Stats s;
    s.add(outcome(RequestKind::PostBatch, 200, 7));
    s.add(outcome(RequestKind::PostBatch, 1212, 0));
    Json::Value v;
    std::istringstream in(stats_json(s, 3));
    Json::CharReaderBuilder b;
    std::string errs;
    CHECK(Json::parseFromStream(b, in, &v, &errs));
    CHECK_EQUAL(2, v["requests"].asInt());
    CHECK_EQUAL(1, v["requests_by_code"]["200"].asInt());
    CHECK_EQUAL(1, v["requests_by_code"]["1212"].asInt());
    CHECK_EQUAL(7, v["records_accepted"].asInt());
    CHECK_EQUAL(7, v["records_by_topic"]["post"].asInt());
    CHECK_EQUAL(3, v["sessions"].asInt());
}
