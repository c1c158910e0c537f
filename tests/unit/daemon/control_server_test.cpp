#include <json/json.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "fieldgate/daemon/control_server.hpp"

// CppUTest's leak detector redefines new: it comes after every other header.
#include <CppUTest/TestHarness.h>

using fieldgate::daemon::control_request;
using fieldgate::daemon::ControlServer;

namespace {

std::string make_temp_dir() {
    char tmpl[] = "/tmp/fg-ctl-XXXXXX";
    const char* dir = mkdtemp(tmpl);
    return dir ? dir : "/tmp";
}

// A raw client: connected, then whatever the test does with it.
int connect_to(const std::string& path) {
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    if (connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

// 1: the server closed it (EOF), 0: still open and silent, -1: error.
int peer_state(int fd) {
    char c;
    const ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT | MSG_PEEK);
    if (n == 0) return 1;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
    return n > 0 ? 2 : -1;
}

std::string read_to_eof(int fd) {
    std::string out;
    char buf[4096];
    for (;;) {
        const ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
}

Json::Value parse(const std::string& text) {
    Json::CharReaderBuilder b;
    const std::unique_ptr<Json::CharReader> r(b.newCharReader());
    Json::Value v;
    std::string errs;
    if (!r->parse(text.data(), text.data() + text.size(), &v, &errs)) FAIL(("not JSON: " + text).c_str());
    return v;
}

// Runs the server's side the way the daemon's loop does: on_readable() whenever fd() is
// readable, until `done` holds (or a generous bound, which fails the test).
void pump(ControlServer& server, const std::function<bool()>& done, int max_ms = 20000) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(max_ms);
    while (!done()) {
        if (std::chrono::steady_clock::now() > until) FAIL("the control server did not get there in time");
        pollfd p{server.fd(), POLLIN, 0};
        if (poll(&p, 1, 20) > 0) server.on_readable();
    }
}

// A fieldgatectl in a thread, so the test's thread can run the server.
struct AsyncRequest {
    std::atomic<bool> done{false};
    std::string reply;
    std::string error;
    std::thread t;
    AsyncRequest(const std::string& path, const std::string& request) {
        t = std::thread([this, path, request] {
            try {
                reply = control_request(path, request, 15000);
            } catch (const std::exception& e) {
                error = e.what();
            }
            done = true;
        });
    }
    ~AsyncRequest() {
        if (t.joinable()) t.join();
    }
};

std::string status_reply() {
    return "{\"status\":\"ok\",\"devices\":[]}\n";
}

std::string handle(const std::string& r) {
    if (r == "status") return status_reply();
    if (r == "big") return std::string(8U << 20, 'x') + "\n";
    if (r == "throw") throw std::runtime_error("a \"quoted\" failure\nwith a newline \x01");
    return ControlServer::error_reply("unknown request '" + r + "'");
}

}  // namespace

TEST_GROUP(ControlServer) {
    std::string dir;
    std::string path;
    std::vector<int> fds;
    void setup() override {
        dir = make_temp_dir();
        path = dir + "/control.sock";
    }
    void teardown() override {
        for (int fd : fds)
            close(fd);
        const std::string cmd = "rm -rf '" + dir + "'";
        CHECK_EQUAL(0, std::system(cmd.c_str()));
    }
    int client() {
        const int fd = connect_to(path);
        CHECK(fd >= 0);
        fds.push_back(fd);
        return fd;
    }
};

TEST(ControlServer, answers_a_request) {
    ControlServer server(path, handle);
    AsyncRequest req(path, "status");
    pump(server, [&] { return req.done.load(); });
    STRCMP_EQUAL("", req.error.c_str());
    STRCMP_EQUAL(status_reply().c_str(), req.reply.c_str());
    pump(server, [&] { return server.clients() == 0; });
}

// Twenty local clients that connect and send nothing: the status request is answered while all
// twenty are still connected (not after they were dealt with one by one).
TEST(ControlServer, twenty_idle_connections_do_not_hold_up_a_request) {
    ControlServer::Limits limits;
    limits.request_deadline_ms = 120000;  // the idle ones outlive the test unless served wrongly
    ControlServer server(path, handle, limits);
    std::vector<int> idle;
    idle.reserve(20);
    for (int i = 0; i < 20; ++i)
        idle.push_back(client());
    pump(server, [&] { return server.clients() == 20; });
    AsyncRequest req(path, "status");
    pump(server, [&] { return req.done.load(); });
    STRCMP_EQUAL("", req.error.c_str());
    STRCMP_EQUAL(status_reply().c_str(), req.reply.c_str());
    for (int fd : idle)
        LONGS_EQUAL(0, peer_state(fd));                    // still connected, nothing sent to them
    pump(server, [&] { return server.clients() == 20; });  // the status client's connection ends
}

TEST(ControlServer, a_client_that_sends_nothing_gets_a_json_error_at_the_deadline) {
    ControlServer::Limits limits;
    limits.request_deadline_ms = 100;
    ControlServer server(path, handle, limits);
    const int fd = client();
    pump(server, [&] { return peer_state(fd) != 0; });
    const Json::Value v = parse(read_to_eof(fd));
    CHECK(v["error"].asString().find("no complete request") != std::string::npos);
    close(fd);
    fds.clear();
    pump(server, [&] { return server.clients() == 0; });
}

TEST(ControlServer, a_request_without_end_is_refused_at_the_size_bound) {
    ControlServer server(path, handle);
    const int fd = client();
    const std::string junk(10000, 'a');
    CHECK(send(fd, junk.data(), junk.size(), MSG_NOSIGNAL) > 4096);
    pump(server, [&] { return peer_state(fd) != 0; });
    const Json::Value v = parse(read_to_eof(fd));
    CHECK(v["error"].asString().find("longer than 4096 bytes") != std::string::npos);
}

TEST(ControlServer, a_failing_handler_is_answered_with_valid_json) {
    ControlServer server(path, handle);
    AsyncRequest req(path, "throw");
    pump(server, [&] { return req.done.load(); });
    const Json::Value v = parse(req.reply);
    STRCMP_EQUAL("a \"quoted\" failure\nwith a newline \x01", v["error"].asCString());
    AsyncRequest unknown(path, "no such \"thing\"\\");
    pump(server, [&] { return unknown.done.load(); });
    STRCMP_EQUAL("unknown request 'no such \"thing\"\\'", parse(unknown.reply)["error"].asCString());
}

TEST(ControlServer, a_request_ended_by_shutdown_instead_of_newline_is_served) {
    ControlServer server(path, handle);
    const int fd = client();
    CHECK(send(fd, "status", 6, MSG_NOSIGNAL) == 6);
    shutdown(fd, SHUT_WR);
    pump(server, [&] { return peer_state(fd) != 0; });
    STRCMP_EQUAL(status_reply().c_str(), read_to_eof(fd).c_str());
}

// A client that asks for a large reply and never reads it: the others are served meanwhile,
// and it is dropped at the reply deadline.
TEST(ControlServer, a_client_that_does_not_read_its_reply_does_not_block_others) {
    ControlServer::Limits limits;
    limits.reply_deadline_ms = 300;
    ControlServer server(path, handle, limits);
    const int slow = client();
    CHECK(send(slow, "big\n", 4, MSG_NOSIGNAL) == 4);
    pump(server, [&] { return peer_state(slow) == 2; });  // part of the reply is waiting for it
    AsyncRequest req(path, "status");
    pump(server, [&] { return req.done.load(); });
    STRCMP_EQUAL(status_reply().c_str(), req.reply.c_str());
    pump(server, [&] { return server.clients() == 0; });  // the slow one was given up on
    const std::string got = read_to_eof(slow);
    CHECK(got.size() < (8U << 20));
    CHECK(got.size() > 0);
}

TEST(ControlServer, connections_beyond_the_bound_are_told_busy) {
    ControlServer::Limits limits;
    limits.max_clients = 2;
    limits.request_deadline_ms = 120000;
    ControlServer server(path, handle, limits);
    client();
    client();
    pump(server, [&] { return server.clients() == 2; });
    const int third = client();
    pump(server, [&] { return peer_state(third) != 0; });
    CHECK(parse(read_to_eof(third))["error"].asString().find("busy") != std::string::npos);
    LONGS_EQUAL(2, server.clients());
}

TEST(ControlServer, a_second_server_on_a_live_socket_is_refused_and_a_stale_file_replaced) {
    {
        ControlServer first(path, handle);
        CHECK_THROWS(std::runtime_error, (ControlServer{path, handle}));
    }
    // A file left behind by a daemon that died: a fresh server takes the path over.
    const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    CHECK_EQUAL(0, bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr));
    close(fd);
    ControlServer again(path, handle);
    AsyncRequest req(path, "status");
    pump(again, [&] { return req.done.load(); });
    STRCMP_EQUAL(status_reply().c_str(), req.reply.c_str());
}
