// Fuzz target: the control-socket protocol as a local client can speak it. The bytes are sent
// over a real connection to a ControlServer (in pieces, with or without closing the writing
// side); the handler parses requests the way the daemon does. Oracle: the server answers every
// connection that sent something with exactly one valid JSON value and never blocks.
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <stdexcept>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "fieldgate/daemon/control_server.hpp"
#include "fieldgate/util/json.hpp"
#include "fuzz_support.hpp"

using fieldgate::daemon::ControlServer;

namespace {

std::string handle(const std::string& request) {
    if (request == "status") return "{\"devices\":[]}\n";
    if (request == "dead-letters") return "{\"dead_letters\":[]}\n";
    if (request.rfind("values ", 0) == 0) {
        std::string out = "{\"device\":";
        fieldgate::util::append_json_string(out, request.substr(7), fieldgate::util::JsonBytes::Latin1);
        return out + "}\n";
    }
    if (request == "throw") throw std::runtime_error("thrown \"here\"");
    return ControlServer::error_reply("unknown request '" + request + "'");
}

struct Fixture {
    std::string dir;
    std::string path;
    std::unique_ptr<ControlServer> server;
    Fixture() {
        char tmpl[] = "/tmp/fg-fuzz-ctl-XXXXXX";
        dir = mkdtemp(tmpl);
        path = dir + "/control.sock";
        ControlServer::Limits limits;
        limits.request_deadline_ms = 200;
        limits.reply_deadline_ms = 200;
        server = std::make_unique<ControlServer>(path, handle, limits);
    }
    ~Fixture() {
        server.reset();
        rmdir(dir.c_str());
    }
};

void pump_once(ControlServer& s, int timeout_ms) {
    pollfd p{s.fd(), POLLIN, 0};
    if (poll(&p, 1, timeout_ms) > 0) s.on_readable();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static Fixture f;  // one server for the whole run, as the daemon has
    if (size == 0) return 0;
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, f.path.c_str(), sizeof addr.sun_path - 1);
    fieldgate::fuzz::require(connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0, "connect");
    // The first byte says how to send: in how many pieces, and whether to close the writing side.
    const std::uint8_t how = data[0];
    const std::size_t pieces = 1 + how % 4;
    const bool close_write = (how & 0x80) != 0;
    const std::uint8_t* body = data + 1;
    const std::size_t len = size - 1;
    std::size_t sent = 0;
    for (std::size_t i = 0; i < pieces && sent < len; ++i) {
        const std::size_t chunk = i + 1 == pieces ? len - sent : std::max<std::size_t>(1, len / pieces);
        std::size_t off = 0;
        while (off < chunk) {
            const ssize_t n = send(fd, body + sent + off, chunk - off, MSG_NOSIGNAL);
            if (n <= 0) break;  // the server already answered (e.g. size bound) and closed
            off += static_cast<std::size_t>(n);
        }
        sent += off;
        pump_once(*f.server, 0);
        if (off < chunk) break;
    }
    if (close_write) shutdown(fd, SHUT_WR);
    std::string reply;
    bool eof = false;
    // Bounded: the request deadline (200 ms) ends any exchange; 400 rounds of at most 5 ms.
    for (int round = 0; round < 400 && !eof; ++round) {
        pump_once(*f.server, 5);
        char buf[4096];
        for (;;) {
            const ssize_t n = recv(fd, buf, sizeof buf, 0);
            if (n > 0) {
                reply.append(buf, static_cast<std::size_t>(n));
                continue;
            }
            if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) eof = true;
            break;
        }
    }
    close(fd);
    for (int round = 0; round < 20 && f.server->clients() > 0; ++round)
        pump_once(*f.server, 5);
    fieldgate::fuzz::require(eof, "the server ends every exchange");
    if (!reply.empty()) fieldgate::fuzz::must_parse(reply, "control reply");
    return 0;
}
