#pragma once
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <string>

namespace fieldgate::util {

/// The OpenSSL functions fieldgate calls itself (checking TLS files, naming why a handshake
/// failed), loaded at run time like Paho: a gateway whose link is tcp:// never maps OpenSSL, and
/// one on ssl:// shares the copy the Paho TLS library loads anyway.
struct OpenSsl {
    decltype(&::TLS_client_method) tls_client_method = nullptr;
    decltype(&::SSL_CTX_new) ctx_new = nullptr;
    decltype(&::SSL_CTX_free) ctx_free = nullptr;
    decltype(&::SSL_CTX_ctrl) ctx_ctrl = nullptr;
    decltype(&::SSL_CTX_load_verify_locations) ctx_load_verify_locations = nullptr;
    decltype(&::SSL_CTX_set_verify) ctx_set_verify = nullptr;
    decltype(&::SSL_CTX_set_default_passwd_cb) ctx_set_default_passwd_cb = nullptr;
    decltype(&::SSL_CTX_use_certificate_chain_file) ctx_use_certificate_chain_file = nullptr;
    decltype(&::SSL_CTX_use_PrivateKey_file) ctx_use_private_key_file = nullptr;
    decltype(&::SSL_CTX_check_private_key) ctx_check_private_key = nullptr;
    decltype(&::SSL_CTX_get0_certificate) ctx_get0_certificate = nullptr;
    decltype(&::SSL_new) ssl_new = nullptr;
    decltype(&::SSL_free) ssl_free = nullptr;
    decltype(&::SSL_set_fd) set_fd = nullptr;
    decltype(&::SSL_ctrl) ssl_ctrl = nullptr;
    decltype(&::SSL_set1_host) set1_host = nullptr;
    decltype(&::SSL_get0_param) get0_param = nullptr;
    decltype(&::X509_VERIFY_PARAM_set1_ip_asc) param_set1_ip_asc = nullptr;
    decltype(&::SSL_connect) connect = nullptr;
    decltype(&::SSL_read) read = nullptr;
    decltype(&::SSL_get_error) get_error = nullptr;
    decltype(&::SSL_get_verify_result) get_verify_result = nullptr;
    decltype(&::X509_verify_cert_error_string) verify_error_string = nullptr;
    decltype(&::X509_get0_notAfter) get0_not_after = nullptr;
    decltype(&::X509_cmp_current_time) cmp_current_time = nullptr;
    decltype(&::ERR_get_error) err_get = nullptr;
    decltype(&::ERR_clear_error) err_clear = nullptr;
    decltype(&::ERR_reason_error_string) err_reason_string = nullptr;

    /// libssl.so.3, loaded once per process and never unloaded; nullptr (and `error` set) when it
    /// cannot be loaded.
    static const OpenSsl* get(std::string* error = nullptr);

    /// The reason text of the first error queued in this thread, and the queue emptied.
    std::string take_error() const;
};

/// The system's trust store, used for ssl:// when [mqtt] ca_file is empty (DESIGN.md "TLS").
inline constexpr const char* kSystemCaFile = "/etc/ssl/certs/ca-certificates.crt";

}  // namespace fieldgate::util
