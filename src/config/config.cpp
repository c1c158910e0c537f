#include "fieldgate/config/config.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>

#include "fieldgate/util/ini_fields.hpp"
#include "sections.hpp"

namespace fieldgate::config {
namespace {

using util::Fields;
using util::IniEntry;
using util::IniSection;
using util::quote;
using util::Report;

// A config is a few KiB; the cap keeps a wrong path (a disk image, /dev/zero) from eating memory.
constexpr std::size_t kMaxFileBytes = 16U << 20;

constexpr std::string_view kSections = "[gateway] [mqtt] [store] [uplink] [bus.NAME] [model.NAME] [device.NAME]";

// Reads a whole file; on failure returns nullopt and sets `error` to the reason.
std::optional<std::string> read_file(const std::string& path, std::string& error) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        error = std::strerror(errno);
        return std::nullopt;
    }
    std::string text;
    char buf[65536];
    for (;;) {
        const auto n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) error = std::strerror(errno);  // EISDIR for a folder
        if (n <= 0) break;
        text.append(buf, static_cast<std::size_t>(n));
        if (text.size() > kMaxFileBytes) {
            error = "larger than 16MiB, not a config file";
            break;
        }
    }
    ::close(fd);
    if (!error.empty()) return std::nullopt;
    return text;
}

bool is_name(std::string_view name) {
    return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
               c == '-';
    });
}

std::string at(const IniSection& s, int line) {
    return s.file + ":" + std::to_string(line);
}

struct PendingDevice {
    Device device;
    detail::DeviceSource source;
};

// Checks what spans sections: each device's model, bus and unit id, and that no two devices
// (or a device and the gateway) share a cloud identity. Adds the buses of inline tcp:// devices.
void link_devices(Config& c, const std::vector<PendingDevice>& pending, Report& report) {
    std::map<std::pair<std::string, std::string>, const PendingDevice*> identities;
    for (const auto& p : pending) {
        const Device& d = p.device;
        const IniSection& s = *p.source.section;
        if (p.source.model_line && !c.models.count(d.model)) {
            report.error(s, p.source.model_line, "model",
                         "no [model." + d.model + "] section; accepted: the name of a [model.*] section");
        }
        const Bus* bus = nullptr;
        if (p.source.bus_line && d.bus.compare(0, 6, "tcp://") == 0) {
            if (const auto host_port = detail::parse_host_port(std::string_view(d.bus).substr(6))) {
                auto [it, added] = c.buses.try_emplace(d.bus);
                if (added) {
                    it->second.name = d.bus;
                    it->second.type = BusType::Tcp;
                    it->second.host = host_port->first;
                    it->second.port = host_port->second;
                    it->second.line = p.source.bus_line;
                }
                bus = &it->second;
            } else {
                report.error(s, p.source.bus_line, "bus",
                             "bad address " + quote(d.bus) + "; accepted: tcp://host:port");
            }
        } else if (p.source.bus_line) {
            const auto it = c.buses.find(d.bus);
            if (it != c.buses.end()) {
                bus = &it->second;
            } else {
                report.error(
                    s, p.source.bus_line, "bus",
                    "no [bus." + d.bus + "] section; accepted: the name of a [bus.*] section or tcp://host:port");
            }
        }
        // Modbus RTU: 0 is broadcast (no reply), 248..255 reserved. TCP gateways use any byte.
        if (bus && bus->type == BusType::Rtu && !p.source.unit_line) {
            report.error(s, s.line, "unit_id", "missing, the bus is RTU; accepted: 1..247");
        } else if (bus && bus->type == BusType::Rtu && p.source.unit_ok && (d.unit_id < 1 || d.unit_id > 247)) {
            report.error(s, p.source.unit_line, "unit_id",
                         std::to_string(d.unit_id) + " on an RTU bus; accepted: 1..247");
        }

        if (d.product_key.empty() != d.device_key.empty()) continue;  // reported already
        const bool own =
            d.is_gateway() || (d.product_key == c.gateway.product_key && d.device_key == c.gateway.device_key);
        if (own && !d.is_gateway()) {
            report.error(
                s, s.line, "device_key",
                "the gateway's own product_key/device_key; accepted: leave both out for the gateway's own points");
            continue;
        }
        auto [it, added] = identities.try_emplace({d.product_key, d.device_key}, &p);
        if (!added) {
            const auto& first = *it->second;
            report.error(
                s, s.line, "",
                std::string(own ? "a second device for the gateway itself" : "product_key/device_key used twice") +
                    ", first by [" + first.source.section->name + "] at " +
                    at(*first.source.section, first.source.section->line) +
                    "; accepted: one device per product_key/device_key");
        }
    }
}

