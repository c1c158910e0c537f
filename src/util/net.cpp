#include "fieldgate/util/net.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cstdlib>

namespace fieldgate::util {
namespace {

std::uint16_t peer_port_of(int fd) noexcept {
    sockaddr_storage peer{};
    socklen_t len = sizeof peer;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) != 0) return 0;
    if (peer.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&peer)->sin_port);
    if (peer.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&peer)->sin6_port);
    return 0;
}

}  // namespace

bool set_tcp_nodelay(int fd) noexcept {
    const int one = 1;
    return ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0;
}

int set_tcp_nodelay_to_port(std::uint16_t peer_port) noexcept {
    DIR* dir = ::opendir("/proc/self/fd");
    if (!dir) return 0;
    const int own = ::dirfd(dir);
    int set = 0;
    while (const dirent* entry = ::readdir(dir)) {
        char* end = nullptr;
        const long fd_long = std::strtol(entry->d_name, &end, 10);
        if (end == entry->d_name || *end != '\0') continue;
        const int fd = static_cast<int>(fd_long);
        if (fd == own) continue;
        int type = 0;
        socklen_t len = sizeof type;
        if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM) continue;
        if (peer_port_of(fd) != peer_port) continue;
        if (set_tcp_nodelay(fd)) ++set;
    }
    ::closedir(dir);
    return set;
}

}  // namespace fieldgate::util
