#pragma once
#include <MQTTAsync.h>

#include <memory>
#include <string>

namespace fieldgate::mqtt {

/// The Paho MQTT C asynchronous library, loaded at run time: the plain build
/// (libpaho-mqtt3a) for tcp:// and the TLS build (libpaho-mqtt3as) for ssl://. Linking the TLS
/// build always would map OpenSSL into every gateway, and its relocations alone cost about
/// 1.5 MB of resident memory on a box whose link is plain TCP (measured, bench/RESULTS.md).
struct PahoLibrary {
    decltype(&::MQTTAsync_global_init) global_init = nullptr;
    decltype(&::MQTTAsync_createWithOptions) create_with_options = nullptr;
    decltype(&::MQTTAsync_setCallbacks) set_callbacks = nullptr;
    decltype(&::MQTTAsync_connect) connect = nullptr;
    decltype(&::MQTTAsync_subscribeMany) subscribe_many = nullptr;
    decltype(&::MQTTAsync_sendMessage) send_message = nullptr;
    decltype(&::MQTTAsync_isConnected) is_connected = nullptr;
    decltype(&::MQTTAsync_disconnect) disconnect = nullptr;
    decltype(&::MQTTAsync_destroy) destroy = nullptr;
    decltype(&::MQTTAsync_getPendingTokens) get_pending_tokens = nullptr;
    decltype(&::MQTTAsync_freeMessage) free_message = nullptr;
    decltype(&::MQTTAsync_free) free = nullptr;
    decltype(&::MQTTAsync_strerror) strerror = nullptr;

    /// The library for `tls` (true: ssl://), loaded once per process. Throws
    /// std::runtime_error naming the file and dlerror() when it cannot be loaded.
    static const PahoLibrary& get(bool tls);

    struct DlClose {
        void operator()(void* dl) const noexcept;
    };
    /// The dlopen() handle. Opened with RTLD_NODELETE: closing it at exit never unmaps code a
    /// Paho thread might still be running.
    std::unique_ptr<void, DlClose> handle;
    const char* file = "";
};

}  // namespace fieldgate::mqtt
