#pragma once
// The cloud's side of measurepoint set/get: sends requests to a gateway as the hub would and
// records the replies (DESIGN.md "Writes from the cloud").
#include <istream>
#include <ostream>
#include <string>

namespace fieldgate::cloudsim {

/// Connects to `broker_uri` as a client of its own, then for each input line `TOPIC PAYLOAD`
/// subscribes to TOPIC_reply (once per topic), publishes PAYLOAD at QoS 1 and waits at most
/// `timeout_ms` for the reply with the request's id. Writes one JSON line per request to `out`:
/// `{"topic":T,"request":PAYLOAD,"reply":REPLY|null,"latency_ms":X}` (REPLY as received; null
/// when none came). Requests go one at a time, in order. Returns 0, or 1 when the broker could
/// not be reached or a line is not `TOPIC PAYLOAD`.
int send_requests(const std::string& broker_uri, std::istream& in, std::ostream& out, int timeout_ms);

}  // namespace fieldgate::cloudsim
