#include "fieldgate/daemon/reload.hpp"

#include <tuple>

namespace fieldgate::daemon {
namespace {

// Field by field, leaving out `line` (moving a section in the file changes nothing).
auto key_of(const config::Bus& b) {
    return std::tie(b.type, b.device, b.baud, b.parity, b.data_bits, b.stop_bits, b.frame_gap_ms, b.host, b.port,
                    b.timeout_ms);
}
auto key_of(const config::Point& p) {
    return std::tie(p.id, p.table, p.address, p.type, p.count, p.is_array, p.string_length, p.order, p.scale, p.offset,
                    p.bit, p.quality, p.as_string);
}
auto key_of(const config::Device& d) {
    return std::tie(d.product_key, d.device_key, d.device_secret, d.model, d.bus, d.unit_id, d.interval_ms,
                    d.timeout_ms, d.offline_after, d.probe_max_ms);
}
bool same(const config::Model& a, const config::Model& b) {
    if (a.points.size() != b.points.size()) return false;
    for (std::size_t i = 0; i < a.points.size(); ++i)
        if (key_of(a.points[i]) != key_of(b.points[i])) return false;
    return true;
}
bool same(const config::Bus& a, const config::Bus& b) {
    return key_of(a) == key_of(b);
}

// "[<prefix><name>] <what>", appended in place: no temporary string per section.
std::string section_line(const std::string& prefix, const std::string& name, const char* what) {
    std::string line = "[";
    line.append(prefix).append(name).append("] ").append(what);
    return line;
}

template <typename Map>
void diff_sections(const Map& was, const Map& now, const std::string& prefix, std::vector<std::string>& out) {
    for (const auto& [name, v] : now) {
        auto it = was.find(name);
        if (it == was.end())
            out.push_back(section_line(prefix, name, "added"));
        else if (!same(it->second, v))
            out.push_back(section_line(prefix, name, "changed"));
    }
    for (const auto& [name, v] : was)
        if (!now.count(name)) out.push_back(section_line(prefix, name, "removed"));
}

}  // namespace

ReloadPlan plan_reload(const config::Config& running, const config::Config& loaded) {
    ReloadPlan plan;
    auto note = [&](bool changed, const char* key, std::vector<std::string>& into) {
        if (changed) into.push_back(key);
    };
    const auto& g0 = running.gateway;
    const auto& g1 = loaded.gateway;
    note(g0.product_key != g1.product_key, "[gateway] product_key", plan.applied);
    note(g0.device_key != g1.device_key, "[gateway] device_key", plan.applied);
    note(g0.device_secret != g1.device_secret, "[gateway] device_secret", plan.applied);
    note(g0.control_socket != g1.control_socket, "[gateway] control_socket", plan.on_restart);
    const auto& m0 = running.mqtt;
    const auto& m1 = loaded.mqtt;
    note(m0.uri != m1.uri, "[mqtt] uri", plan.applied);
    note(m0.keepalive_ms != m1.keepalive_ms, "[mqtt] keepalive", plan.applied);
    note(m0.ca_file != m1.ca_file, "[mqtt] ca_file", plan.applied);
    note(m0.cert_file != m1.cert_file, "[mqtt] cert_file", plan.applied);
    note(m0.key_file != m1.key_file, "[mqtt] key_file", plan.applied);
    plan.keep_connection = plan.applied.empty();

    const auto& s0 = running.store;
    const auto& s1 = loaded.store;
    note(s0.path != s1.path, "[store] path", plan.on_restart);
    note(s0.max_bytes != s1.max_bytes, "[store] max_bytes", plan.applied);
    note(s0.max_age_ms != s1.max_age_ms, "[store] max_age", plan.applied);
    note(s0.overflow != s1.overflow, "[store] overflow", plan.applied);
    note(s0.commit_interval_ms != s1.commit_interval_ms, "[store] commit_interval", plan.applied);
    note(s0.durability != s1.durability, "[store] durability", plan.applied);

    const auto& u0 = running.uplink;
    const auto& u1 = loaded.uplink;
    note(u0.batch_max_records != u1.batch_max_records, "[uplink] batch_max_records", plan.applied);
    note(u0.batch_max_bytes != u1.batch_max_bytes, "[uplink] batch_max_bytes", plan.applied);
    note(u0.inflight != u1.inflight, "[uplink] inflight", plan.applied);
    note(u0.reply_timeout_ms != u1.reply_timeout_ms, "[uplink] reply_timeout", plan.applied);
    note(u0.resume_after_ms != u1.resume_after_ms, "[uplink] resume_after", plan.applied);
    note(u0.retry_min_ms != u1.retry_min_ms, "[uplink] retry_min", plan.applied);
    note(u0.retry_max_ms != u1.retry_max_ms, "[uplink] retry_max", plan.applied);
    note(u0.allow_offline_subdevice != u1.allow_offline_subdevice, "[uplink] allow_offline_subdevice", plan.applied);
    note(u0.skip_invalid_measurepoints != u1.skip_invalid_measurepoints, "[uplink] skip_invalid_measurepoints",
         plan.applied);

    diff_sections(running.buses, loaded.buses, "bus.", plan.applied);
    diff_sections(running.models, loaded.models, "model.", plan.applied);
    std::map<std::string, const config::Device*> d0, d1;
    for (const auto& d : running.devices)
        d0[d.name] = &d;
    for (const auto& d : loaded.devices)
        d1[d.name] = &d;
    for (const auto& [name, d] : d1) {
        auto it = d0.find(name);
        if (it == d0.end())
            plan.applied.push_back("[device." + name + "] added");
        else if (key_of(*it->second) != key_of(*d))
            plan.applied.push_back("[device." + name + "] changed");
    }
    for (const auto& [name, d] : d0)
        if (!d1.count(name)) plan.applied.push_back("[device." + name + "] removed");
    return plan;
}

}  // namespace fieldgate::daemon
