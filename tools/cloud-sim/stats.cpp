#include "stats.hpp"

#include <json/json.h>

#include <tuple>

namespace fieldgate::cloudsim {

void Stats::add(const Outcome& outcome) {
    ++requests;
    ++requests_by_code[outcome.code];
    records_accepted += outcome.records_accepted;
    if (outcome.kind == RequestKind::PostBatch) records_post += outcome.records_accepted;
    if (outcome.kind == RequestKind::ResumeBatch) records_resume += outcome.records_accepted;
    points_dropped += outcome.points_dropped;
    if (outcome.fault_injected) ++faults_injected;
    if (!outcome.send_reply) ++replies_dropped;
}

bool Stats::operator==(const Stats& o) const {
    return std::tie(requests, requests_by_code, records_accepted, records_post, records_resume, points_dropped,
                    faults_injected, replies_dropped, replies_failed, unknown_topic) ==
           std::tie(o.requests, o.requests_by_code, o.records_accepted, o.records_post, o.records_resume,
                    o.points_dropped, o.faults_injected, o.replies_dropped, o.replies_failed, o.unknown_topic);
}

std::string describe(const Stats& now, const Stats& before) {
    std::string codes;
    for (const auto& [code, n] : now.requests_by_code) {
        const auto it = before.requests_by_code.find(code);
        const std::uint64_t delta = n - (it == before.requests_by_code.end() ? 0 : it->second);
        if (delta == 0) continue;
        if (!codes.empty()) codes += ' ';
        codes += std::to_string(code) + ":" + std::to_string(delta);
    }
    const std::uint64_t requests = now.requests - before.requests;
    std::string text = std::to_string(requests) + (requests == 1 ? " request" : " requests");
    if (!codes.empty()) text += " (" + codes + ")";
    text += ", " + std::to_string(now.records_accepted - before.records_accepted) + " records (post " +
            std::to_string(now.records_post - before.records_post) + ", resume " +
            std::to_string(now.records_resume - before.records_resume) + ")";
    const auto extra = [&](std::uint64_t a, std::uint64_t b, const char* what) {
        if (a != b) text += ", " + std::to_string(a - b) + " " + what;
    };
    extra(now.points_dropped, before.points_dropped, "invalid points dropped");
    extra(now.faults_injected, before.faults_injected, "faults injected");
    extra(now.replies_dropped, before.replies_dropped, "replies dropped by fault injection");
    extra(now.replies_failed, before.replies_failed, "replies not sent (broker unreachable)");
    extra(now.unknown_topic, before.unknown_topic, "messages on unknown topics");
    return text;
}

std::string stats_json(const Stats& s, std::size_t sessions) {
    Json::Value root(Json::objectValue);
    root["requests"] = Json::UInt64(s.requests);
    Json::Value by_code(Json::objectValue);
    for (const auto& [code, n] : s.requests_by_code)
        by_code[std::to_string(code)] = Json::UInt64(n);
    root["requests_by_code"] = by_code;
    root["records_accepted"] = Json::UInt64(s.records_accepted);
    root["records_by_topic"]["post"] = Json::UInt64(s.records_post);
    root["records_by_topic"]["resume"] = Json::UInt64(s.records_resume);
    root["points_dropped"] = Json::UInt64(s.points_dropped);
    root["faults_injected"] = Json::UInt64(s.faults_injected);
    root["replies_dropped"] = Json::UInt64(s.replies_dropped);
    root["replies_failed"] = Json::UInt64(s.replies_failed);
    root["sessions"] = Json::UInt64(sessions);
    Json::StreamWriterBuilder wb;
    wb["indentation"] = "";
    return Json::writeString(wb, root) + "\n";
}

}  // namespace fieldgate::cloudsim
