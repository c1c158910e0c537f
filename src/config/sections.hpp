#pragma once
// Private to src/config: reading one INI section into its struct. config.cpp checks what spans
// sections (references, duplicates) on top of this.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "fieldgate/config/config.hpp"
#include "fieldgate/util/ini_fields.hpp"

namespace fieldgate::config::detail {

using util::Fields;
using util::IniEntry;
using util::IniSection;
using util::quote;

/// Lines of a device's keys that config.cpp checks against other sections.
struct DeviceSource {
    const IniSection* section = nullptr;
    int model_line = 0;
    int bus_line = 0;
    int unit_line = 0;     ///< 0: unit_id not given
    bool unit_ok = false;  ///< given and within 0..255
};

void read_gateway(Fields& f, Gateway& g);
void read_mqtt(Fields& f, Mqtt& m);
void read_store(Fields& f, Store& s);
void read_uplink(Fields& f, Uplink& u);
void read_bus(Fields& f, Bus& b);
void read_model(Fields& f, Model& m);
DeviceSource read_device(Fields& f, Device& d);

/// `host:port` after a tcp:// or ssl:// scheme; host may be a bracketed IPv6 address.
std::optional<std::pair<std::string, std::uint16_t>> parse_host_port(std::string_view text);

}  // namespace fieldgate::config::detail
