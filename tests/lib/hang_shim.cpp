// Preloaded by test_watchdog into fieldgated: a bus thread that hangs on demand. While the file
// named by FG_HANG_FILE exists, every poll() a thread named "bus:*" makes waits for the file to go
// away first, so that thread stops in the middle of a poll, as one stuck in a driver or a
// library would, with the rest of the daemon (main loop, watchdog, control socket) untouched.
// fieldgate's own Modbus TCP transport gives up on a reply at its time-out however the device
// trickles it (test_watchdog proves that first), so the hang has to be injected.
#include <dlfcn.h>
#include <poll.h>
#include <pthread.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

extern "C" int poll(struct pollfd* fds, nfds_t nfds, int timeout) {
    using Fn = int (*)(struct pollfd*, nfds_t, int);
    static const Fn real = [] {
        void* libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
        return reinterpret_cast<Fn>(dlsym(libc, "poll"));
    }();
    static const char* const hang_file = std::getenv("FG_HANG_FILE");
    if (hang_file) {
        char name[16] = {};
        pthread_getname_np(pthread_self(), name, sizeof name);
        if (std::strncmp(name, "bus:", 4) == 0)
            while (access(hang_file, F_OK) == 0)
                usleep(10'000);
    }
    return real(fds, nfds, timeout);
}
