#pragma once
#include <cstdint>
#include <string>

namespace fieldgate::mqtt {

/// What a TLS connection to the broker is made with: the same as the Paho TLS client uses.
struct TlsTarget {
    std::string host;  ///< name or IP address, as in the URI (no brackets)
    std::uint16_t port = 0;
    std::string ca_file;  ///< empty: the system store
    std::string cert_file;
    std::string key_file;
};

/// Splits `ssl://host:port` (a bracketed IPv6 host too); false when it is not of that form.
bool parse_tls_uri(const std::string& uri, std::string& host, std::uint16_t& port);

/// Paho says only "TCP/TLS connect failure" whatever went wrong, and checks the host name after
/// the handshake without saying so. This connects and handshakes once more with the same
/// settings (TLS 1.2 or newer, the server verified against the CA and its name or IP checked)
/// and names the cause in words an operator can act on: "untrusted issuer: ...", "name
/// mismatch: ...", "certificate expired: ...", "refused by the server: ...", or why the TCP
/// connection failed. Empty when the handshake succeeds and the server keeps the session.
/// Blocks for at most `timeout_ms` (plus name resolution); `cancel_fd`, when >= 0, is polled
/// too and ends the probe (returning empty) as soon as it is readable.
std::string diagnose_tls(const TlsTarget& target, int timeout_ms, int cancel_fd = -1);

/// Whether a diagnose_tls() text says the server was reached (TCP connected): not so for
/// "cannot resolve ..." and "cannot reach ...".
bool tls_failure_reached_server(const std::string& diagnosis);

}  // namespace fieldgate::mqtt
