#include "fieldgate/daemon/control_server.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "fieldgate/util/log.hpp"

namespace fieldgate::daemon {
namespace {

sockaddr_un address_of(const std::string& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path) throw std::runtime_error("control socket path too long: " + path);
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    return addr;
}

class Fd {
public:
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() {
        if (fd_ >= 0) close(fd_);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }
    int release() {
        const int f = fd_;
        fd_ = -1;
        return f;
    }

private:
    int fd_;
};

bool write_all(int fd, const std::string& data) {
    std::size_t off = 0;
    while (off < data.size()) {
        const ssize_t n = send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        off += static_cast<std::size_t>(n);
    }
    return true;
}

void set_timeouts(int fd, int timeout_ms) {
    timeval tv{};
    tv.tv_sec = timeout_ms / 1000;
    tv.tv_usec = static_cast<suseconds_t>(timeout_ms % 1000) * 1000;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

}  // namespace

ControlServer::ControlServer(std::string path, Handler handler) : path_(std::move(path)), handler_(std::move(handler)) {
    const sockaddr_un addr = address_of(path_);
    Fd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (fd.get() < 0) throw std::runtime_error(std::string("control socket: ") + std::strerror(errno));
    if (bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        if (errno != EADDRINUSE) throw std::runtime_error("control socket " + path_ + ": " + std::strerror(errno));
        // Stale file of a daemon that died, or a live one? Ask it.
        Fd probe(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (connect(probe.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0)
            throw std::runtime_error("control socket " + path_ + " is served by another running fieldgated");
        unlink(path_.c_str());
        if (bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0)
            throw std::runtime_error("control socket " + path_ + ": " + std::strerror(errno));
    }
    chmod(path_.c_str(), 0660);
    if (listen(fd.get(), 8) != 0) throw std::runtime_error("control socket " + path_ + ": " + std::strerror(errno));
    fd_ = fd.release();
}

ControlServer::~ControlServer() {
    if (fd_ >= 0) {
        close(fd_);
        unlink(path_.c_str());
    }
}

void ControlServer::on_readable() {
    Fd client(accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC));
    if (client.get() < 0) return;
    set_timeouts(client.get(), 1000);
    std::string request;
    char buf[512];
    while (request.find('\n') == std::string::npos && request.size() < 4096) {
        const ssize_t n = recv(client.get(), buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        request.append(buf, static_cast<std::size_t>(n));
    }
    const auto nl = request.find('\n');
    if (nl != std::string::npos) request.resize(nl);
    std::string reply;
    try {
        reply = handler_(request);
    } catch (const std::exception& e) {
        reply = std::string("{\"error\":\"") + e.what() + "\"}\n";
    }
    write_all(client.get(), reply);
}

std::string control_request(const std::string& path, const std::string& request, int timeout_ms) {
    const sockaddr_un addr = address_of(path);
    Fd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (fd.get() < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    if (connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        const int err = errno;
        if (err == ENOENT || err == ECONNREFUSED)
            throw std::runtime_error("fieldgated is not running (no daemon answers on " + path + ")");
        throw std::runtime_error("cannot reach fieldgated on " + path + ": " + std::strerror(err));
    }
    set_timeouts(fd.get(), timeout_ms);
    if (!write_all(fd.get(), request + "\n")) throw std::runtime_error("cannot send to fieldgated on " + path);
    std::string reply;
    char buf[4096];
    for (;;) {
        const ssize_t n = recv(fd.get(), buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw std::runtime_error("no reply from fieldgated on " + path + ": " + std::strerror(errno));
        if (n == 0) break;
        reply.append(buf, static_cast<std::size_t>(n));
    }
    return reply;
}

}  // namespace fieldgate::daemon
