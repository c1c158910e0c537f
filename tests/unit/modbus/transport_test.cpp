#include "fieldgate/modbus/transport.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pty.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <string>

#include "fieldgate/config/config.hpp"
#include "fieldgate/modbus/rtu_frame.hpp"

#include <CppUTest/TestHarness.h>

using namespace fieldgate::modbus;
using fieldgate::config::Bus;
using fieldgate::config::BusType;

namespace {

// A Modbus TCP "device" that takes connections (the kernel's backlog) and never answers.
struct SilentListener {
    int fd = -1;
    std::uint16_t port = 0;
    SilentListener() {
        fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        CHECK_EQUAL(0, ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a));
        ::listen(fd, 4);
        socklen_t len = sizeof a;
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
        port = ntohs(a.sin_port);
    }
    ~SilentListener() { ::close(fd); }
};

// A pseudo-terminal: the transport opens the slave side; the test plays the slaves on the master.
struct Pty {
    int master = -1;
    int slave = -1;
    std::string name;
    Pty() {
        char path[128] = {};
        ::openpty(&master, &slave, path, nullptr, nullptr);
        name = path;
    }
    ~Pty() {
        ::close(slave);
        ::close(master);
    }
};

Bus rtu_bus(const std::string& device) {
    Bus b;
    b.name = "line";
    b.type = BusType::Rtu;
    b.device = device;
    b.baud = 115200;
    b.frame_gap_ms = 0;
    b.timeout_ms = 60'000;
    return b;
}

}  // namespace

TEST_GROUP(Transport){};

TEST(Transport, tcp_interrupt_cuts_a_read_waiting_for_a_silent_device_short) {
    SilentListener silent;
    Bus b;
    b.name = "tcp";
    b.host = "127.0.0.1";
    b.port = silent.port;
    b.timeout_ms = 60'000;
    auto t = make_transport(b);
    CHECK(t->open().ok());
    auto pending = std::async(std::launch::async, [&] {
        BlockData out;
        return t->read(1, ReadBlock{fieldgate::config::Table::Holding, 0, 2}, 60'000, out).outcome;
    });
    // Once the request is on the wire the transport waits for the reply: interrupt it there.
    const int peer = ::accept(silent.fd, nullptr, nullptr);
    char request[12];
    CHECK(::recv(peer, request, sizeof request, MSG_WAITALL) == 12);
    t->interrupt();
    CHECK(pending.wait_for(std::chrono::seconds(20)) == std::future_status::ready);
    CHECK(pending.get() == Outcome::Stopped);
    CHECK(t->open().outcome == Outcome::Stopped);
    ::close(peer);
}

TEST(Transport, rtu_interrupt_cuts_a_read_waiting_for_a_silent_slave_short) {
    Pty pty;
    auto t = make_transport(rtu_bus(pty.name));
    CHECK(t->open().ok());
    auto pending = std::async(std::launch::async, [&] {
        BlockData out;
        return t->read(1, ReadBlock{fieldgate::config::Table::Holding, 0, 2}, 60'000, out).outcome;
    });
    std::uint8_t request[8];
    std::size_t got = 0;
    while (got < sizeof request) {
        const auto n = ::read(pty.master, request + got, sizeof request - got);
        if (n <= 0) break;
        got += static_cast<std::size_t>(n);
    }
    LONGS_EQUAL(8, got);
    t->interrupt();
    CHECK(pending.wait_for(std::chrono::seconds(20)) == std::future_status::ready);
    CHECK(pending.get() == Outcome::Stopped);
}
