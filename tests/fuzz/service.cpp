// Fuzz target: the cloud's measurepoint set/get requests (DESIGN.md "Writes from the cloud"):
// the strict JSON reader, the request parser, the whole-request check against a model that has
// every point type, and the write encoder. Oracles: a request the parser accepts has an id and
// params of the right shape; a reply is valid JSON and carries the id; append_json writes back
// what parse_json read (valid JSON, and a fixed point); every encoded write has exactly the
// point's width and decodes again without a point left out.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fieldgate/config/point_grammar.hpp"
#include "fieldgate/enos/service.hpp"
#include "fieldgate/modbus/decode.hpp"
#include "fieldgate/modbus/encode.hpp"
#include "fieldgate/util/json_reader.hpp"
#include "fuzz_support.hpp"

using namespace fieldgate;

namespace {

const std::vector<config::Point>& model() {
    static const std::vector<config::Point> points = [] {
        const char* lines[][2] = {{"i16", "holding:0 int16 BADC writable"},
                                  {"u16", "holding:1 uint16 scale=0.5 offset=-3 writable"},
                                  {"i32", "holding:2 int32 CDAB writable"},
                                  {"u32", "holding:4 uint32 DCBA as=string writable"},
                                  {"i64", "holding:6 int64 writable"},
                                  {"u64", "holding:10 uint64 BADC writable"},
                                  {"f32", "holding:14 float32 CDAB scale=0.001 writable"},
                                  {"f64", "holding:16 float64 DCBA writable"},
                                  {"s", "holding:20 string[3] writable"},
                                  {"arr", "holding:23 float32[2] writable"},
                                  {"c", "coil:0 bool writable"},
                                  {"cs", "coil:1 bool[3] writable"},
                                  {"ro", "input:0 int16"}};
        std::vector<config::Point> out;
        for (const auto& l : lines) {
            auto r = config::parse_point(l[0], l[1]);
            fuzz::require(r.point.has_value(), "the fuzz model parses");
            out.push_back(*r.point);
        }
        return out;
    }();
    return points;
}

void check_reply(const std::string& id, int code, const std::string& message) {
    const Json::Value v = fuzz::must_parse(enos::service_reply(id, code, "{}", message), "service_reply");
    fuzz::require(v["id"].asString() == id && v["code"].asInt() == code, "reply carries id and code");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);

    util::JsonValue v;
    std::string error;
    if (util::parse_json(text, v, error)) {
        std::string once;
        util::append_json(once, v);
        fuzz::must_parse(once, "append_json", /*scalar_root=*/true);  // parse_json takes any value
        util::JsonValue again;
        fuzz::require(util::parse_json(once, again, error), "parse_json reads what append_json wrote");
        std::string twice;
        util::append_json(twice, again);
        fuzz::require(once == twice, "append_json after parse_json is a fixed point");
    }

    for (const auto service : {enos::Service::Set, enos::Service::Get}) {
        const enos::ServiceRequest r = enos::parse_service_request(service, text);
        if (r.code != 0) {
            fuzz::require(r.code == 1220 || r.code == 1251 || r.code == 1260, "refusal codes are the hub's");
            if (!r.id.empty()) check_reply(r.id, r.code, r.message);
            continue;
        }
        check_reply(r.id, 200, {});
        if (service == enos::Service::Get) {
            fuzz::require(r.params.kind == util::JsonValue::Kind::Array, "get params are an array");
            continue;
        }
        fuzz::require(r.params.kind == util::JsonValue::Kind::Object && !r.params.members.empty(),
                      "set params are a non-empty object");
        const modbus::WritePlan plan = modbus::check_set_request(model(), r.params);
        if (!plan.ok) {
            fuzz::require(plan.writes.empty() && !plan.error.empty(), "a refused set writes nothing and says why");
            check_reply(r.id, 400, plan.error);
            continue;
        }
        fuzz::require(plan.writes.size() == r.params.members.size(), "every point of a set is written");
        for (const auto& w : plan.writes) {
            const config::Point& p = model().at(w.point);
            const bool bits = p.table == config::Table::Coil;
            fuzz::require((bits ? w.data.bits.size() : w.data.registers.size()) == p.width(),
                          "an encoded write has the point's width");
            modbus::BlockData d;
            d.ok = true;
            d.registers = w.data.registers;
            d.bits = w.data.bits;
            auto q = p;
            q.address = 0;
            const std::vector<config::Point> at0{q};
            const auto m = modbus::encode_measurepoints(at0, modbus::plan_single_reads(at0), {d});
            fuzz::require(m.written + m.non_finite == 1 && m.unreadable == 0, "an encoded write decodes again");
            fuzz::must_parse(m.json, "the decoded write");
        }
    }
    return 0;
}
