#pragma once
#include <cstdint>
#include <optional>
#include <set>
#include <utility>
#include <string>
#include <string_view>
#include <vector>

#include "profiles.hpp"

namespace fieldgate::sim {

/// What to do with a request for a unit id no device on that port has.
enum class UnknownUnit {
    Exception,  ///< reply exception 0x0B "gateway target device failed to respond" (default)
    Silent,     ///< no reply: the client times out, like a gateway whose slave is dead
};

struct DeviceSpec {
    std::string name;        ///< "meter1" from [device.meter1], or "PORT/UNIT" from the command line
    std::uint16_t port = 0;  ///< 0: the kernel picks one (printed at start)
    std::uint8_t unit_id = 1;
    Profile profile = Profile::Demo;
    int seed = 0;
};

struct Options {
    std::string listen = "127.0.0.1";  ///< IPv4 address; loopback unless asked otherwise
    UnknownUnit unknown_unit = UnknownUnit::Exception;
    bool verbose = false;
    bool help = false;
    std::vector<DeviceSpec> devices;

    // RTU: serve every --units device on this serial device instead of TCP.
    std::string rtu_path;
    std::uint32_t rtu_baud = 115200;
    char rtu_parity = 'N';
    bool rtu_pace = true;  ///< answer after the line time of request and reply at rtu_baud
    // Faults by unit id.
    std::set<std::uint8_t> dead;  ///< never answer
    std::set<std::uint8_t> slow;  ///< answer after slow_ms
    int slow_ms = 300;
    std::set<std::uint8_t> noisy;  ///< stray bytes before every noise_every-th reply
    unsigned noise_every = 5;
    std::optional<std::pair<unsigned, unsigned>> refuse;  ///< register reads touching FROM-TO get exception 2
};

/// Parses the command line (argv[0] skipped), reading the INI file it names. Returns every
/// problem found, one line each (`FILE:LINE: [SECTION] KEY: ...` for the file); empty when
/// `options` is usable. No I/O besides reading the file.
std::vector<std::string> parse_options(int argc, const char* const* argv, Options& options);

/// Adds what an INI text (`[sim]`, `[device.NAME]`; the dialect of fieldgated's own files) says
/// to `options`; every problem goes to `errors` as `FILE:LINE: [SECTION] KEY: what; accepted`.
/// `file` only labels the messages.
void read_config_text(const std::string& file, std::string_view text, Options& options,
                      std::vector<std::string>& errors);

/// The --help text.
const char* usage();

}  // namespace fieldgate::sim
