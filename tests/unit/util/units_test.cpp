
#include "fieldgate/util/backoff.hpp"
#include "fieldgate/util/json.hpp"
#include "fieldgate/util/log.hpp"
#include "fieldgate/util/sha256.hpp"
#include "fieldgate/util/units.hpp"

// CppUTest's leak detector redefines new: it comes after every other header.
#include <CppUTest/TestHarness.h>

using namespace fieldgate::util;

TEST_GROUP(Units){};

TEST(Units, durations_take_every_unit) {
    LONGS_EQUAL(500, *parse_duration_ms("500ms"));
    LONGS_EQUAL(5000, *parse_duration_ms("5s"));
    LONGS_EQUAL(600000, *parse_duration_ms("10min"));
    LONGS_EQUAL(7200000, *parse_duration_ms("2h"));
    CHECK(30LL * 86400000 == *parse_duration_ms("30d"));
    LONGS_EQUAL(0, *parse_duration_ms("0s"));
}

TEST(Units, durations_refuse_garbage) {
    CHECK_FALSE(parse_duration_ms(""));
    CHECK_FALSE(parse_duration_ms("5"));  // a unit is required
    CHECK_FALSE(parse_duration_ms("5 sec"));
    CHECK_FALSE(parse_duration_ms("-5s"));
    CHECK_FALSE(parse_duration_ms("1.5s"));
    CHECK_FALSE(parse_duration_ms("s"));
    CHECK_FALSE(parse_duration_ms("99999999999999999999d"));
    CHECK_FALSE(parse_duration_ms("999999999999999d"));  // overflows int64 ms
}

TEST(Units, sizes_take_binary_units) {
    CHECK(512 == *parse_size_bytes("512"));
    CHECK(256ULL * 1024 == *parse_size_bytes("256KiB"));
    CHECK(64ULL << 20 == *parse_size_bytes("64MiB"));
    CHECK(1ULL << 30 == *parse_size_bytes("1GiB"));
    CHECK_FALSE(parse_size_bytes("1GB"));
    CHECK_FALSE(parse_size_bytes("KiB"));
    CHECK_FALSE(parse_size_bytes("99999999999TiB"));
}

TEST(Units, booleans_take_the_six_words) {
    CHECK(*parse_bool("true") && *parse_bool("yes") && *parse_bool("on"));
    CHECK(!*parse_bool("false") && !*parse_bool("no") && !*parse_bool("off"));
    CHECK_FALSE(parse_bool("1"));
    CHECK_FALSE(parse_bool("TRUE"));
}

TEST(Units, durations_format_for_people) {
    STRCMP_EQUAL("850ms", format_duration_ms(850).c_str());
    STRCMP_EQUAL("12s", format_duration_ms(12'500).c_str());
    STRCMP_EQUAL("3min", format_duration_ms(200'000).c_str());
    STRCMP_EQUAL("2d", format_duration_ms(2 * 86'400'000 + 5).c_str());
}

TEST(Units, json_strings_are_escaped) {
    std::string out;
    append_json_string(out, "a\"b\\c\n\x01");
    STRCMP_EQUAL("\"a\\\"b\\\\c\\n\\u0001\"", out.c_str());
}

TEST(Units, json_escaping_keeps_utf8_and_escapes_device_bytes) {
    std::string out;
    append_json_escaped(out, "a\tb\x01\xc3\xa9");
    STRCMP_EQUAL("a\\tb\\u0001\xc3\xa9", out.c_str());
    out.clear();
    append_json_string(out, "\xe9t\xe9", JsonBytes::Latin1);
    STRCMP_EQUAL("\"\\u00e9t\\u00e9\"", out.c_str());
}

TEST_GROUP(Backoff){};

TEST(Backoff, delays_double_within_jitter_and_cap) {
    Backoff b(1000, 8000, 42);
    const long long expected_base[] = {1000, 2000, 4000, 8000, 8000, 8000};
    for (long long base : expected_base) {
        const auto d = b.next_ms();
        CHECK(d >= base / 2);
        CHECK(d <= base);
    }
}

TEST(Backoff, reset_returns_to_the_minimum) {
    Backoff b(100, 100000, 1);
    for (int i = 0; i < 10; ++i)
        b.next_ms();
    b.reset();
    CHECK(b.next_ms() <= 100);
}

TEST(Backoff, jitter_spreads_gateways) {
    Backoff a(1000, 60000, 1);
    Backoff b(1000, 60000, 2);
    bool differ = false;
    for (int i = 0; i < 6; ++i)
        differ |= a.next_ms() != b.next_ms();
    CHECK(differ);
}

TEST(Backoff, the_jitter_covers_its_whole_range) {
    // 1,000 gateways (seeds) after a shared outage: their first delays spread over [500, 1000].
    long long low = 1000, high = 0, sum = 0;
    for (std::uint64_t seed = 0; seed < 1000; ++seed) {
        const long long d = Backoff(1000, 60000, seed).next_ms();
        low = std::min(low, d);
        high = std::max(high, d);
        sum += d;
    }
    CHECK(low >= 500 && low < 520);
    CHECK(high <= 1000 && high > 980);
    CHECK(sum / 1000 > 725 && sum / 1000 < 775);  // the mean of a uniform draw from [500, 1000]
}

TEST_GROUP(RateLimit){};

TEST(RateLimit, lets_one_message_through_per_interval_and_counts_the_rest) {
    RateLimit r(60'000);
    CHECK(r.allow(0));
    CHECK_FALSE(r.allow(1000));
    CHECK_FALSE(r.allow(2000));
    CHECK(r.allow(60'000));
    LONGS_EQUAL(2, r.suppressed());
    CHECK_FALSE(r.allow(60'001));
}

TEST_GROUP(Sha256){};

namespace {
std::string hex(const std::array<std::uint8_t, 32>& d) {
    static const char* k = "0123456789abcdef";
    std::string s;
    for (auto b : d) {
        s += k[b >> 4];
        s += k[b & 15];
    }
    return s;
}
}  // namespace

TEST(Sha256, matches_the_fips_180_vectors_across_block_boundaries) {
    STRCMP_EQUAL("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", hex(sha256("")).c_str());
    STRCMP_EQUAL("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", hex(sha256("abc")).c_str());
    STRCMP_EQUAL("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
                 hex(sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")).c_str());
    // 55, 56 and 64 bytes: where the padding needs one block, two blocks, or a block of its own.
    STRCMP_EQUAL("9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318",
                 hex(sha256(std::string(55, 'a'))).c_str());
    STRCMP_EQUAL("b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a",
                 hex(sha256(std::string(56, 'a'))).c_str());
    STRCMP_EQUAL("ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb",
                 hex(sha256(std::string(64, 'a'))).c_str());
}
