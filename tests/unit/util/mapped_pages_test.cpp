#include "fieldgate/util/mapped_pages.hpp"

#include <string>

// CppUTest's leak detector redefines new: it comes after every other header.
#include <CppUTest/TestHarness.h>

using namespace fieldgate::util;

namespace {

std::string mapping(const char* header, int anonymous_kb) {
    return std::string(header) + "\nSize:                100 kB\nRss:                  64 kB\nAnonymous:      " +
           std::to_string(anonymous_kb) + " kB\nVmFlags: rd mr mw me\n";
}

}  // namespace

TEST_GROUP(MappedPages){};

TEST(MappedPages, only_clean_read_only_mappings_of_the_named_files) {
    const std::string smaps =
        mapping("7f0000000000-7f00000c5000 r--p 00000000 08:01 11 /usr/lib/x86_64-linux-gnu/libcrypto.so.3", 0) +
        mapping("7f00000c5000-7f0000342000 r-xp 000c5000 08:01 11 /usr/lib/x86_64-linux-gnu/libcrypto.so.3", 0) +
        // relocated read-only data (RELRO): its pages were copied on write and must stay
        mapping("7f0000342000-7f00003a4000 r--p 00342000 08:01 11 /usr/lib/x86_64-linux-gnu/libcrypto.so.3", 392) +
        mapping("7f00003a4000-7f00003a7000 rw-p 003a4000 08:01 11 /usr/lib/x86_64-linux-gnu/libcrypto.so.3", 0) +
        mapping("7f1000000000-7f1000010000 r-xp 00000000 08:01 12 /usr/lib/x86_64-linux-gnu/libc.so.6", 0) +
        mapping("7f2000000000-7f2000010000 r-xp 00000000 08:01 13 /opt/libcrypto.so.3.bak", 0) +
        mapping("7f3000000000-7f3000021000 rw-p 00000000 00:00 0 ", 0) +
        mapping("7f4000000000-7f4000010000 r-xp 00010000 08:01 14 /usr/lib/x86_64-linux-gnu/libssl.so.3", 0);
    const auto ranges = releasable_ranges(smaps, {"libcrypto.so.3", "libssl.so.3"});
    LONGS_EQUAL(3, ranges.size());
    CHECK(ranges[0].begin == 0x7f0000000000 && ranges[0].end == 0x7f00000c5000);
    CHECK(ranges[1].begin == 0x7f00000c5000 && ranges[1].end == 0x7f0000342000);
    CHECK(ranges[2].begin == 0x7f4000000000 && ranges[2].end == 0x7f4000010000);
}

TEST(MappedPages, nothing_from_garbage_or_a_mapping_cut_short) {
    CHECK(releasable_ranges("", {"libssl.so.3"}).empty());
    CHECK(releasable_ranges("not smaps at all\nAnonymous: 0 kB\n", {"libssl.so.3"}).empty());
    // no Anonymous line: whether it holds copied pages is unknown, so it stays
    CHECK(releasable_ranges("7f4000000000-7f4000010000 r-xp 00010000 08:01 14 /usr/lib/libssl.so.3\n", {"libssl.so.3"})
              .empty());
}

TEST(MappedPages, releasing_a_library_leaves_it_working) {
    LONGS_EQUAL(0, release_clean_pages({"no-such-library.so.9"}));
    // libstdc++'s own pages, released while this test runs from them: what is used faults back
    // in. Releasing a page copied on write (its relocated GOT or vtables) would crash below.
    release_clean_pages({"libstdc++.so.6.0.30", "libc.so.6"});
    std::string text = "still";
    text += std::to_string(42);
    STRCMP_EQUAL("still42", text.c_str());
}
