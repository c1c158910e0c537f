#include "fieldgate/mqtt/paho_library.hpp"

#include <dlfcn.h>

#include <memory>
#include <mutex>
#include <stdexcept>

namespace fieldgate::mqtt {
namespace {

template <typename F>
void bind(void* handle, const char* file, const char* name, F& out) {
    void* sym = dlsym(handle, name);
    if (!sym) throw std::runtime_error(std::string(file) + ": no symbol " + name);
    out = reinterpret_cast<F>(sym);
}

void load(PahoLibrary& lib, const char* file) {
    std::unique_ptr<void, PahoLibrary::DlClose> owned(dlopen(file, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE));
    void* h = owned.get();
    if (!h) {
        const char* err = dlerror();
        throw std::runtime_error(std::string("cannot load ") + file + ": " + (err ? err : "unknown error") +
                                 " (Debian package libpaho-mqtt1.3)");
    }
    bind(h, file, "MQTTAsync_global_init", lib.global_init);
    bind(h, file, "MQTTAsync_createWithOptions", lib.create_with_options);
    bind(h, file, "MQTTAsync_setCallbacks", lib.set_callbacks);
    bind(h, file, "MQTTAsync_connect", lib.connect);
    bind(h, file, "MQTTAsync_subscribeMany", lib.subscribe_many);
    bind(h, file, "MQTTAsync_sendMessage", lib.send_message);
    bind(h, file, "MQTTAsync_isConnected", lib.is_connected);
    bind(h, file, "MQTTAsync_disconnect", lib.disconnect);
    bind(h, file, "MQTTAsync_destroy", lib.destroy);
    bind(h, file, "MQTTAsync_getPendingTokens", lib.get_pending_tokens);
    bind(h, file, "MQTTAsync_freeMessage", lib.free_message);
    bind(h, file, "MQTTAsync_free", lib.free);
    bind(h, file, "MQTTAsync_strerror", lib.strerror);
    // OpenSSL 3 initialises itself on first use; Paho's eager set-up would only cost memory.
    MQTTAsync_init_options init = MQTTAsync_init_options_initializer;
    init.do_openssl_init = 0;
    lib.global_init(&init);
    lib.handle = std::move(owned);
    lib.file = file;
}

}  // namespace

const PahoLibrary& PahoLibrary::get(bool tls) {
    static std::mutex mutex;
    static PahoLibrary plain;
    static PahoLibrary secure;
    std::lock_guard<std::mutex> lock(mutex);
    PahoLibrary& lib = tls ? secure : plain;
    if (!lib.handle) load(lib, tls ? "libpaho-mqtt3as.so.1" : "libpaho-mqtt3a.so.1");
    return lib;
}

void PahoLibrary::DlClose::operator()(void* dl) const noexcept {
    dlclose(dl);
}

}  // namespace fieldgate::mqtt
