#pragma once
#include <array>
#include <cstdint>
#include <string_view>

namespace fieldgate::util {

/// SHA-256 (FIPS 180-4). The daemon signs a few short strings per connection; doing it here
/// keeps OpenSSL, whose first use costs about 3 MB of resident pages (provider and config
/// loading), out of a tcp:// gateway altogether.
std::array<std::uint8_t, 32> sha256(std::string_view data);

}  // namespace fieldgate::util
