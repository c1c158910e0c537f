#include "options.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <fstream>
#include <map>
#include <sstream>
#include <string_view>
#include <utility>

#include "fieldgate/util/ini_fields.hpp"

namespace fieldgate::sim {

namespace {

template <typename T>
bool parse_int(std::string_view text, T& out, long long min, long long max) {
    long long v = 0;
    const auto res = std::from_chars(text.data(), text.data() + text.size(), v);
    if (res.ec != std::errc() || res.ptr != text.data() + text.size() || v < min || v > max) return false;
    out = static_cast<T>(v);
    return true;
}

// "15020-15069", "1,2,5-7": values in the order given.
bool parse_list(std::string_view text, long long min, long long max, std::vector<long long>& out) {
    while (!text.empty()) {
        const auto comma = text.find(',');
        const std::string_view item = text.substr(0, comma);
        text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
        const auto dash = item.find('-');
        long long first = 0;
        long long last = 0;
        if (!parse_int(item.substr(0, dash), first, min, max)) return false;
        last = first;
        if (dash != std::string_view::npos && !parse_int(item.substr(dash + 1), last, min, max)) return false;
        if (last < first) return false;
        for (long long v = first; v <= last; ++v)
            out.push_back(v);
    }
    return !out.empty();
}

bool valid_ipv4(const std::string& text) {
    in_addr addr{};
    return inet_pton(AF_INET, text.c_str(), &addr) == 1;
}

constexpr std::string_view kSections = "[sim] [device.NAME]";
constexpr std::string_view kDevicePrefix = "device.";

void read_sim(util::Fields& f, Options& options) {
    std::string listen;
    if (const auto* e = f.text("listen", listen)) {
        if (valid_ipv4(listen))
            options.listen = listen;
        else
            f.error(*e, "bad address " + util::quote(listen) + "; accepted: an IPv4 address, e.g. 127.0.0.1");
    }
    f.choice<UnknownUnit>("unknown_unit", options.unknown_unit,
                          {{"exception", UnknownUnit::Exception}, {"silent", UnknownUnit::Silent}});
}

void read_device(util::Fields& f, DeviceSpec& d) {
    if (!f.find("port")) f.error("port", "missing; accepted: port = 1..65535, or 0 for any free one");
    if (const auto port = f.integer("port", 0, 65535)) d.port = static_cast<std::uint16_t>(*port);
    if (const auto unit = f.integer("unit_id", 0, 255)) d.unit_id = static_cast<std::uint8_t>(*unit);
    f.choice<Profile>("profile", d.profile, {{"demo", Profile::Demo}, {"bench", Profile::Bench}});
    if (const auto seed = f.integer("seed", 0, kMaxSeed)) d.seed = static_cast<int>(*seed);
}

}  // namespace

void read_config_text(const std::string& file, std::string_view text, Options& options,
                      std::vector<std::string>& errors) {
    auto ini = util::read_ini(file, text, kSections);
    errors.insert(errors.end(), ini.errors.begin(), ini.errors.end());
    std::vector<std::string> warnings;  // the getters used here give none
    util::Report report(errors, warnings);
    util::SectionNames seen;
    int devices = 0;
    for (const auto& s : ini.sections) {
        if (s.name.empty()) continue;  // a bad header, reported by the reader
        const bool first = seen.add(report, s, "each section once");
        util::Fields f(report, s, !first);
        if (s.name == "sim") {
            read_sim(f, options);
        } else if (s.name.size() > kDevicePrefix.size() &&
                   s.name.compare(0, kDevicePrefix.size(), kDevicePrefix) == 0) {
            DeviceSpec d;
            d.name = s.name.substr(kDevicePrefix.size());
            // Default seed: the device's position among the file's devices, from 1, so devices
            // written without a seed still serve distinct values.
            d.seed = ++devices;
            read_device(f, d);
            if (first) options.devices.push_back(d);
        } else {
            report.unknown_section(s, kSections);
            continue;  // its keys mean nothing, so are not reported one by one
        }
        f.finish();
    }
}

namespace {

void read_config_file(const std::string& path, Options& options, std::vector<std::string>& errors) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        errors.push_back(path + ": cannot read");
        return;
    }
    std::ostringstream text;
    text << in.rdbuf();
    read_config_text(path, text.str(), options, errors);
}

}  // namespace

