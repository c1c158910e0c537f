#include "sim_config.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <utility>

#include "fieldgate/util/ini_fields.hpp"

namespace fieldgate::cloudsim {
namespace {

using util::Fields;
using util::IniSection;
using util::quote;

constexpr std::string_view kSections = "[hub] [gateway] [product.PK] [device.NAME] [faults]";
constexpr std::string_view kProductPrefix = "product.";
constexpr std::string_view kDevicePrefix = "device.";
constexpr std::int64_t kMaxSummaryMs = 7LL * 24 * 3600 * 1000;

template <typename T>
std::optional<T> parse_integer(std::string_view text) {
    T value{};
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
}

bool has_prefix(const std::string& name, std::string_view prefix) {
    return name.size() > prefix.size() && name.compare(0, prefix.size(), prefix) == 0;
}

void read_hub(Fields& f, SimConfig& sim) {
    if (const auto* e = f.text("broker", sim.broker)) {
        if (!parse_broker_uri(sim.broker))
            f.error(*e, "bad broker address " + quote(sim.broker) + "; accepted: tcp://HOST:PORT");
    }
    if (const auto* e = f.text("client_id", sim.client_id)) {
        if (sim.client_id.empty() || sim.client_id.size() > 64)
            f.error(*e, "bad client id " + quote(sim.client_id) + "; accepted: 1..64 characters");
    }
    if (const auto* e = f.text("records", sim.records)) {
        if (sim.records.empty()) f.error(*e, "empty; accepted: a file path for the accepted records");
    }
    f.boolean("append_records", sim.append_records);
    f.boolean("logout_on_reconnect", sim.logout_on_reconnect);
    f.duration("summary_interval", sim.summary_interval_ms, 1, kMaxSummaryMs);
    if (const auto port = f.integer("front", 0, 65535)) sim.front_port = static_cast<std::uint16_t>(*port);
    f.text("connects", sim.connects_log);
}

// [gateway] and [device.*]: the secret is required of a sub-device only (the gateway's is for
// the front, which may be off).
void read_identity(Fields& f, std::string& pk, std::string& dk, std::string& secret, bool secret_required) {
    f.required_text("product_key", pk);
    f.required_text("device_key", dk);
    if (secret_required) {
        f.required_text("device_secret", secret);
    } else if (const auto* e = f.text("device_secret", secret); e && secret.empty()) {
        f.error(*e, "empty; accepted: the gateway's device secret");
    }
}

void read_product(Fields& f, ThingModel& model) {
    for (const auto* e : f.take_all()) {
        if (const auto type = parse_point_type(e->value))
            model.emplace(e->key, *type);
        else
            f.error(*e, "bad point type " + quote(e->value) + "; accepted: number integer string bool array any");
    }
}

void read_faults(Fields& f, Faults& faults) {
    if (const auto code = f.integer("reply_code", 0, 99999)) {
        if (*code == kCodeOk)
            f.error(*f.find("reply_code"),
                    "200 is success; accepted: 0 (off) or an error code such as 1206, 1212, "
                    "1008, 500");
        else
            faults.reply_code = static_cast<int>(*code);
    }
    constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
    if (const auto n = f.integer("every", 0, kMax)) faults.every = static_cast<std::uint64_t>(*n);
    if (const auto n = f.integer("drop_replies", 0, kMax)) faults.drop_replies = static_cast<std::uint64_t>(*n);
}

struct DeviceSection {
    const IniSection* section;
    SubDevice device;
};

// What spans sections: the gateway's keys, each sub-device's identity, the faults pair.
void check_across(util::Report& report, const util::SectionNames& seen, const std::string& file,
                  std::vector<DeviceSection>& devices, HubConfig& hub, std::vector<std::string>& notes) {
    if (!seen.find("gateway"))
        report.error(file + ": [gateway]: section missing; accepted: [gateway] with product_key and device_key");
    std::set<std::pair<std::string, std::string>> identities;
    std::set<std::string> unmodelled;
    for (auto& [section, dev] : devices) {
        if (dev.product_key.empty() || dev.device_key.empty()) continue;  // reported by its section
        if (dev.product_key == hub.product_key && dev.device_key == hub.device_key) {
            report.error(*section, section->line, "device_key",
                         "is the gateway itself; accepted: a sub-device's own product_key and device_key");
        } else if (!identities.insert({dev.product_key, dev.device_key}).second) {
            report.error(*section, section->line, "device_key",
                         "another [device.*] has the same product_key and device_key; accepted: one section "
                         "per sub-device");
        }
        if (hub.products.count(dev.product_key) == 0 && unmodelled.insert(dev.product_key).second) {
            notes.push_back("product " + dev.product_key + " has no [product." + dev.product_key +
                            "] section: its points are not checked");
        }
    }
    const Faults& f = hub.faults;
    if (const IniSection* s = seen.find("faults"); s && (f.every > 0) != (f.reply_code != 0)) {
        report.error(*s, s->line, f.every > 0 ? "reply_code" : "every",
                     "reply_code and every go together; accepted: both set, or neither");
    }
}

}  // namespace

std::optional<BrokerAddress> parse_broker_uri(std::string_view uri) {
    constexpr std::string_view kScheme = "tcp://";
    if (uri.substr(0, kScheme.size()) != kScheme) return std::nullopt;
    const std::string_view rest = uri.substr(kScheme.size());
    const auto colon = rest.rfind(':');
    if (colon == std::string_view::npos || colon == 0) return std::nullopt;
    const auto port = parse_integer<unsigned>(rest.substr(colon + 1));
    if (!port || *port == 0 || *port > 65535) return std::nullopt;
    BrokerAddress address;
    address.host = std::string(rest.substr(0, colon));
    address.port = static_cast<std::uint16_t>(*port);
    return address;
}

ConfigResult parse_config(std::string_view text, std::string_view file_name) {
    const std::string file(file_name);
    const auto ini = util::read_ini(file, text, kSections);
    ConfigResult out;
    out.errors = ini.errors;
    std::vector<std::string> warnings;  // the getters used here give none
    util::Report report(out.errors, warnings);
    util::SectionNames seen;
    SimConfig sim;
    std::vector<DeviceSection> devices;  // in file order; sorted by name below
    for (const auto& s : ini.sections) {
        if (s.name.empty()) continue;  // a bad header, reported by the reader
        const bool first = seen.add(report, s, "each section once");
        Fields f(report, s, !first);
        HubConfig& hub = sim.hub;
        if (s.name == "hub") {
            read_hub(f, sim);
        } else if (s.name == "gateway") {
            read_identity(f, hub.product_key, hub.device_key, hub.device_secret, false);
        } else if (s.name == "faults") {
            read_faults(f, hub.faults);
        } else if (has_prefix(s.name, kProductPrefix)) {
            ThingModel model;
            read_product(f, model);
            if (first) hub.products[s.name.substr(kProductPrefix.size())] = std::move(model);
        } else if (has_prefix(s.name, kDevicePrefix)) {
            DeviceSection d{&s, {}};
            d.device.name = s.name.substr(kDevicePrefix.size());
            read_identity(f, d.device.product_key, d.device.device_key, d.device.device_secret, true);
            if (first) devices.push_back(std::move(d));
        } else {
            report.unknown_section(s, kSections);
            continue;  // its keys mean nothing, so are not reported one by one
        }
        f.finish();
    }
    std::sort(devices.begin(), devices.end(),
              [](const DeviceSection& a, const DeviceSection& b) { return a.device.name < b.device.name; });
    check_across(report, seen, file, devices, sim.hub, out.notes);
    if (out.errors.empty()) {
        for (auto& d : devices)
            sim.hub.devices.push_back(std::move(d.device));
        out.config = std::move(sim);
    }
    return out;
}

ConfigResult load_config(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        ConfigResult r;
        r.errors.push_back(path + ": cannot be read");
        return r;
    }
    std::ostringstream text;
    text << in.rdbuf();
    return parse_config(text.str(), path);
}

}  // namespace fieldgate::cloudsim
