#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fieldgate::enos {

/// One element of a batch's params: `{"productKey":..,"deviceKey":..,"time":T,"measurepoints":{..}}`.
/// Empty product_key and device_key (the gateway's own points) leave both keys out.
/// `measurepoints` is already compact JSON (an object) and is copied verbatim.
std::string encode_record(std::string_view product_key, std::string_view device_key, std::int64_t time_ms,
                          std::string_view measurepoints);

struct BatchFlags {
    bool resume = false;  ///< thing.measurepoint.resume.batch (backfill) instead of post.batch
    bool allow_offline_subdevice = false;
    bool skip_invalid_measurepoints = false;
};

/// Bytes a batch adds around its records for an id of `id_length` characters (an upper bound).
std::size_t batch_overhead_bytes(std::size_t id_length);

/// The whole request, params built by concatenating the record texts (no re-parsing).
std::string encode_batch(std::string_view id, const BatchFlags& flags, const std::vector<std::string_view>& records);

/// A reply on a `_reply` topic.
struct Reply {
    std::string id;
    int code = 0;
    std::string message;
};

/// Parses a reply; nullopt when it is not a JSON object with a string id and an integer code.
std::optional<Reply> parse_reply(std::string_view payload);

/// A request the cloud sends down (combine/disable, enable, delete): its id and the sub-devices
/// it names, as "productKey/deviceKey".
struct DownstreamRequest {
    std::string id;
    std::vector<std::string> devices;
};

/// Parses a downstream request; nullopt when it has no string id.
std::optional<DownstreamRequest> parse_downstream(std::string_view payload);

/// The answer the hub expects to a downstream request: `{"id":"<id>","code":200,"data":{}}`.
std::string encode_ack(std::string_view id);

/// What the reply-code policy (DESIGN.md) does with a batch's outcome.
enum class ReplyAction {
    Delete,   ///< 200: the records are in the cloud
    Bisect,   ///< 1204/1206/1220: some record can never be accepted as sent
    Relogin,  ///< 1212: a sub-device is not logged in or not bound
    Shrink,   ///< 1008: too large; halve the byte limit and resend
    Retry,    ///< 1009 and anything else: transient, resend later with back-off
};

ReplyAction classify(int code);

}  // namespace fieldgate::enos
