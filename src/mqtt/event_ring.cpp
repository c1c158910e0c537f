#include "fieldgate/mqtt/event_ring.hpp"

#include <cstring>

namespace fieldgate::mqtt {

void RawEvent::set_reason(const char* text) noexcept {
    if (!text) {
        reason[0] = '\0';
        return;
    }
    std::strncpy(reason, text, sizeof reason - 1);
    reason[sizeof reason - 1] = '\0';
}

bool EventRing::push(const RawEvent& event) noexcept {
    try {
        std::lock_guard<std::mutex> lock(mutex_);
        if (size_ == kCapacity) {
            if (event.kind != Event::Kind::Message) overflow_ = true;
            return false;
        }
        slots_[(head_ + size_) % kCapacity] = event;
        ++size_;
        return true;
    } catch (...) {  // std::mutex::lock may throw system_error; it never does on Linux
        return false;
    }
}

bool EventRing::take(std::uint64_t generation, std::vector<RawEvent>& current, std::vector<RawEvent>& stale) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (; size_ > 0; --size_) {
        const RawEvent& e = slots_[head_];
        (e.generation == generation ? current : stale).push_back(e);
        head_ = (head_ + 1) % kCapacity;
    }
    const bool lost = overflow_;
    overflow_ = false;
    return lost;
}

}  // namespace fieldgate::mqtt
