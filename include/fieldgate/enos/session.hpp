#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fieldgate::enos {

/// A sub-device as the session requests name it.
struct SubDeviceKeys {
    std::string product_key;
    std::string device_key;
    std::string secret;
};

/// `combine.login.batch`: one shared clientId and timestamp, and per sub-device its keys and the
/// sign over {clientId, deviceKey, productKey, timestamp} with its own secret.
std::string encode_login_batch(std::string_view id, std::string_view client_id, std::int64_t timestamp_ms,
                               const std::vector<SubDeviceKeys>& devices);

/// `combine.logout` of one sub-device (it shows offline in the cloud).
std::string encode_logout(std::string_view id, std::string_view product_key, std::string_view device_key);

/// The reply to a login batch: 200 (all in), 723 (some failed) or a code for the whole request.
struct LoginBatchReply {
    std::string id;
    int code = 0;
    std::vector<std::pair<std::string, std::string>> logged_in;               ///< (productKey, deviceKey)
    std::vector<std::pair<std::pair<std::string, std::string>, int>> failed;  ///< ((pk, dk), code)
};

std::optional<LoginBatchReply> parse_login_batch_reply(std::string_view payload);

}  // namespace fieldgate::enos
