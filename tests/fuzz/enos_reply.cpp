// Fuzz target: what the hub sends down: batch replies, login batch replies and downstream
// requests (the same bytes through all three parsers), and the ack written back for an id.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fieldgate/enos/batch.hpp"
#include "fieldgate/enos/session.hpp"
#include "fuzz_support.hpp"

using namespace fieldgate;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view payload(reinterpret_cast<const char*>(data), size);
    if (const auto reply = enos::parse_reply(payload)) {
        (void)enos::classify(reply->code);
        const Json::Value ack = fuzz::must_parse(enos::encode_ack(reply->id), "encode_ack");
        fuzz::require(ack["id"].asString() == reply->id, "ack id round trip");
    }
    if (const auto login = enos::parse_login_batch_reply(payload)) {
        for (const auto& d : login->logged_in)
            (void)d;
    }
    if (const auto down = enos::parse_downstream(payload)) {
        const Json::Value ack = fuzz::must_parse(enos::encode_ack(down->id), "encode_ack");
        fuzz::require(ack["id"].asString() == down->id, "downstream ack id round trip");
    }
    return 0;
}
