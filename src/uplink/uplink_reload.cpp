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
    if (now.batch_max_bytes != was.batch_max_bytes) byte_limit_ = now.batch_max_bytes;
    const std::vector<SubDevice> gone = sessions_.reconfigure(settings.subdevices);
    settings_ = std::move(settings);
    if (state_ == State::Ready)
        for (const auto& d : gone)
            publish_logout(&d);
    for (const auto& d : gone)
        util::log_info("uplink: sub-device " + d.name + " left the configuration or changed its identity; logged out");
}

}  // namespace fieldgate::uplink