// A serial line is owned by one thread: two [bus.*] on one device would interleave their
// frames. Paths are compared as given and, when the device exists, by what they resolve to
// (/dev/serial/by-id/... links).
void check_serial_owner(Fields& f, const Bus& b, std::map<std::string, const IniSection*>& owners) {
    if (b.type != BusType::Rtu || b.device.empty()) return;
    std::vector<std::string> keys{b.device};
    std::error_code ec;
    const auto real = std::filesystem::canonical(b.device, ec);
    if (!ec && real.string() != b.device) keys.push_back(real.string());
    for (const auto& key : keys) {
        const auto [it, added] = owners.try_emplace(key, &f.section());
        if (added) continue;
        if (const IniEntry* e = f.find("device")) {
            f.error(*e, quote(b.device) + " is already the device of [" + it->second->name + "] at " +
                            at(*it->second, it->second->line) +
                            "; accepted: one [bus.*] per serial device, with all the line's devices on it");
        }
        return;
    }
}

void build(Config& c, const std::vector<IniSection>& sections, const std::string& main_file, Report& report) {
    util::SectionNames seen;
    std::vector<PendingDevice> pending;
    std::map<std::string, const IniSection*> serial_owners;
    for (const auto& s : sections) {
        if (s.name.empty()) continue;  // a bad header, reported by the reader
        const bool added = seen.add(report, s, "each section once across the file and conf.d/");
        Fields f(report, s, !added);
        const auto dot = s.name.find('.');
        const auto kind = s.name.substr(0, dot);
        const auto name = dot == std::string::npos ? std::string() : s.name.substr(dot + 1);
        const bool named = kind == "bus" || kind == "model" || kind == "device";
        if (named && dot != std::string::npos && !is_name(name)) {
            report.error(s, s.line, "",
                         "bad name " + quote(name) + "; accepted: letters, digits and _ . - after \"" + kind + ".\"");
        }
        // A duplicate is still read, for its own errors, into a scratch object.
        const bool keep = added && (!named || is_name(name));
        if (s.name == "gateway") {
            Gateway g;
            detail::read_gateway(f, g);
            if (keep) c.gateway = std::move(g);
        } else if (s.name == "mqtt") {
            Mqtt m;
            detail::read_mqtt(f, m);
            if (keep) c.mqtt = std::move(m);
        } else if (s.name == "store") {
            Store st;
            detail::read_store(f, st);
            if (keep) c.store = std::move(st);
        } else if (s.name == "uplink") {
            Uplink u;
            detail::read_uplink(f, u);
            if (keep) c.uplink = u;
        } else if (kind == "bus" && dot != std::string::npos) {
            Bus b;
            b.name = name;
            b.line = s.line;
            detail::read_bus(f, b);
            if (keep) check_serial_owner(f, b, serial_owners);
            if (keep) c.buses[name] = std::move(b);
        } else if (kind == "model" && dot != std::string::npos) {
            Model m;
            m.name = name;
            detail::read_model(f, m);
            if (keep) c.models[name] = std::move(m);
        } else if (kind == "device" && dot != std::string::npos) {
            PendingDevice p;
            p.device.name = name;
            p.device.line = s.line;
            p.source = detail::read_device(f, p.device);
            if (keep) pending.push_back(std::move(p));
        } else {
            report.unknown_section(s, kSections);
            continue;  // its keys mean nothing, so are not reported one by one
        }
        f.finish();
    }
    for (const auto* required : {"gateway", "mqtt"}) {
        if (!seen.find(required)) {
            report.error(main_file + ": [" + required +
                         "]: section missing; accepted: [gateway] with product_key, "
                         "device_key and a secret, [mqtt] with uri");
        }
    }
    link_devices(c, pending, report);
    for (auto& p : pending)
        c.devices.push_back(std::move(p.device));
}

}  // namespace

