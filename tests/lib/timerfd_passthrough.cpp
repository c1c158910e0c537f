// Preloaded ahead of libfaketime by test_no_clock. libfaketime 0.9.10 moves every absolute
// timerfd deadline by its wall-clock offset, CLOCK_MONOTONIC ones too (DONT_FAKE_MONOTONIC does
// not reach timerfd_settime): with the wall clock 25 years back, sd-event's monotonic timers
// would never fire. A real wall-clock step leaves monotonic timers alone; so does this shim, by
// sending timerfd_settime straight to libc.
#include <dlfcn.h>
#include <sys/timerfd.h>

extern "C" int timerfd_settime(int fd, int flags, const struct itimerspec* new_value, struct itimerspec* old_value) {
    using Fn = int (*)(int, int, const struct itimerspec*, struct itimerspec*);
    static const Fn real = [] {
        void* libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
        return reinterpret_cast<Fn>(dlsym(libc, "timerfd_settime"));
    }();
    return real(fd, flags, new_value, old_value);
}
