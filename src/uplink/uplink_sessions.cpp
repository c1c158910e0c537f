// The uplink's side of the sub-device sessions and the cloud's downstream requests (sub-device
// state changes, measurepoint set and get).
#include "fieldgate/enos/batch.hpp"
#include "fieldgate/enos/service.hpp"
#include "fieldgate/enos/session.hpp"
#include "fieldgate/uplink/uplink.hpp"
#include "fieldgate/util/log.hpp"

namespace fieldgate::uplink {

void Uplink::on_downstream(const std::string& topic, const std::string& payload) {
    const char* what = topic == topics_.disable()  ? "disabled"
                       : topic == topics_.enable() ? "enabled"
                       : topic == topics_.remove() ? "deleted"
                                                   : nullptr;
    if (!what) return;
    const auto req = enos::parse_downstream(payload);
    if (!req) {
        util::log_warning("uplink: unreadable request on " + topic);
        return;
    }
    std::string devices;
    for (const auto& d : req->devices)
        devices += (devices.empty() ? "" : ", ") + d;
    util::log_notice(std::string("uplink: the cloud ") + what +
                     " sub-devices: " + (devices.empty() ? "none named" : devices));
    // The hub expects every downstream request answered; an unanswered one is sent again.
    client_.publish(enos::Topics::reply_of(topic), enos::encode_ack(req->id));
}

std::vector<std::string> Uplink::subscriptions() const {
    std::vector<std::string> topics{enos::Topics::reply_of(topics_.post_batch()),
                                    enos::Topics::reply_of(topics_.resume_batch()),
                                    enos::Topics::reply_of(topics_.login()),
                                    enos::Topics::reply_of(topics_.login_batch()),
                                    enos::Topics::reply_of(topics_.logout()),
                                    topics_.disable(),
                                    topics_.enable(),
                                    topics_.remove()};
    // Measurepoint set/get of the gateway and of every sub-device (DESIGN.md "Writes").
    topics.push_back(enos::service_topic(settings_.product_key, settings_.device_key, enos::Service::Set));
    topics.push_back(enos::service_topic(settings_.product_key, settings_.device_key, enos::Service::Get));
    for (const auto& d : settings_.subdevices) {
        topics.push_back(enos::service_topic(d.product_key, d.device_key, enos::Service::Set));
        topics.push_back(enos::service_topic(d.product_key, d.device_key, enos::Service::Get));
    }
    return topics;
}

void Uplink::on_service(const enos::ServiceTopic& service, const std::string& topic, const std::string& payload) {
    const std::string reply_topic = enos::Topics::reply_of(topic);
    enos::ServiceRequest req = enos::parse_service_request(service.service, payload);
    const std::string what = std::string(service.service == enos::Service::Set ? "set" : "get") + " request for " +
                             service.product_key + "/" + service.device_key;
    if (req.code != 0) {
        util::log_warning("uplink: refused a " + what + " with " + std::to_string(req.code) + ": " + req.message +
                          (req.id.empty() ? " (no id to answer)" : ""));
        if (!req.id.empty()) client_.publish(reply_topic, enos::service_reply(req.id, req.code, "{}", req.message));
        return;
    }
    if (!service_handler_) {
        client_.publish(reply_topic, enos::service_reply(req.id, 503, "{}", "the gateway is not ready"));
        return;
    }
    service_handler_->on_service_request(service, reply_topic, std::move(req));
}

bool Uplink::reply_service(const std::string& reply_topic, const std::string& body) {
    if (state_ != State::Ready) return false;
    return client_.publish(reply_topic, body);
}

void Uplink::set_device_online(const std::string& name, bool online) {
    const SubDevice* gone = sessions_.set_online(name, online);
    if (state_ != State::Ready) return;  // no connection: the hub holds no session anyway
    publish_logout(gone);
    if (online) send_logins();
}

void Uplink::publish_logout(const SubDevice* device) {
    if (!device) return;
    client_.publish(topics_.logout(),
                    enos::encode_logout(std::to_string(next_request_id_++), device->product_key, device->device_key));
}

void Uplink::send_logins() {
    if (state_ != State::Ready) return;
    // At most 100 sub-devices a request (the hub allows 200 online per gateway by default).
    for (;;) {
        const auto devices = sessions_.take_logins(100);
        if (devices.empty()) return;
        std::vector<enos::SubDeviceKeys> keys;
        PendingLogin pending;
        pending.sent_mono = clock_.mono_ms();
        for (const auto* d : devices) {
            keys.push_back({d->product_key, d->device_key, d->secret});
            pending.names.push_back(d->name);
        }
        const std::string id = std::to_string(next_request_id_++);
        const std::string client_id = settings_.product_key + "." + settings_.device_key;
        if (!client_.publish(topics_.login_batch(), enos::encode_login_batch(id, client_id, clock_.wall_ms(), keys))) {
            sessions_.login_failed(pending.names);
            retry_logins_later();
            return;
        }
        pending_logins_.emplace(id, std::move(pending));
    }
}

void Uplink::retry_logins_later() {
    login_retry_at_mono_ = std::min(login_retry_at_mono_, clock_.mono_ms() + login_backoff_.next_ms());
}

void Uplink::on_login_reply(const std::string& payload) {
    const auto reply = enos::parse_login_batch_reply(payload);
    if (!reply) {
        util::log_warning("uplink: unreadable login reply");
        return;
    }
    auto it = pending_logins_.find(reply->id);
    if (it == pending_logins_.end()) return;
    const PendingLogin pending = std::move(it->second);
    pending_logins_.erase(it);
    // A device that went offline while its login was on the way is now online at the hub:
    // login_result names it, and it is logged out again.
    if (reply->code == 200) {
        for (const auto& n : pending.names)
            publish_logout(sessions_.login_result_by_name(n, 200));
        login_backoff_.reset();
        util::log_info("uplink: logged in " + std::to_string(pending.names.size()) + " sub-device(s)");
        return;
    }
    if (reply->code == 723 && (!reply->logged_in.empty() || !reply->failed.empty())) {
        for (const auto& [pk, dk] : reply->logged_in)
            publish_logout(sessions_.login_result(pk, dk, 200));
        for (const auto& [keys, code] : reply->failed) {
            sessions_.login_result(keys.first, keys.second, code);
            util::log_warning("uplink: sub-device " + keys.first + "/" + keys.second + " refused login with code " +
                              std::to_string(code) + "; its records go with allowOfflineSubDevice");
        }
        sessions_.login_failed(pending.names);  // those the reply did not mention: try again
        retry_logins_later();
        return;
    }
    util::log_warning("uplink: login of " + std::to_string(pending.names.size()) + " sub-devices answered " +
                      std::to_string(reply->code) + "; trying again later");
    sessions_.login_failed(pending.names);
    retry_logins_later();
}

}  // namespace fieldgate::uplink
