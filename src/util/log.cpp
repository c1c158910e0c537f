#include "fieldgate/util/log.hpp"

#include <unistd.h>

#include <atomic>

namespace fieldgate::util {
namespace {
std::atomic<int> g_level{static_cast<int>(Level::Info)};  // NOLINT: the one process-wide log setting
}

void set_log_level(Level level) {
    g_level.store(static_cast<int>(level));
}

void log(Level level, std::string_view message) {
    if (static_cast<int>(level) > g_level.load()) return;
    std::string line;
    line.reserve(message.size() + 5);
    line += '<';
    line += static_cast<char>('0' + static_cast<int>(level));
    line += '>';
    line += message;
    line += '\n';
    const char* p = line.data();
    std::size_t left = line.size();
    while (left > 0) {
        const ssize_t n = ::write(STDERR_FILENO, p, left);
        if (n <= 0) return;  // nowhere left to report a failing stderr
        p += n;
        left -= static_cast<std::size_t>(n);
    }
}

bool RateLimit::allow(std::int64_t now_ms) {
    if (!any_ || now_ms - last_ms_ >= interval_ms_) {
        any_ = true;
        last_ms_ = now_ms;
        suppressed_reported_ = suppressed_;
        suppressed_ = 0;
        return true;
    }
    ++suppressed_;
    return false;
}

}  // namespace fieldgate::util
