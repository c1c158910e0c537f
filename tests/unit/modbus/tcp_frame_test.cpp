#include "fieldgate/modbus/tcp_frame.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <memory>
#include <vector>

#include "fieldgate/config/config.hpp"
#include "fieldgate/modbus/rtu_frame.hpp"

#include <CppUTest/TestHarness.h>

using namespace fieldgate::modbus;
using fieldgate::config::Bus;
using fieldgate::config::Table;

namespace {

using Bytes = std::vector<std::uint8_t>;

// A reply frame: header with `transaction` and `length` (of what follows) and the ADU.
std::uint16_t transaction_of(const Bytes& request) {
    return static_cast<std::uint16_t>((request[0] << 8) | request[1]);
}

Bytes frame(std::uint16_t transaction, const Bytes& adu, int length = -1, std::uint16_t protocol = 0) {
    const auto n = static_cast<unsigned>(length < 0 ? adu.size() : static_cast<std::size_t>(length));
    Bytes f{static_cast<std::uint8_t>(transaction >> 8), static_cast<std::uint8_t>(transaction & 0xFF),
            static_cast<std::uint8_t>(protocol >> 8),    static_cast<std::uint8_t>(protocol & 0xFF),
            static_cast<std::uint8_t>(n >> 8),           static_cast<std::uint8_t>(n & 0xFF)};
    for (const std::uint8_t b : adu)  // (insert() trips GCC 12's -Warray-bounds here)
        f.push_back(b);
    return f;
}

}  // namespace

TEST_GROUP(TcpFrame){};

TEST(TcpFrame, a_request_is_the_header_then_the_adu) {
    const auto adu = rtu_read_request(7, ReadBlock{Table::Input, 0x0102, 10});
    std::uint8_t out[kTcpMaxFrame];
    const std::size_t n = tcp_frame(0xBEEF, adu.data(), adu.size(), out);
    const Bytes want{0xBE, 0xEF, 0, 0, 0, 6, 7, 4, 0x01, 0x02, 0, 10};
    CHECK(Bytes(out, out + n) == want);
}

TEST(TcpFrame, the_length_is_known_once_the_header_is_there) {
    const Bytes f = frame(1, {1, 3, 4, 0, 1, 0, 2});
    LONGS_EQUAL(0, tcp_expected_length(f.data(), 5));
    LONGS_EQUAL(13, tcp_expected_length(f.data(), 6));
    CHECK(check_tcp_frame(f.data(), f.size(), 1).ok());
}

TEST(TcpFrame, a_header_not_ours_is_refused) {
    const Bytes adu{1, 3, 4, 0, 1, 0, 2};
    const Bytes other_transaction = frame(2, adu);
    const Bytes other_protocol = frame(1, adu, -1, 1);
    const Bytes too_short = frame(1, {1, 3}, 2);
    const Bytes short_of_its_length = frame(1, adu, 8);
    CHECK(Outcome::Garbled == check_tcp_frame(other_transaction.data(), other_transaction.size(), 1).outcome);
    CHECK(Outcome::Garbled == check_tcp_frame(other_protocol.data(), other_protocol.size(), 1).outcome);
    CHECK(Outcome::Garbled == check_tcp_frame(too_short.data(), too_short.size(), 1).outcome);
    CHECK(Outcome::Garbled == check_tcp_frame(short_of_its_length.data(), short_of_its_length.size(), 1).outcome);
}

TEST(TcpFrame, the_adu_parser_holds_the_reply_to_its_own_length) {
    BlockData out;
    const ReadBlock block{Table::Holding, 0, 2};
    const Bytes good{9, 3, 4, 0x12, 0x34, 0xAB, 0xCD};
    CHECK(parse_read_adu(good.data(), good.size(), 9, block, out, true).ok());
    LONGS_EQUAL(0xABCD, out.registers[1]);
    // One byte more or less than the byte count says: refused, never read past.
    CHECK(Outcome::Garbled == parse_read_adu(good.data(), good.size() - 1, 9, block, out, true).outcome);
    const Bytes longer{9, 3, 4, 0x12, 0x34, 0xAB, 0xCD, 0};
    CHECK(Outcome::Garbled == parse_read_adu(longer.data(), longer.size(), 9, block, out, true).outcome);
    // TCP does not judge the unit (a gateway may answer as 0 or 255); RTU does.
    CHECK(parse_read_adu(good.data(), good.size(), 1, block, out, false).ok());
    CHECK(Outcome::Garbled == parse_read_adu(good.data(), good.size(), 1, block, out, true).outcome);
    const Bytes refused{9, 0x83, 0x02};
    const Result r = parse_read_adu(refused.data(), refused.size(), 9, block, out, false);
    CHECK(Outcome::Exception == r.outcome);
    LONGS_EQUAL(kIllegalDataAddress, r.exception);
}

namespace {

// One Modbus TCP "device" the test scripts: it takes one connection, reads each request whole
// and answers with what the test gives it, built from the request's own transaction id.
struct ScriptedDevice {
    int listener = -1;
    int peer = -1;
    std::uint16_t port = 0;
    bool bound = false;  ///< checked by the test group's setup (a member is made before a test runs)

    ScriptedDevice() {
        listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        bound = ::bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
        ::listen(listener, 4);
        socklen_t len = sizeof a;
        ::getsockname(listener, reinterpret_cast<sockaddr*>(&a), &len);
        port = ntohs(a.sin_port);
    }
    ~ScriptedDevice() {
        if (peer >= 0) ::close(peer);
        ::close(listener);
    }

    Bus bus() const {
        Bus b;
        b.name = "tcp";
        b.host = "127.0.0.1";
        b.port = port;
        b.timeout_ms = 2'000;
        return b;
    }

