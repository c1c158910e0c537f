#include "connect_check.hpp"

#include <string>

#include "fieldgate/enos/sign.hpp"

// CppUTest's leak detector redefines new: it comes after every other header.
#include <CppUTest/TestHarness.h>

using namespace fieldgate;
using namespace fieldgate::cloudsim;

namespace {

std::string field(const std::string& s) {
    return std::string{static_cast<char>(s.size() >> 8), static_cast<char>(s.size() & 0xFF)} + s;
}

// A CONNECT as an MQTT 3.1.1 client writes it.
std::string connect_packet(const std::string& id, const std::string& user, const std::string& pass, int level = 4) {
    std::string body = field("MQTT") + static_cast<char>(level) + '\xC2' + std::string{'\x00', '\x3C'} + field(id) +
                       field(user) + field(pass);
    std::string out{'\x10'};
    std::size_t n = body.size();
    do {
        char b = static_cast<char>(n & 0x7F);
        n >>= 7;
        if (n) b = static_cast<char>(b | 0x80);
        out += b;
    } while (n);
    return out + body;
}

const Identity kGateway{"gwPk", "gwDk", "gwSecret"};

}  // namespace

TEST_GROUP(ConnectCheck){};

TEST(ConnectCheck, the_daemons_signed_connect_is_accepted) {
    const auto creds = enos::connect_credentials("gwPk", "gwDk", "gwSecret", 1'700'000'000'000);
    const std::string packet = connect_packet(creds.client_id, creds.username, creds.password);
    LONGS_EQUAL(packet.size(), *mqtt_packet_length(packet));
    const auto c = parse_connect(packet);
    CHECK(c.has_value());
    std::string why;
    LONGS_EQUAL(0, check_connect(*c, kGateway, why));
}

TEST(ConnectCheck, the_protocol_documents_test_vector_is_accepted) {
    const Identity gw{"654321", "test", "abcdefg"};
    const auto c =
        parse_connect(connect_packet("123456|securemode=2,signmethod=sha256,timestamp=1548753362502|", "test&654321",
                                     "B99032D49C706F7B27B22AB5CD2DD3C56A31E1BCBBC83BA0A2A6BB3272FBB166"));
    std::string why;
    LONGS_EQUAL(0, check_connect(*c, gw, why));
}

TEST(ConnectCheck, a_wrong_secret_is_refused_with_4_and_a_wrong_identity_with_5) {
    const auto creds = enos::connect_credentials("gwPk", "gwDk", "wrong", 1'700'000'000'000);
    std::string why;
    LONGS_EQUAL(4, check_connect(*parse_connect(connect_packet(creds.client_id, creds.username, creds.password)),
                                 kGateway, why));
    STRCMP_CONTAINS("secret", why.c_str());
    const auto other = enos::connect_credentials("gwPk", "otherDk", "gwSecret", 1'700'000'000'000);
    LONGS_EQUAL(5, check_connect(*parse_connect(connect_packet(other.client_id, other.username, other.password)),
                                 kGateway, why));
    LONGS_EQUAL(
        2, check_connect(*parse_connect(connect_packet("plain-id", creds.username, creds.password)), kGateway, why));
    LONGS_EQUAL(1, check_connect(*parse_connect(connect_packet(creds.client_id, creds.username, creds.password, 3)),
                                 kGateway, why));
}

TEST(ConnectCheck, an_incomplete_or_foreign_packet_is_not_taken_for_a_connect) {
    const auto creds = enos::connect_credentials("gwPk", "gwDk", "gwSecret", 1'700'000'000'000);
    const std::string packet = connect_packet(creds.client_id, creds.username, creds.password);
    CHECK_FALSE(mqtt_packet_length(packet.substr(0, 1)).has_value());
    CHECK_FALSE(parse_connect(packet.substr(0, packet.size() - 1)).has_value());
    CHECK_FALSE(parse_connect("\x30\x02\x00\x00").has_value());  // a PUBLISH
    LONGS_EQUAL(0, *mqtt_packet_length(std::string("\x10\xFF\xFF\xFF\xFF", 5)));
    STRCMP_EQUAL(std::string("\x20\x02\x00\x05", 4).c_str(), connack(5).c_str());
}
