#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace fieldgate::util {

/// syslog priorities, written as sd-daemon "<N>" prefixes so journald files each line right.
enum class Level : int { Error = 3, Warning = 4, Notice = 5, Info = 6, Debug = 7 };

/// Sets the most verbose level that is written (default Info). Thread-safe.
void set_log_level(Level level);

/// Writes one line to stderr: "<N>message\n", in one write so threads do not interleave.
void log(Level level, std::string_view message);

inline void log_error(std::string_view m) {
    log(Level::Error, m);
}
inline void log_warning(std::string_view m) {
    log(Level::Warning, m);
}
inline void log_notice(std::string_view m) {
    log(Level::Notice, m);
}
inline void log_info(std::string_view m) {
    log(Level::Info, m);
}
inline void log_debug(std::string_view m) {
    log(Level::Debug, m);
}

/// Lets one message through per interval and counts the ones it held back, so a repeat offender
/// (a dead device polled every second) costs one journal line a minute, not one a poll.
class RateLimit {
public:
    explicit RateLimit(std::int64_t interval_ms) : interval_ms_(interval_ms) {}
    /// True when a message may be written now; suppressed() then tells how many were held back
    /// since the last one written, and is reset by the next call that returns true.
    bool allow(std::int64_t now_ms);
    std::uint64_t suppressed() const { return suppressed_reported_; }

private:
    std::int64_t interval_ms_;
    std::int64_t last_ms_ = 0;
    bool any_ = false;
    std::uint64_t suppressed_ = 0;
    std::uint64_t suppressed_reported_ = 0;
};

}  // namespace fieldgate::util
