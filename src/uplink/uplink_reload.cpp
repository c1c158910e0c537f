// A reload that keeps the connection (DESIGN.md "The worst day": Reload).
#include <random>

#include "fieldgate/uplink/uplink.hpp"
#include "fieldgate/util/log.hpp"

namespace fieldgate::uplink {

void Uplink::reconfigure(Settings settings) {
    const config::Uplink& was = settings_.uplink;
    const config::Uplink& now = settings.uplink;
    if (now.retry_min_ms != was.retry_min_ms || now.retry_max_ms != was.retry_max_ms) {
        std::random_device rd;
        reconnect_backoff_ = util::Backoff(now.retry_min_ms, now.retry_max_ms, rd());
        retry_backoff_ = util::Backoff(now.retry_min_ms, now.retry_max_ms, rd());
        login_backoff_ = util::Backoff(now.retry_min_ms, now.retry_max_ms, rd());
    }
    // The configuration caps batch_max_bytes at 512 KiB: it fits a 32-bit size_t (armhf).
    if (now.batch_max_bytes != was.batch_max_bytes) byte_limit_ = static_cast<std::size_t>(now.batch_max_bytes);
    const std::vector<SubDevice> gone = sessions_.reconfigure(settings.subdevices);
    const std::vector<std::string> topics_before = subscriptions();
    settings_ = std::move(settings);
    // New sub-devices' set/get topics: subscribed on the connection that stays (the broker keeps
    // the old ones; a left device's requests get 400 from the daemon).
    if (state_ == State::Ready && subscriptions() != topics_before) client_.subscribe(subscriptions());
    if (state_ == State::Ready)
        for (const auto& d : gone)
            publish_logout(&d);
    for (const auto& d : gone)
        util::log_info("uplink: sub-device " + d.name + " left the configuration or changed its identity; logged out");
}

}  // namespace fieldgate::uplink
