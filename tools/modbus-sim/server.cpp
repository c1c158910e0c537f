#include "server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

namespace fieldgate::sim {

UniqueFd& UniqueFd::operator=(UniqueFd&& o) noexcept {
    if (this != &o) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = o.release();
    }
    return *this;
}

UniqueFd::~UniqueFd() {
    if (fd_ >= 0) ::close(fd_);
}

int UniqueFd::release() noexcept {
    const int fd = fd_;
    fd_ = -1;
    return fd;
}

namespace {

std::int64_t wall_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::uint16_t be16(const std::uint8_t* p) {
    return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

}  // namespace

Server::Server(const Options& options) : options_(options) {
    std::map<std::uint16_t, std::size_t> port_index;
    for (const auto& spec : options_.devices) {
        auto [it, added] = port_index.emplace(spec.port, ports_.size());
        if (added) {
            Port p;
            p.port = spec.port;
            ports_.push_back(std::move(p));
        }
        Device d;
        d.spec = spec;
        d.mapping.reset(
            modbus_mapping_new_start_address(0, kCoils, 0, kDiscreteInputs, 0, kHoldingRegisters, 0, kInputRegisters));
        if (!d.mapping)
            throw std::runtime_error(std::string("cannot allocate a register map: ") + std::strerror(errno));
        const Image image{d.mapping->tab_registers, d.mapping->tab_input_registers, d.mapping->tab_bits,
                          d.mapping->tab_input_bits};
        refresh(spec.profile, spec.seed, wall_ms(), image);
        ports_[it->second].units.emplace(spec.unit_id, std::move(d));
    }

    for (auto& p : ports_) {
        const std::string where = options_.listen + ":" + std::to_string(p.port);
        p.ctx.reset(modbus_new_tcp(options_.listen.c_str(), p.port));
        if (!p.ctx) throw BindError("cannot listen on " + where + ": " + modbus_strerror(errno));
        // A client that stops mid-frame may hold the loop for this long, then is dropped.
        modbus_set_byte_timeout(p.ctx.get(), 0, 200'000);
        modbus_set_indication_timeout(p.ctx.get(), 1, 0);
        const int fd = modbus_tcp_listen(p.ctx.get(), 64);
        if (fd < 0) throw BindError("cannot listen on " + where + ": " + modbus_strerror(errno));
        p.listener = UniqueFd(fd);
        if (p.port == 0) {  // report the port the kernel chose
            sockaddr_in addr{};
            socklen_t len = sizeof addr;
            if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) p.port = ntohs(addr.sin_port);
        }
    }
}

std::vector<std::string> Server::banner() const {
    std::vector<std::string> lines;
    for (const auto& p : ports_) {
        std::string line = "listening on " + options_.listen + ":" + std::to_string(p.port) + " units ";
        bool first = true;
        for (const auto& entry : p.units) {
            if (!first) line += ",";
            first = false;
            line += std::to_string(entry.first);
        }
        lines.push_back(line);
    }
    return lines;
}

void Server::accept_client(std::size_t port_index) {
    const int fd = ::accept4(ports_[port_index].listener.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
        // EMFILE and friends: the client stays in the backlog and is retried on the next wakeup.
        if (options_.verbose)
            std::fprintf(stderr, "accept on port %u: %s\n", ports_[port_index].port, std::strerror(errno));
        return;
    }
    // Replies are one small write each; do not let Nagle hold one back behind a delayed ACK.
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    Client c;
    c.fd = UniqueFd(fd);
    c.port_index = port_index;
    clients_.push_back(std::move(c));
    if (options_.verbose) std::fprintf(stderr, "port %u: client connected (fd %d)\n", ports_[port_index].port, fd);
}

bool Server::serve_one(Client& client) {
    Port& port = ports_[client.port_index];
    modbus_t* ctx = port.ctx.get();
    modbus_set_socket(ctx, client.fd.get());
    std::uint8_t query[MODBUS_TCP_MAX_ADU_LENGTH];
    const int len = modbus_receive(ctx, query);
    if (len < 0) {
        if (options_.verbose && errno != ECONNRESET) {
            std::fprintf(stderr, "port %u: dropping client: %s\n", port.port, modbus_strerror(errno));
        }
        return false;
    }
    if (len == 0) return true;  // libmodbus ignored the frame

    const int header = modbus_get_header_length(ctx);  // 7 on TCP: the MBAP header, unit id last
    const std::uint8_t unit = query[header - 1];
    const std::uint8_t function = query[header];
    auto found = port.units.find(unit);
    // One clock reading per request: the values served and the time logged are the same moment.
    const std::int64_t now_ms = wall_ms();
    if (options_.verbose) {
        const unsigned addr = len >= header + 3 ? be16(query + header + 1) : 0;
        const unsigned count = len >= header + 5 ? be16(query + header + 3) : 0;
        std::fprintf(stderr, "port %u unit %u: fc %u addr %u count %u at %lld ms%s\n", port.port, unit, function, addr,
                     count, static_cast<long long>(now_ms), found == port.units.end() ? " (unknown unit)" : "");
    }
    if (found == port.units.end()) {
        if (options_.unknown_unit == UnknownUnit::Silent) return true;
        return modbus_reply_exception(ctx, query, MODBUS_EXCEPTION_GATEWAY_TARGET) >= 0;
    }
    Device& d = found->second;
    const Image image{d.mapping->tab_registers, d.mapping->tab_input_registers, d.mapping->tab_bits,
                      d.mapping->tab_input_bits};
    refresh(d.spec.profile, d.spec.seed, now_ms, image);
    // Out-of-map reads get exception 2 and oversized ones exception 3, both from modbus_reply.
    return modbus_reply(ctx, query, len, d.mapping.get()) >= 0;
}

int Server::run(int stop_fd) {
    std::vector<pollfd> fds;
    for (;;) {
        fds.clear();
        fds.push_back(pollfd{stop_fd, POLLIN, 0});
        for (const auto& p : ports_)
            fds.push_back(pollfd{p.listener.get(), POLLIN, 0});
        for (const auto& c : clients_)
            fds.push_back(pollfd{c.fd.get(), POLLIN, 0});

        if (::poll(fds.data(), fds.size(), -1) < 0) {
            if (errno == EINTR) continue;
            std::fprintf(stderr, "fieldgate-modbus-sim: poll: %s\n", std::strerror(errno));
            return 2;
        }
        if (fds[0].revents != 0) return 0;

        // Clients first, by their index in this round's fds; accepting appends to clients_,
        // which the fds of this round do not cover.
        const std::size_t first_client = 1 + ports_.size();
        std::vector<bool> done(clients_.size(), false);
        for (std::size_t i = 0; i < clients_.size(); ++i) {
            if (fds[first_client + i].revents != 0) done[i] = !serve_one(clients_[i]);
        }
        std::size_t kept = 0;
        for (std::size_t i = 0; i < clients_.size(); ++i) {
            if (done[i]) {
                if (options_.verbose) std::fprintf(stderr, "client fd %d closed\n", clients_[i].fd.get());
                continue;  // the moved-over slot's UniqueFd closes it below
            }
            if (kept != i) clients_[kept] = std::move(clients_[i]);
            ++kept;
        }
        clients_.resize(kept);

        for (std::size_t i = 0; i < ports_.size(); ++i) {
            if (fds[1 + i].revents != 0) accept_client(i);
        }
    }
}

}  // namespace fieldgate::sim
