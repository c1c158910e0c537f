#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace fieldgate::uplink {

/// A configured sub-device: the [device.*] name and its cloud identity.
struct SubDevice {
    std::string name;
    std::string product_key;
    std::string device_key;
    std::string secret;
};

/// The cloud sessions of the sub-devices (DESIGN.md "Online tracking"): a device online on its
/// bus is logged in through the gateway; going offline it is logged out; every sub-device is
/// logged out by the hub when the gateway's connection drops. Pure bookkeeping, no I/O.
class Sessions {
public:
    enum class State { LoggedOut, LoggingIn, LoggedIn, Refused };

    explicit Sessions(std::vector<SubDevice> devices);

    /// The gateway's connection is new (or gone): the hub holds no session now.
    void reset();
    /// A device's bus health changed. Returns the device when it was logged in and must be
    /// logged out in the cloud now (it went offline); the session is then LoggedOut.
    const SubDevice* set_online(const std::string& name, bool online);
    /// Online devices without a session, marked LoggingIn: the next login batch (at most `max`).
    std::vector<const SubDevice*> take_logins(std::size_t max);
    /// The outcome of a login for (pk, dk): 200 logs in, any other code refuses. Returns the
    /// device when the hub logged it in after it went offline: it must be logged out again.
    const SubDevice* login_result(const std::string& product_key, const std::string& device_key, int code);
    /// The same, by [device.*] name (a 200 for a whole login batch).
    const SubDevice* login_result_by_name(const std::string& name, int code);
    /// A login request got no usable answer: its devices may be tried again.
    void login_failed(const std::vector<std::string>& names);
    /// The hub says a device has no session (1212): it will be logged in again.
    void lost(const std::string& name);
    /// A reload: the configured sub-devices are now `devices`. A device kept with the same
    /// identity (product key, device key, secret) keeps its session; a new or changed one
    /// starts logged out and offline. Returns the devices that were logged in and are gone or
    /// changed: they must be logged out in the cloud.
    std::vector<SubDevice> reconfigure(std::vector<SubDevice> devices);

    bool is_subdevice(const std::string& name) const { return by_name_.count(name) > 0; }
    bool logged_in(const std::string& name) const;
    /// For status: "logged_in", "logged_out", "logging_in" or "refused:<code>".
    std::string describe(const std::string& name) const;

private:
    struct Entry {
        SubDevice device;
        State state = State::LoggedOut;
        bool online = false;
        int refused_code = 0;
    };
    std::map<std::string, Entry> by_name_;
};

}  // namespace fieldgate::uplink
