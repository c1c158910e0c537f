#include "fieldgate/uplink/sessions.hpp"

namespace fieldgate::uplink {

Sessions::Sessions(std::vector<SubDevice> devices) {
    for (auto& d : devices) {
        Entry e;
        e.device = std::move(d);
        by_name_.emplace(e.device.name, std::move(e));
    }
}

void Sessions::reset() {
    for (auto& [name, e] : by_name_) {
        e.state = State::LoggedOut;
        e.refused_code = 0;
    }
}

const SubDevice* Sessions::set_online(const std::string& name, bool online) {
    auto it = by_name_.find(name);
    if (it == by_name_.end()) return nullptr;
    Entry& e = it->second;
    e.online = online;
    if (online) {
        if (e.state == State::Refused) e.state = State::LoggedOut;  // back on the bus: try once more
        return nullptr;
    }
    const bool was_in = e.state == State::LoggedIn;
    if (e.state != State::Refused) e.state = State::LoggedOut;
    return was_in ? &e.device : nullptr;
}

std::vector<const SubDevice*> Sessions::take_logins(std::size_t max) {
    std::vector<const SubDevice*> out;
    for (auto& [name, e] : by_name_) {
        if (out.size() >= max) break;
        if (!e.online || e.state != State::LoggedOut) continue;
        e.state = State::LoggingIn;
        out.push_back(&e.device);
    }
    return out;
}

const SubDevice* Sessions::login_result(const std::string& product_key, const std::string& device_key, int code) {
    for (auto& [name, e] : by_name_) {
        if (e.device.product_key != product_key || e.device.device_key != device_key) continue;
        if (e.state != State::LoggingIn) {
            // Went offline while its login was on the way: the hub has it online now.
            return code == 200 && !e.online ? &e.device : nullptr;
        }
        e.state = code == 200 ? State::LoggedIn : State::Refused;
        e.refused_code = code == 200 ? 0 : code;
        return nullptr;
    }
    return nullptr;
}

const SubDevice* Sessions::login_result_by_name(const std::string& name, int code) {
    auto it = by_name_.find(name);
    if (it == by_name_.end()) return nullptr;
    return login_result(it->second.device.product_key, it->second.device.device_key, code);
}

void Sessions::login_failed(const std::vector<std::string>& names) {
    for (const auto& n : names) {
        auto it = by_name_.find(n);
        if (it != by_name_.end() && it->second.state == State::LoggingIn) it->second.state = State::LoggedOut;
    }
}

void Sessions::lost(const std::string& name) {
    auto it = by_name_.find(name);
    if (it != by_name_.end() && it->second.state == State::LoggedIn) it->second.state = State::LoggedOut;
}

std::vector<SubDevice> Sessions::reconfigure(std::vector<SubDevice> devices) {
    std::map<std::string, Entry> fresh;
    for (auto& d : devices) {
        auto it = by_name_.find(d.name);
        if (it != by_name_.end() && it->second.device.product_key == d.product_key &&
            it->second.device.device_key == d.device_key && it->second.device.secret == d.secret) {
            fresh.emplace(d.name, std::move(it->second));
            by_name_.erase(it);
            continue;
        }
        Entry e;
        e.device = std::move(d);
        fresh.emplace(e.device.name, std::move(e));
    }
    std::vector<SubDevice> gone;
    for (auto& [name, e] : by_name_)
        if (e.state == State::LoggedIn) gone.push_back(std::move(e.device));
    by_name_ = std::move(fresh);
    return gone;
}

bool Sessions::logged_in(const std::string& name) const {
    auto it = by_name_.find(name);
    return it != by_name_.end() && it->second.state == State::LoggedIn;
}

std::string Sessions::describe(const std::string& name) const {
    auto it = by_name_.find(name);
    if (it == by_name_.end()) return "logged_out";
    switch (it->second.state) {
        case State::LoggedOut:
            return "logged_out";
        case State::LoggingIn:
            return "logging_in";
        case State::LoggedIn:
            return "logged_in";
        case State::Refused:
            return "refused:" + std::to_string(it->second.refused_code);
    }
    return "logged_out";
}

}  // namespace fieldgate::uplink
