#include "front.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <list>
#include <stdexcept>
#include <vector>

#include "fieldgate/util/log.hpp"
#include "fieldgate/util/net.hpp"

namespace fieldgate::cloudsim {
namespace {

// A CONNECT is a few hundred bytes; a client that sends more without one is not MQTT.
constexpr std::size_t kMaxConnectBytes = std::size_t{64} * 1024;

std::int64_t wall_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string json_text(const std::string& s) {
    std::string out = "\"";
    for (const char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        if (static_cast<unsigned char>(c) < 0x20) continue;
        out += c;
    }
    return out + "\"";
}

bool send_all(int fd, const char* data, std::size_t n) {
    while (n > 0) {
        const ssize_t w = ::send(fd, data, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        data += w;
        n -= static_cast<std::size_t>(w);
    }
    return true;
}

int connect_to(const std::string& host, std::uint16_t port) {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0) return -1;
    int fd = -1;
    for (addrinfo* a = found; a && fd < 0; a = a->ai_next) {
        fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd >= 0 && ::connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
            ::close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(found);
    if (fd >= 0) util::set_tcp_nodelay(fd);
    return fd;
}

struct Session {
    int client = -1;
    int broker = -1;  ///< -1 until the CONNECT was accepted
    std::string pending;
    Session() = default;
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;
    ~Session() {
        if (client >= 0) ::close(client);
        if (broker >= 0) ::close(broker);
    }
};

}  // namespace

Front::Front(std::uint16_t listen_port, std::string broker_host, std::uint16_t broker_port, Identity gateway,
             const std::string& log_path)
    : broker_host_(std::move(broker_host)), broker_port_(broker_port), gateway_(std::move(gateway)) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(listen_port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(listener_, 16) != 0) {
        const std::string err = std::strerror(errno);
        if (listener_ >= 0) ::close(listener_);
        throw std::runtime_error("front: cannot listen on 127.0.0.1:" + std::to_string(listen_port) + ": " + err);
    }
    stop_fd_ = eventfd(0, EFD_CLOEXEC);
    if (!log_path.empty()) {
        log_ = std::fopen(log_path.c_str(), "a");
        if (!log_) {
            ::close(listener_);
            ::close(stop_fd_);
            throw std::runtime_error("front: cannot open " + log_path + ": " + std::strerror(errno));
        }
    }
    thread_ = std::thread([this] { run(); });
}

Front::~Front() {
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto n = ::write(stop_fd_, &one, sizeof one);
    thread_.join();
    ::close(listener_);
    ::close(stop_fd_);
    if (log_) std::fclose(log_);
}

void Front::run() noexcept {
    try {
        std::list<Session> sessions;
        std::vector<char> buf(std::size_t{64} * 1024);
        for (;;) {
            std::vector<pollfd> fds{{stop_fd_, POLLIN, 0}, {listener_, POLLIN, 0}};
            std::vector<std::pair<Session*, bool>> owners;  // (session, is the client side)
            for (auto& s : sessions) {
                fds.push_back({s.client, POLLIN, 0});
                owners.emplace_back(&s, true);
                if (s.broker >= 0) {
                    fds.push_back({s.broker, POLLIN, 0});
                    owners.emplace_back(&s, false);
                }
            }
            if (::poll(fds.data(), fds.size(), -1) < 0) {
                if (errno == EINTR) continue;
                return;
            }
            if (fds[0].revents) return;
            if (fds[1].revents & POLLIN) {
                const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
                if (fd >= 0) {
                    util::set_tcp_nodelay(fd);
                    sessions.emplace_back();
                    sessions.back().client = fd;
                }
            }
            std::vector<Session*> done;
            for (std::size_t i = 2; i < fds.size(); ++i) {
                if (!fds[i].revents) continue;
                auto [s, from_client] = owners[i - 2];
                const ssize_t n = ::recv(fds[i].fd, buf.data(), buf.size(), 0);
                if (n <= 0) {
                    done.push_back(s);
                    continue;
                }
                if (!from_client) {
                    if (!send_all(s->client, buf.data(), static_cast<std::size_t>(n))) done.push_back(s);
                    continue;
                }
                if (s->broker >= 0) {
                    if (!send_all(s->broker, buf.data(), static_cast<std::size_t>(n))) done.push_back(s);
                    continue;
                }
                s->pending.append(buf.data(), static_cast<std::size_t>(n));
                const auto length = mqtt_packet_length(s->pending);
                if (!length) {
                    if (s->pending.size() > kMaxConnectBytes) done.push_back(s);
                    continue;
                }
                if (*length == 0 || s->pending.size() < *length) {
                    if (*length == 0 || *length > kMaxConnectBytes) done.push_back(s);
                    continue;
                }
                const auto connect = parse_connect(s->pending);
                std::string why;
                const int code = connect ? check_connect(*connect, gateway_, why) : -1;
                if (log_) {
                    std::fprintf(log_, "{\"time_ms\":%lld,\"client_id\":%s,\"code\":%d}\n",
                                 static_cast<long long>(wall_ms()),
                                 json_text(connect ? connect->client_id : std::string()).c_str(), code);
                    std::fflush(log_);
                }
                if (code != 0) {
                    util::log_notice("front: CONNECT refused with " + std::to_string(code) + ": " +
                                     (connect ? why : std::string("not an MQTT CONNECT")));
                    if (code > 0) {
                        const std::string ack = connack(code);
                        send_all(s->client, ack.data(), ack.size());
                    }
                    done.push_back(s);
                    continue;
                }
                s->broker = connect_to(broker_host_, broker_port_);
                if (s->broker < 0 || !send_all(s->broker, s->pending.data(), s->pending.size())) {
                    done.push_back(s);
                    continue;
                }
                s->pending.clear();
            }
            for (Session* s : done)
                sessions.remove_if([s](const Session& x) { return &x == s; });
        }
    } catch (const std::exception& e) {
        util::log_error(std::string("front: ") + e.what());
    }
}

}  // namespace fieldgate::cloudsim
