#pragma once
// The simulator's own INI file (see README.md for every key). Parsing is pure: text in,
// configuration or compiler-style errors out.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hub.hpp"

namespace fieldgate::cloudsim {

struct SimConfig {
    std::string broker = "tcp://127.0.0.1:18830";  ///< tcp://host:port (loopback in tests)
    std::string client_id = "fieldgate-cloud-sim";
    std::string records = "/tmp/fieldgate-demo/cloud-records.jsonl";
    bool append_records = false;      ///< false: the records file is emptied at start
    bool logout_on_reconnect = true;  ///< see README: the sim's stand-in for the gateway's drop
    std::int64_t summary_interval_ms = 10'000;
    /// The authenticating front's port on 127.0.0.1 (front.hpp); 0: none, the gateway goes
    /// straight to the broker and its credentials are not checked.
    std::uint16_t front_port = 0;
    std::string connects_log;  ///< the front's JSON lines, one per CONNECT; "" for none
    HubConfig hub;
};

struct ConfigResult {
    std::optional<SimConfig> config;  ///< set when there is no error
    std::vector<std::string> errors;  ///< "FILE:LINE: [SECTION] KEY: what is wrong; what is accepted"
    std::vector<std::string> notes;   ///< harmless but worth a log line (e.g. a product without a model)
};

/// Parses INI text; `file_name` only labels the messages.
ConfigResult parse_config(std::string_view text, std::string_view file_name);

/// Reads and parses a file; an unreadable file is one error.
ConfigResult load_config(const std::string& path);

/// Splits "tcp://host:port"; nullopt unless the scheme is tcp and the port is 1..65535.
struct BrokerAddress {
    std::string host;
    std::uint16_t port = 0;
};
std::optional<BrokerAddress> parse_broker_uri(std::string_view uri);

}  // namespace fieldgate::cloudsim
