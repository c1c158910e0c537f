// Fuzz target: the INI reader and the whole configuration validation behind it (every section,
// key and the point grammar of [model.*] lines), as fieldgated --check-config runs them.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fieldgate/config/config.hpp"
#include "fieldgate/util/ini_reader.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    const auto ini = fieldgate::util::read_ini("fuzz.ini", text, "[name]");
    for (const auto& s : ini.sections)
        for (const auto& e : s.entries)
            fieldgate::fuzz::require(e.line >= s.line && e.line >= 1, "entry line numbers");
    // Secret files named in the text are not read (device_secret_file = /etc/shadow would be
    // refused anyway; the fuzzer must not depend on the machine's files).
    if (text.find("_file") != std::string::npos) return 0;
    const auto loaded = fieldgate::config::load_texts({{"fuzz.ini", text}});
    fieldgate::fuzz::require(loaded.config.has_value() == loaded.errors.empty(), "config xor errors");
    return 0;
}
