#include "fieldgate/util/openssl_library.hpp"

#include <dlfcn.h>

#include <memory>
#include <mutex>

namespace fieldgate::util {
namespace {

struct DlClose {
    void operator()(void* h) const noexcept { dlclose(h); }
};

template <typename F>
bool bind(void* handle, const char* name, F& out, std::string& error) {
    void* sym = dlsym(handle, name);
    if (!sym) {
        error = std::string("libssl.so.3: no symbol ") + name;
        return false;
    }
    out = reinterpret_cast<F>(sym);
    return true;
}

bool load(OpenSsl& lib, std::string& error) {
    std::unique_ptr<void, DlClose> h(dlopen("libssl.so.3", RTLD_NOW | RTLD_LOCAL));
    if (!h) {
        const char* e = dlerror();
        error = std::string("cannot load libssl.so.3: ") + (e ? e : "unknown error") + " (Debian package libssl3)";
        return false;
    }
    void* p = h.get();
    const bool ok =
        bind(p, "TLS_client_method", lib.tls_client_method, error) && bind(p, "SSL_CTX_new", lib.ctx_new, error) &&
        bind(p, "SSL_CTX_free", lib.ctx_free, error) && bind(p, "SSL_CTX_ctrl", lib.ctx_ctrl, error) &&
        bind(p, "SSL_CTX_load_verify_locations", lib.ctx_load_verify_locations, error) &&
        bind(p, "SSL_CTX_set_verify", lib.ctx_set_verify, error) &&
        bind(p, "SSL_CTX_set_default_passwd_cb", lib.ctx_set_default_passwd_cb, error) &&
        bind(p, "SSL_CTX_use_certificate_chain_file", lib.ctx_use_certificate_chain_file, error) &&
        bind(p, "SSL_CTX_use_PrivateKey_file", lib.ctx_use_private_key_file, error) &&
        bind(p, "SSL_CTX_check_private_key", lib.ctx_check_private_key, error) &&
        bind(p, "SSL_CTX_get0_certificate", lib.ctx_get0_certificate, error) &&
        bind(p, "SSL_new", lib.ssl_new, error) && bind(p, "SSL_free", lib.ssl_free, error) &&
        bind(p, "SSL_set_fd", lib.set_fd, error) && bind(p, "SSL_ctrl", lib.ssl_ctrl, error) &&
        bind(p, "SSL_set1_host", lib.set1_host, error) && bind(p, "SSL_get0_param", lib.get0_param, error) &&
        bind(p, "X509_VERIFY_PARAM_set1_ip_asc", lib.param_set1_ip_asc, error) &&
        bind(p, "SSL_connect", lib.connect, error) && bind(p, "SSL_read", lib.read, error) &&
        bind(p, "SSL_get_error", lib.get_error, error) &&
        bind(p, "SSL_get_verify_result", lib.get_verify_result, error) &&
        bind(p, "X509_verify_cert_error_string", lib.verify_error_string, error) &&
        bind(p, "X509_get0_notAfter", lib.get0_not_after, error) &&
        bind(p, "X509_cmp_current_time", lib.cmp_current_time, error) && bind(p, "ERR_get_error", lib.err_get, error) &&
        bind(p, "ERR_clear_error", lib.err_clear, error) &&
        bind(p, "ERR_reason_error_string", lib.err_reason_string, error);
    if (ok) static_cast<void>(h.release());  // kept for the life of the process, as Paho keeps its own reference
    return ok;
}

}  // namespace

const OpenSsl* OpenSsl::get(std::string* error) {
    static std::once_flag once;
    static OpenSsl lib;
    static bool loaded = false;
    static std::string load_error;
    std::call_once(once, [] { loaded = load(lib, load_error); });
    if (!loaded && error) *error = load_error;
    return loaded ? &lib : nullptr;
}

std::string OpenSsl::take_error() const {
    const unsigned long code = err_get();
    err_clear();
    if (code == 0) return "unknown error";
    const char* reason = err_reason_string(code);
    return reason ? reason : "error " + std::to_string(code);
}

}  // namespace fieldgate::util
