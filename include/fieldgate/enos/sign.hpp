#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace fieldgate::enos {

/// EnOS "sha256" sign: uppercase hex of plain SHA-256 (not HMAC) over the parameters sorted by
/// name, each written name then value, with the secret appended. Used for the CONNECT password
/// and for sub-device login.
std::string sign(const std::map<std::string, std::string>& params, std::string_view secret);

/// Uppercase hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

/// The secret-based MQTT CONNECT fields of a device or gateway (securemode=2, sha256).
struct ConnectCredentials {
    std::string client_id;  ///< "{pk}.{dk}|securemode=2,signmethod=sha256,timestamp={ts}|"
    std::string username;   ///< "{dk}&{pk}"
    std::string password;   ///< sign({clientId, deviceKey, productKey, timestamp}, secret)
};

ConnectCredentials connect_credentials(std::string_view product_key, std::string_view device_key,
                                       std::string_view secret, std::int64_t timestamp_ms);

}  // namespace fieldgate::enos