const char* usage() {
    return "usage: fieldgate-modbus-sim [-c FILE] [--listen ADDR] [--ports LIST [--units LIST]]\n"
           "       fieldgate-modbus-sim --rtu PATH [--units LIST] [--baud N] [FAULTS]\n"
           "                            [--profile demo|bench] [--seed N] [--unknown-unit exception|silent]\n"
           "                            [--verbose] [--help]\n"
           "\n"
           "Serves simulated Modbus TCP devices with known, time-dependent values (see README.md).\n"
           "\n"
           "  -c, --config FILE   devices from an INI file ([sim], [device.NAME] sections)\n"
           "  --listen ADDR       IPv4 address to bind (default 127.0.0.1)\n"
           "  --port, --ports LIST  one device per port and unit, e.g. 15020-15069 or 15020,15030\n"
           "  --units LIST        unit ids served on every --ports port (default 1), e.g. 1-50\n"
           "  --profile NAME      profile of the --ports devices (default demo)\n"
           "  --seed N            seed of the first --ports device; each next device gets N+1 (default 1)\n"
           "  --unknown-unit MODE a request for a unit no device has: 'exception' replies exception\n"
           "                      0x0B (default), 'silent' does not answer\n"
           "  --rtu PATH          serve the --units devices as RTU slaves on serial device PATH (one\n"
           "                      end of a socat pty pair) instead of TCP; --baud N (115200), --parity\n"
           "                      N|E|O (N); replies are paced to the baud rate unless --no-pace\n"
           "  --dead LIST         these unit ids never answer\n"
           "  --slow LIST         these unit ids answer after --slow-ms MS (default 300)\n"
           "  --noisy LIST        stray bytes before every --noise-every N-th reply (default 5)\n"
           "  --refuse FROM-TO    register reads touching these addresses get exception 2 (RTU)\n"
           "  -v, --verbose       one line per request on stderr\n"
           "  -h, --help          this text\n"
           "\n"
           "Prints \"listening on ADDR:PORT units U,...\" per port once all are bound. Stops on SIGTERM or\n"
           "SIGINT (exit 0). Exit 1: bad options or configuration, or a port that cannot be bound.\n";
}

