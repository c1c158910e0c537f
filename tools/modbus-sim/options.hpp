#pragma once
#include <cstdint>
#include <string>
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
};

/// Parses the command line (argv[0] skipped), reading the INI file it names. Returns every
/// problem found, one line each (`FILE:LINE: [SECTION] KEY: ...` for the file); empty when
/// `options` is usable. No I/O besides reading the file.
std::vector<std::string> parse_options(int argc, const char* const* argv, Options& options);

/// The --help text.
const char* usage();

}  // namespace fieldgate::sim