LoadResult load_texts(const std::vector<std::pair<std::string, std::string>>& files) {
    LoadResult result;
    Report report(result.errors, result.warnings);
    std::vector<IniSection> sections;
    for (const auto& [name, text] : files) {
        auto ini = util::read_ini(name, text, kSections);
        for (auto& e : ini.errors)
            report.error(std::move(e));
        std::move(ini.sections.begin(), ini.sections.end(), std::back_inserter(sections));
    }
    Config c;
    c.path = files.empty() ? std::string() : files.front().first;
    build(c, sections, c.path, report);
    if (result.errors.empty()) result.config = std::move(c);
    return result;
}

namespace {

// The main file, then conf.d/*.ini beside it in name order, as (name, text) pairs. Returns
// false when the main file cannot be read; unreadable conf.d files are added to io_errors.
bool read_config_files(const std::string& path, std::vector<std::pair<std::string, std::string>>& files,
                       std::vector<std::string>& io_errors) {
    std::string error;
    auto main_text = read_file(path, error);
    if (!main_text) {
        io_errors.push_back(path + ": cannot read: " + error);
        return false;
    }
    files.emplace_back(path, std::move(*main_text));

    namespace fs = std::filesystem;
    const fs::path dir = fs::path(path).parent_path() / "conf.d";
    std::error_code ec;
    if (fs::exists(dir, ec)) {
        std::vector<std::string> names;
        for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
            const auto name = it->path().filename().string();
            // As the shell's *.ini would: dot files (editor swap files, .#x.ini) are not read.
            if (name.size() > 4 && name.front() != '.' && name.compare(name.size() - 4, 4, ".ini") == 0) {
                names.push_back(it->path().string());
            }
        }
        if (ec) io_errors.push_back(dir.string() + ": cannot read: " + ec.message());
        std::sort(names.begin(), names.end());
        for (const auto& name : names) {
            error.clear();
            if (auto text = read_file(name, error)) {
                files.emplace_back(name, std::move(*text));
            } else {
                std::string message = name;
                message += ": cannot read: ";
                message += error;
                io_errors.push_back(std::move(message));
            }
        }
    } else if (ec) {
        io_errors.push_back(dir.string() + ": cannot read: " + ec.message());
    }
    return true;
}

}  // namespace

LoadResult load(const std::string& path) {
    std::vector<std::pair<std::string, std::string>> files;
    std::vector<std::string> io_errors;
    if (!read_config_files(path, files, io_errors)) {
        LoadResult result;
        result.errors = std::move(io_errors);
        return result;
    }
    auto result = load_texts(files);
    if (!io_errors.empty()) {
        result.errors.insert(result.errors.begin(), io_errors.begin(), io_errors.end());
        result.config.reset();
    }
    return result;
}

std::string find_control_socket(const std::string& path) {
    std::vector<std::pair<std::string, std::string>> files;
    std::vector<std::string> io_errors;
    std::string socket = Gateway{}.control_socket;
    if (!read_config_files(path, files, io_errors)) return socket;
    for (const auto& [name, text] : files)
        for (const auto& section : util::read_ini(name, text, kSections).sections)
            if (section.name == "gateway")
                for (const auto& entry : section.entries)
                    if (entry.key == "control_socket" && !entry.value.empty()) socket = entry.value;
    return socket;
}

}  // namespace fieldgate::config
