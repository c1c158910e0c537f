#include "fieldgate/mqtt/tls_probe.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "fieldgate/util/openssl_library.hpp"

namespace fieldgate::mqtt {
namespace {

using Clock = std::chrono::steady_clock;

class Fd {
public:
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }

private:
    int fd_;
};

bool is_ip(const std::string& host) {
    unsigned char buf[sizeof(in6_addr)];
    return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

/// Waits for `events` on fd; 1 ready, 0 time-out or cancelled, -1 error.
int wait_for(int fd, short events, Clock::time_point deadline, int cancel_fd) {
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) return 0;
        pollfd p[2] = {{fd, events, 0}, {cancel_fd, POLLIN, 0}};
        const int n = ::poll(p, cancel_fd >= 0 ? 2 : 1, static_cast<int>(left));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -1;
        if (cancel_fd >= 0 && (p[1].revents & POLLIN)) return 0;
        if (n > 0) return 1;
    }
}

int refuse_passphrase(char*, int, int, void*) {
    return 0;
}

std::string verify_words(long result, const util::OpenSsl& ssl, const TlsTarget& t) {
    const std::string ca = t.ca_file.empty() ? std::string("the system store ") + util::kSystemCaFile : t.ca_file;
    switch (result) {
        case X509_V_ERR_CERT_HAS_EXPIRED:
            return "certificate expired: the server's certificate is past its end date";
        case X509_V_ERR_CERT_NOT_YET_VALID:
            return "certificate not yet valid: check this gateway's clock";
        case X509_V_ERR_HOSTNAME_MISMATCH:
        case X509_V_ERR_IP_ADDRESS_MISMATCH:
            return "name mismatch: the server's certificate is not for " + t.host;
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
        case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
        case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
        case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
        case X509_V_ERR_CERT_UNTRUSTED:
        case X509_V_ERR_CERT_SIGNATURE_FAILURE:
            return "untrusted issuer: the server's certificate is not signed by a CA in " + ca;
        default:
            return std::string("server certificate rejected: ") + ssl.verify_error_string(result);
    }
}

}  // namespace

bool parse_tls_uri(const std::string& uri, std::string& host, std::uint16_t& port) {
    if (uri.rfind("ssl://", 0) != 0) return false;
    const std::string rest = uri.substr(6);
    const auto colon = rest.rfind(':');
    if (colon == std::string::npos || colon == 0) return false;
    host = rest.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    const long p = std::strtol(rest.c_str() + colon + 1, nullptr, 10);
    if (p < 1 || p > 65535) return false;
    port = static_cast<std::uint16_t>(p);
    return true;
}

bool tls_failure_reached_server(const std::string& diagnosis) {
    return diagnosis.rfind("cannot reach ", 0) != 0 && diagnosis.rfind("cannot resolve ", 0) != 0;
}