std::vector<std::string> parse_options(int argc, const char* const* argv, Options& options) {
    std::vector<std::string> errors;
    std::vector<std::string> configs;
    std::string ports_text;
    std::string units_text;
    std::string profile_text = "demo";
    std::string seed_text = "1";
    std::string listen_text;

    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        std::string value;
        bool has_value = false;
        if (arg.rfind("--", 0) == 0) {
            const auto eq = arg.find('=');
            if (eq != std::string::npos) {
                value = arg.substr(eq + 1);
                arg.resize(eq);
                has_value = true;
            }
        }
        auto take = [&](std::string& into) {
            if (has_value) {
                into = value;
            } else if (i + 1 < argc) {
                into = argv[++i];
            } else {
                errors.push_back(arg + ": needs a value");
            }
        };
        if (arg == "-h" || arg == "--help") {
            options.help = true;
        } else if (arg == "-v" || arg == "--verbose") {
            options.verbose = true;
        } else if (arg == "-c" || arg == "--config") {
            configs.emplace_back();
            take(configs.back());
        } else if (arg == "--listen") {
            take(listen_text);
        } else if (arg == "--port" || arg == "--ports") {
            take(ports_text);
        } else if (arg == "--units") {
            take(units_text);
        } else if (arg == "--profile") {
            take(profile_text);
        } else if (arg == "--seed") {
            take(seed_text);
        } else if (arg == "--rtu") {
            take(options.rtu_path);
        } else if (arg == "--baud") {
            std::string v;
            take(v);
            if (!parse_int(v, options.rtu_baud, 300, 4'000'000)) errors.push_back("--baud: '" + v + "' is not a rate");
        } else if (arg == "--parity") {
            std::string v;
            take(v);
            if (v == "N" || v == "E" || v == "O")
                options.rtu_parity = v[0];
            else
                errors.push_back("--parity: '" + v + "' is not accepted; N | E | O");
        } else if (arg == "--no-pace") {
            options.rtu_pace = false;
        } else if (arg == "--dead" || arg == "--slow" || arg == "--noisy") {
            std::string v;
            take(v);
            std::vector<long long> units;
            if (!parse_list(v, 0, 255, units))
                errors.push_back(std::string(arg).append(": '").append(v).append("' is not a unit list; e.g. 1,3-4"));
            auto& into = arg == "--dead" ? options.dead : arg == "--slow" ? options.slow : options.noisy;
            for (auto u : units)
                into.insert(static_cast<std::uint8_t>(u));
        } else if (arg == "--slow-ms") {
            std::string v;
            take(v);
            if (!parse_int(v, options.slow_ms, 0, 60'000)) errors.push_back("--slow-ms: '" + v + "' is not 0..60000");
        } else if (arg == "--noise-every") {
            std::string v;
            take(v);
            if (!parse_int(v, options.noise_every, 1, 1'000'000))
                errors.push_back("--noise-every: '" + v + "' is not 1..1000000");
        } else if (arg == "--refuse") {
            std::string v;
            take(v);
            std::vector<long long> range;
            if (!parse_list(v, 0, 65535, range))
                errors.push_back("--refuse: '" + v + "' is not an address range; e.g. 4-5");
            else
                options.refuse =
                    std::make_pair(static_cast<unsigned>(range.front()), static_cast<unsigned>(range.back()));
        } else if (arg == "--unknown-unit") {
            std::string mode;
            take(mode);
            if (mode == "exception")
                options.unknown_unit = UnknownUnit::Exception;
            else if (mode == "silent")
                options.unknown_unit = UnknownUnit::Silent;
            else
                errors.push_back("--unknown-unit: '" + mode + "' is not accepted; exception | silent");
        } else {
            errors.push_back(arg + ": unknown option; see --help");
        }
    }
    if (options.help) return {};

    for (const auto& path : configs)
        read_config_file(path, options, errors);
    if (!listen_text.empty()) {  // the command line wins over [sim] listen
        if (valid_ipv4(listen_text))
            options.listen = listen_text;
        else
            errors.push_back("--listen: '" + listen_text + "' is not an IPv4 address; e.g. 127.0.0.1");
    }

    if (!options.rtu_path.empty()) {
        // RTU: the --units devices on the line (ports mean nothing there).
        if (!ports_text.empty()) errors.push_back("--rtu: serves RTU only; leave out --ports");
        std::vector<long long> units;
        int seed = 0;
        const auto profile = parse_profile(profile_text);
        if (!parse_list(units_text.empty() ? "1" : units_text, 1, 247, units))
            errors.push_back("--units: '" + units_text + "' is not a unit list; e.g. 1-3, RTU ids 1..247");
        if (!profile) errors.push_back("--profile: '" + profile_text + "' is not a profile; demo | bench");
        if (!parse_int(seed_text, seed, 0, kMaxSeed - 247))
            errors.push_back("--seed: '" + seed_text + "' is not a seed; 0.." + std::to_string(kMaxSeed - 247));
        if (profile && errors.empty()) {
            for (long long unit : units) {
                DeviceSpec d;
                d.name = "rtu/" + std::to_string(unit);
                d.unit_id = static_cast<std::uint8_t>(unit);
                d.profile = *profile;
                d.seed = seed++;
                options.devices.push_back(d);
            }
        }
        return errors;
    }

    if (!ports_text.empty()) {
        std::vector<long long> ports;
        std::vector<long long> units;
        int seed = 0;
        const auto profile = parse_profile(profile_text);
        if (!parse_list(ports_text, 0, 65535, ports))
            errors.push_back("--ports: '" + ports_text + "' is not a port list; e.g. 15020-15069");
        if (!parse_list(units_text.empty() ? "1" : units_text, 0, 255, units)) {
            errors.push_back("--units: '" + units_text + "' is not a unit list; e.g. 1-50, ids 0..255");
        }
        if (!profile) errors.push_back("--profile: '" + profile_text + "' is not a profile; demo | bench");
        if (!parse_int(seed_text, seed, 0, kMaxSeed))
            errors.push_back("--seed: '" + seed_text + "' is not a seed; 0.." + std::to_string(kMaxSeed));
        if (seed + static_cast<long long>(ports.size() * units.size()) - 1 > kMaxSeed) {
            errors.push_back("--seed: the last device's seed would pass " + std::to_string(kMaxSeed));
        } else if (profile) {
            for (long long port : ports) {
                for (long long unit : units) {
                    DeviceSpec d;
                    d.name = std::to_string(port) + "/" + std::to_string(unit);
                    d.port = static_cast<std::uint16_t>(port);
                    d.unit_id = static_cast<std::uint8_t>(unit);
                    d.profile = *profile;
                    d.seed = seed++;
                    options.devices.push_back(d);
                }
            }
        }
    } else if (!units_text.empty()) {
        errors.push_back("--units: needs --port or --ports");
    }

    if (options.devices.empty() && errors.empty())
        errors.push_back("nothing to serve: give -c FILE or --ports LIST; see --help");

    // A port given as 0 gets one kernel-chosen port for all its devices, so (0, unit) pairs clash too.
    std::map<std::pair<unsigned, unsigned>, std::string> taken;
    for (const auto& d : options.devices) {
        auto [it, added] = taken.emplace(std::make_pair(d.port, d.unit_id), d.name);
        if (!added) {
            errors.push_back("device " + d.name + ": port " + std::to_string(d.port) + " unit " +
                             std::to_string(d.unit_id) + " is already served by device " + it->second);
        }
    }
    return errors;
}

}  // namespace fieldgate::sim
