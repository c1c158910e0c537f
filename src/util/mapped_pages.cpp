#include "fieldgate/util/mapped_pages.hpp"

#include <sys/mman.h>

#include <charconv>
#include <fstream>
#include <iterator>
#include <string>

namespace fieldgate::util {
namespace {

bool parse_hex(std::string_view text, std::uintptr_t& out) {
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out, 16);
    return ec == std::errc{} && ptr == text.data() + text.size();
}

bool ends_with(std::string_view s, std::string_view tail) {
    return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

// One mapping's header line: "7f00-7f10 r-xp 00001000 08:01 1234   /usr/lib/libx.so.3".
bool parse_header(std::string_view line, MappedRange& range, std::string_view& perms, std::string_view& path) {
    const auto field = [&line]() {
        while (!line.empty() && line.front() == ' ')
            line.remove_prefix(1);
        const auto end = line.find(' ');
        std::string_view f = line.substr(0, end);
        line.remove_prefix(end == std::string_view::npos ? line.size() : end);
        return f;
    };
    const std::string_view addresses = field();
    const auto dash = addresses.find('-');
    if (dash == std::string_view::npos || !parse_hex(addresses.substr(0, dash), range.begin) ||
        !parse_hex(addresses.substr(dash + 1), range.end))
        return false;
    perms = field();
    if (perms.size() != 4) return false;
    field();  // offset
    field();  // device
    field();  // inode
    while (!line.empty() && line.front() == ' ')
        line.remove_prefix(1);
    path = line;
    return true;
}

}  // namespace

std::vector<MappedRange> releasable_ranges(std::string_view smaps, const std::vector<std::string_view>& files) {
    std::vector<MappedRange> out;
    MappedRange current;
    bool candidate = false;
    while (!smaps.empty()) {
        const auto nl = smaps.find('\n');
        const std::string_view line = smaps.substr(0, nl);
        smaps.remove_prefix(nl == std::string_view::npos ? smaps.size() : nl + 1);
        MappedRange range;
        std::string_view perms;
        std::string_view path;
        if (parse_header(line, range, perms, path)) {
            current = range;
            candidate = perms[1] != 'w';
            bool named = false;
            for (const auto f : files)
                named = named || ends_with(path, "/" + std::string(f)) || path == f;
            candidate = candidate && named;
            continue;
        }
        if (!candidate || line.rfind("Anonymous:", 0) != 0) continue;
        candidate = false;
        std::string_view kb = line.substr(10);
        while (!kb.empty() && kb.front() == ' ')
            kb.remove_prefix(1);
        if (kb.rfind("0 kB", 0) == 0) out.push_back(current);
    }
    return out;
}

std::size_t release_clean_pages(const std::vector<std::string_view>& files) noexcept {
    try {
        std::ifstream in("/proc/self/smaps");
        const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        std::size_t released = 0;
        // A mapping without 'w' cannot gain a copied-on-write page between the read above and
        // madvise() below: only an mprotect() could make it writable, and nothing here does.
        for (const auto& r : releasable_ranges(text, files)) {
            // NOLINTNEXTLINE(performance-no-int-to-ptr): an address read from /proc/self/smaps
            if (::madvise(reinterpret_cast<void*>(r.begin), r.end - r.begin, MADV_DONTNEED) == 0)
                released += r.end - r.begin;
        }
        return released;
    } catch (...) {
        return 0;  // out of memory reading smaps: nothing released, nothing lost
    }
}

}  // namespace fieldgate::util