    // The next request (a 12-byte read request); accepts the connection first if need be.
    Bytes request(std::size_t length = 12) {
        if (peer < 0) peer = ::accept(listener, nullptr, nullptr);
        Bytes r(length);
        CHECK(::recv(peer, r.data(), r.size(), MSG_WAITALL) == static_cast<ssize_t>(r.size()));
        return r;
    }

    // Answers the next request with two good registers.
    void answer_good() {
        const Bytes r = request();
        send(frame(transaction_of(r), {1, 3, 4, 0x12, 0x34, 0xAB, 0xCD}));
    }

    void send(const Bytes& b) const {
        CHECK(::send(peer, b.data(), b.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(b.size()));
    }
};

const ReadBlock kTwo{Table::Holding, 0, 2};
const Bytes kGoodAdu{1, 3, 4, 0x12, 0x34, 0xAB, 0xCD};

// Reads two registers from unit 1 while `device` plays its part.
template <typename Play>
Result read_with(ModbusTransport& t, BlockData& out, Play play) {
    auto pending = std::async(std::launch::async, [&] { return t.read(1, kTwo, 2'000, out); });
    play();
    return pending.get();
}

}  // namespace

// Each test: a scripted device, and a transport connected to it.
TEST_GROUP(TcpTransport) {
    ScriptedDevice device;
    std::unique_ptr<ModbusTransport> t;
    BlockData out;

    void setup() override {
        CHECK_TRUE(device.bound);
        t = make_transport(device.bus());
        CHECK(t->open().ok());
    }
};

TEST(TcpTransport, a_reply_in_pieces_is_put_together) {
    const Result r = read_with(*t, out, [&] {
        const Bytes f = frame(transaction_of(device.request()), kGoodAdu);
        for (std::size_t i = 0; i < f.size(); i += 4) {  // four bytes at a time, as a slow stack sends
            device.send(
                Bytes(f.begin() + static_cast<long>(i), f.begin() + static_cast<long>(std::min(i + 4, f.size()))));
            ::usleep(2000);
        }
    });
    CHECK_TRUE(r.ok());
    LONGS_EQUAL(0x1234, out.registers[0]);
    LONGS_EQUAL(0xABCD, out.registers[1]);
}

TEST(TcpTransport, every_request_has_a_new_transaction_and_a_stale_reply_is_garbled) {
    std::uint16_t first = 0;
    CHECK_TRUE(read_with(*t, out, [&] {
                   first = transaction_of(device.request());
                   device.send(frame(first, kGoodAdu));
               }).ok());
    const Result r = read_with(*t, out, [&] {
        const std::uint16_t second = transaction_of(device.request());
        CHECK(second != first);
        device.send(frame(first, kGoodAdu));  // the answer to the request before
    });
    CHECK(Outcome::Garbled == r.outcome);
    STRCMP_CONTAINS("transaction", r.detail.c_str());
}

TEST(TcpTransport, bytes_after_the_reply_are_garbled_and_a_flush_starts_a_new_connection) {
    const Result r = read_with(*t, out, [&] {
        Bytes f = frame(transaction_of(device.request()), kGoodAdu);
        f.push_back(0x55);
        f.push_back(0xAA);
        device.send(f);
    });
    CHECK(Outcome::Garbled == r.outcome);
    STRCMP_CONTAINS("stray", r.detail.c_str());
    t->flush();
    CHECK_FALSE(t->is_open());
    CHECK(t->open().ok());
    ::close(device.peer);
    device.peer = -1;
    CHECK_TRUE(read_with(*t, out, [&] { device.answer_good(); }).ok());
}

TEST(TcpTransport, an_exception_reply_is_an_answer) {
    const Result r = read_with(*t, out, [&] {
        device.send(frame(transaction_of(device.request()), {1, 0x83, kGatewayTargetFailed}));
    });
    CHECK(Outcome::Exception == r.outcome);
    LONGS_EQUAL(kGatewayTargetFailed, r.exception);
    CHECK_TRUE(t->is_open());
}

TEST(TcpTransport, a_length_no_frame_can_have_is_garbled_at_once) {
    const Result r =
        read_with(*t, out, [&] { device.send(frame(transaction_of(device.request()), kGoodAdu, 0xFFFF)); });
    CHECK(Outcome::Garbled == r.outcome);
    STRCMP_CONTAINS("frame length", r.detail.c_str());
}

TEST(TcpTransport, a_device_that_hangs_up_mid_reply_closes_the_line) {
    const Result r = read_with(*t, out, [&] {
        const Bytes f = frame(transaction_of(device.request()), kGoodAdu);
        device.send(Bytes(f.begin(), f.begin() + 8));
        ::shutdown(device.peer, SHUT_RDWR);
    });
    CHECK(Outcome::Closed == r.outcome);
    STRCMP_CONTAINS("closed by the device", r.detail.c_str());
    CHECK_FALSE(t->is_open());
}

TEST(TcpTransport, no_reply_is_a_timeout) {
    auto pending = std::async(std::launch::async, [&] { return t->read(1, kTwo, 50, out); });
    device.request();
    CHECK(Outcome::Timeout == pending.get().outcome);
}

TEST(TcpTransport, a_write_of_registers_is_echoed) {
    EncodedWrite w;
    w.registers = {0x0102, 0x0304};
    auto pending = std::async(std::launch::async, [&] { return t->write(5, Table::Holding, 40, w, 2'000); });
    const Bytes req = device.request(6 + 1 + 1 + 4 + 1 + 4);
    const Bytes want_adu{5, 16, 0, 40, 0, 2, 4, 1, 2, 3, 4};
    CHECK(Bytes(req.begin() + 6, req.end()) == want_adu);
    device.send(frame(transaction_of(req), {5, 16, 0, 40, 0, 2}));
    CHECK_TRUE(pending.get().ok());
}
