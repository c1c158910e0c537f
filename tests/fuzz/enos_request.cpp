// Fuzz target: the requests the gateway builds from outside data (keys and ids from the
// configuration, measurepoints decoded from devices): batch, record, login and logout JSON must
// be valid JSON whatever bytes the strings hold, and say what they were given.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fieldgate/enos/batch.hpp"
#include "fieldgate/enos/session.hpp"
#include "fieldgate/util/json.hpp"
#include "fuzz_support.hpp"

using namespace fieldgate;

namespace {
// jsoncpp's strict mode accepts only UTF-8: the encoders pass UTF-8 through, as the design
// says ids and keys are UTF-8, so feed them valid UTF-8 (bytes >= 0x80 folded to ASCII).
std::string ascii_or_utf8(std::string s) {
    for (auto& c : s)
        if (static_cast<unsigned char>(c) >= 0x80) c = static_cast<char>(c & 0x7F);
    return s;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::Bytes in(data, size);
    const std::string id = ascii_or_utf8(in.str(24));
    const std::string pk = ascii_or_utf8(in.str(24));
    const std::string dk = ascii_or_utf8(in.str(24));
    const std::int64_t t = static_cast<std::int64_t>(in.u16()) * 1000003;
    // A measurepoints object as decode writes it: keys escaped, values numbers.
    std::string mp = "{";
    const unsigned n = in.u8() % 5;
    for (unsigned i = 0; i < n; ++i) {
        if (i) mp += ',';
        util::append_json_string(mp, ascii_or_utf8(in.str(12)));
        mp += ':' + std::to_string(static_cast<int>(in.u16()) - 30000);
    }
    mp += '}';
    const std::string record = enos::encode_record(pk, dk, t, mp);
    const Json::Value r = fuzz::must_parse(record, "encode_record");
    if (!pk.empty() || !dk.empty()) {
        fuzz::require(r["productKey"].asString() == pk && r["deviceKey"].asString() == dk, "record keys round trip");
    }
    enos::BatchFlags flags;
    flags.resume = (in.u8() & 1) != 0;
    const std::string batch = enos::encode_batch(id, flags, {record, record});
    const Json::Value b = fuzz::must_parse(batch, "encode_batch");
    fuzz::require(b["id"].asString() == id, "batch id round trip");
    fuzz::require(b["params"].isObject() || b["params"].isArray(), "batch params");
    // The bound is for the uplink's own ids (digits): ids that need escaping are longer.
    const bool plain_id =
        id.find_first_of("\"\\") == std::string::npos &&
        std::none_of(id.begin(), id.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; });
    if (plain_id)
        fuzz::require(batch.size() <= enos::batch_overhead_bytes(id.size()) + 2 * record.size() + 1,
                      "batch_overhead_bytes is an upper bound");
    fuzz::must_parse(enos::encode_logout(id, pk, dk), "encode_logout");
    return 0;
}
