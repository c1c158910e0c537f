#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

#include "fieldgate/mqtt/client.hpp"

namespace fieldgate::mqtt {

/// An event as a library callback hands it over: plain data, copied without allocating.
struct RawEvent {
    Event::Kind kind = Event::Kind::Connected;
    int code = 0;
    std::uint64_t generation = 0;  ///< the handle that produced it
    char* topic = nullptr;         ///< Message: the library's, freed by whoever takes the event
    int topic_len = 0;
    void* message = nullptr;  ///< Message: the library's MQTTAsync_message
    char reason[160] = {};

    /// Copies `text` into reason, cut to fit. Never throws.
    void set_reason(const char* text) noexcept;
};

/// The queue between the library's threads and the owner: fixed capacity, so a callback never
/// allocates and never throws. Thread-safe.
class EventRing {
public:
    static constexpr std::size_t kCapacity = 128;

    /// Appends a copy; false when full (nothing taken: a message is then offered again later
    /// by the library; a lost state event is remembered, see overflowed()).
    bool push(const RawEvent& event) noexcept;
    /// Takes every queued event, oldest first: those of `generation` into `current`, the rest
    /// (a replaced handle's, late) into `stale` for the caller to free. Returns whether a state
    /// event was lost to a full ring since the last call.
    bool take(std::uint64_t generation, std::vector<RawEvent>& current, std::vector<RawEvent>& stale);

private:
    std::mutex mutex_;
    std::array<RawEvent, kCapacity> slots_{};
    std::size_t head_ = 0;
    std::size_t size_ = 0;
    bool overflow_ = false;
};

}  // namespace fieldgate::mqtt
