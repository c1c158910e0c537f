#pragma once
// The hub's check of a gateway's MQTT CONNECT (ENOS-PROTOCOL.md "Connection"): pure functions,
// unit-tested; the front (front.hpp) applies them to the bytes on the wire.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fieldgate::cloudsim {

/// The length of the MQTT packet at the start of `data` (fixed header included), or nullopt
/// while it is incomplete; 0 when the remaining-length field is malformed.
std::optional<std::size_t> mqtt_packet_length(std::string_view data);

struct ConnectPacket {
    int protocol_level = 0;  ///< 4 = MQTT 3.1.1
    std::string client_id;
    std::optional<std::string> username;
    std::optional<std::string> password;
};

/// Parses a whole CONNECT packet; nullopt when it is not one or is malformed.
std::optional<ConnectPacket> parse_connect(std::string_view packet);

struct Identity {
    std::string product_key;
    std::string device_key;
    std::string device_secret;
};

/// The CONNACK return code the hub answers: 0 accepted; 1 not MQTT 3.1.1; 2 a client id not of
/// the form `ID|securemode=2,signmethod=sha256,timestamp=TS|`; 5 (not authorised) a user name
/// that is not `dk&pk` of the gateway; 4 (bad user name or password) a password that is not the
/// signature with the gateway's secret. `why` says which, for the log.
int check_connect(const ConnectPacket& connect, const Identity& gateway, std::string& why);

/// The 4-byte CONNACK with `code`.
std::string connack(int code);

}  // namespace fieldgate::cloudsim
