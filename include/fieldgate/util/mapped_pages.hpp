#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace fieldgate::util {

/// An address range of this process's memory map.
struct MappedRange {
    std::uintptr_t begin = 0;
    std::uintptr_t end = 0;
};

/// The ranges in `smaps` (the text of /proc/self/smaps) that may be released: mappings of a file
/// whose name ends with one of `files`, not writable, and holding no anonymous page (no page
/// copied on write, such as relocated read-only data). Each such page is a clean copy of the
/// file: dropping it loses nothing, the next access reads it again from the page cache.
std::vector<MappedRange> releasable_ranges(std::string_view smaps, const std::vector<std::string_view>& files);

/// Unmaps from this process the resident clean pages of the shared libraries `files` (e.g.
/// "libcrypto.so.3") with madvise(MADV_DONTNEED), and returns the bytes of address space it
/// applied that to (0 when /proc/self/smaps cannot be read). The pages stay in the page cache;
/// those still used fault back in on their next access. For code run once: OpenSSL 3 touches
/// nearly all of libcrypto's 4 MB while it sets up its providers and makes a TLS handshake,
/// and the kernel's fault-around maps 64 KiB around each page touched; a TLS connection then
/// uses about a quarter of it (bench/RESULTS.md). Never throws.
std::size_t release_clean_pages(const std::vector<std::string_view>& files) noexcept;

}  // namespace fieldgate::util
