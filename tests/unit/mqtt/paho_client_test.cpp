#include "fieldgate/mqtt/paho_client.hpp"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include "fieldgate/mqtt/paho_library.hpp"

// CppUTest's leak detector redefines new: it comes after every other header.
#include <CppUTest/TestHarness.h>

using namespace fieldgate::mqtt;

namespace {

// A loopback port nothing listens on (bound, then closed).
int closed_port() {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK_EQUAL(0, bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a));
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    close(fd);
    return ntohs(a.sin_port);
}

// Events until `count` arrived or `seconds` passed.
std::vector<Event> wait_events(PahoClient& c, std::size_t count, int seconds = 10) {
    std::vector<Event> all;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    while (all.size() < count && std::chrono::steady_clock::now() < deadline) {
        pollfd p{c.event_fd(), POLLIN, 0};
        poll(&p, 1, 100);
        for (auto& e : c.drain_events())
            all.push_back(std::move(e));
    }
    return all;
}

ConnectOptions options() {
    ConnectOptions o;
    o.client_id = "unit";
    o.username = "u";
    o.password = "p";
    o.connect_timeout_ms = 2000;
    return o;
}

}  // namespace

TEST_GROUP(PahoLibrary){};

TEST(PahoLibrary, the_plain_and_the_tls_library_both_load_with_every_symbol) {
    const PahoLibrary& plain = PahoLibrary::get(false);
    const PahoLibrary& tls = PahoLibrary::get(true);
    CHECK(plain.handle != nullptr);
    CHECK(tls.handle != nullptr);
    CHECK(&plain != &tls);
    STRCMP_EQUAL("libpaho-mqtt3a.so.1", plain.file);
    STRCMP_EQUAL("libpaho-mqtt3as.so.1", tls.file);
    for (const PahoLibrary* lib : {&plain, &tls}) {
        CHECK(lib->create_with_options && lib->set_callbacks && lib->connect && lib->subscribe_many &&
              lib->send_message && lib->is_connected && lib->disconnect && lib->destroy && lib->free_message &&
              lib->free && lib->strerror && lib->global_init && lib->get_pending_tokens);
        CHECK(lib->strerror && std::string(lib->strerror(MQTTASYNC_FAILURE)).size() > 0);
    }
    CHECK(&PahoLibrary::get(true) == &tls);  // loaded once
}

TEST_GROUP(PahoClient){};

TEST(PahoClient, a_refused_tcp_connection_is_reported_once_with_its_handle) {
    PahoClient c("tcp://127.0.0.1:" + std::to_string(closed_port()));
    CHECK(c.connect(options()));
    const auto events = wait_events(c, 1);
    LONGS_EQUAL(1, events.size());
    CHECK(events[0].kind == Event::Kind::ConnectFailed);
    CHECK(events[0].code <= 0);  // never reached a broker
    CHECK(events[0].handle != 0);
}

TEST(PahoClient, a_second_connect_silences_the_first_handle) {
    PahoClient c("tcp://127.0.0.1:" + std::to_string(closed_port()));
    CHECK(c.connect(options()));
    CHECK(c.connect(options()));  // replaces the first handle before it reported anything
    auto events = wait_events(c, 1);
    // The first handle's failure never reaches the owner: give it a moment to show up if it would.
    for (auto& e : wait_events(c, 1, 1))
        events.push_back(std::move(e));
    LONGS_EQUAL(1, events.size());
    CHECK(events[0].kind == Event::Kind::ConnectFailed);
    CHECK(c.is_current(events[0]));
    c.disconnect();
    CHECK_FALSE(c.is_current(events[0]));  // taken before the disconnect: stale now
    CHECK(c.drain_events().empty());
}

TEST(PahoClient, a_failed_tls_connection_names_its_cause) {
    PahoClient c("ssl://127.0.0.1:" + std::to_string(closed_port()));
    CHECK(c.connect(options()));
    const auto events = wait_events(c, 1);
    LONGS_EQUAL(1, events.size());
    CHECK(events[0].kind == Event::Kind::ConnectFailed);
    STRCMP_CONTAINS("Connection refused", events[0].reason.c_str());
    CHECK_FALSE(events[0].reached_server);  // nothing there: the hub saw nothing
}