std::string diagnose_tls(const TlsTarget& t, int timeout_ms, int cancel_fd) {
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    std::string load_error;
    const util::OpenSsl* ssl = util::OpenSsl::get(&load_error);
    if (!ssl) return load_error;

    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (const int rc = getaddrinfo(t.host.c_str(), std::to_string(t.port).c_str(), &hints, &found); rc != 0)
        return "cannot resolve " + t.host + ": " + gai_strerror(rc);
    std::unique_ptr<addrinfo, void (*)(addrinfo*)> addresses(found, freeaddrinfo);
    std::string tcp_error = "no address";
    int fd_value = -1;
    for (addrinfo* a = found; a && fd_value < 0; a = a->ai_next) {
        const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) continue;
        int rc = ::connect(fd, a->ai_addr, a->ai_addrlen);
        if (rc != 0 && errno == EINPROGRESS) {
            const int w = wait_for(fd, POLLOUT, deadline, cancel_fd);
            int err = 0;
            socklen_t len = sizeof err;
            if (w == 1 && ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0) {
                rc = 0;
            } else {
                errno = w == 1 ? err : ETIMEDOUT;
            }
        }
        if (rc == 0) {
            fd_value = fd;
        } else {
            tcp_error = std::strerror(errno);
            ::close(fd);
        }
    }
    if (fd_value < 0) return "cannot reach " + t.host + ":" + std::to_string(t.port) + ": " + tcp_error;
    Fd sock(fd_value);

    std::unique_ptr<SSL_CTX, void (*)(SSL_CTX*)> ctx(ssl->ctx_new(ssl->tls_client_method()), ssl->ctx_free);
    if (!ctx) return "TLS set-up failed: " + ssl->take_error();
    ssl->ctx_ctrl(ctx.get(), SSL_CTRL_SET_MIN_PROTO_VERSION, TLS1_2_VERSION, nullptr);
    ssl->ctx_set_default_passwd_cb(ctx.get(), &refuse_passphrase);
    ssl->ctx_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
    const std::string ca = t.ca_file.empty() ? util::kSystemCaFile : t.ca_file;
    if (ssl->ctx_load_verify_locations(ctx.get(), ca.c_str(), nullptr) != 1)
        return "cannot load the CA certificates of " + ca + ": " + ssl->take_error();
    if (!t.cert_file.empty() && (ssl->ctx_use_certificate_chain_file(ctx.get(), t.cert_file.c_str()) != 1 ||
                                 ssl->ctx_use_private_key_file(ctx.get(), t.key_file.c_str(), SSL_FILETYPE_PEM) != 1))
        return "cannot load the client certificate and key: " + ssl->take_error();
    std::unique_ptr<SSL, void (*)(SSL*)> conn(ssl->ssl_new(ctx.get()), ssl->ssl_free);
    if (!conn) return "TLS set-up failed: " + ssl->take_error();
    ssl->set_fd(conn.get(), sock.get());
    if (is_ip(t.host)) {
        ssl->param_set1_ip_asc(ssl->get0_param(conn.get()), t.host.c_str());
    } else {
        ssl->ssl_ctrl(conn.get(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                      const_cast<char*>(t.host.c_str()));
        ssl->set1_host(conn.get(), t.host.c_str());
    }

    ssl->err_clear();
    for (;;) {
        const int rc = ssl->connect(conn.get());
        if (rc == 1) break;
        const int err = ssl->get_error(conn.get(), rc);
        if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
            const int w = wait_for(sock.get(), err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline, cancel_fd);
            if (w == 1) continue;
            return w == 0 ? std::string() : "TLS handshake failed: " + std::string(std::strerror(errno));
        }
        const long verify = ssl->get_verify_result(conn.get());
        if (verify != X509_V_OK) return verify_words(verify, *ssl, t);
        if (err == SSL_ERROR_SSL) {
            const std::string why = ssl->take_error();
            if (why.find("alert") != std::string::npos)
                return "refused by the server (" + why + "): it may want a client certificate it trusts";
            return "TLS handshake failed: " + why;
        }
        return "refused by the server: it closed the connection during the TLS handshake";
    }
    // TLS 1.3 finishes the client's side before the server has seen the client certificate: a
    // refusal comes as an alert right after. Wait a moment for one.
    const auto settle = std::min(deadline, Clock::now() + std::chrono::milliseconds(1000));
    char byte = 0;
    for (;;) {
        const int rc = ssl->read(conn.get(), &byte, 1);
        if (rc > 0) return std::string();
        const int err = ssl->get_error(conn.get(), rc);
        if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
            if (wait_for(sock.get(), err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, settle, cancel_fd) == 1) continue;
            return std::string();  // nothing said: the server keeps the session
        }
        if (err == SSL_ERROR_SSL)
            return "refused by the server (" + ssl->take_error() + "): it may want a client certificate it trusts";
        return "refused by the server: it closed the connection right after the TLS handshake";
    }
}

}  // namespace fieldgate::mqtt
