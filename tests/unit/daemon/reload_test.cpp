#include "fieldgate/daemon/reload.hpp"

#include <algorithm>
#include <string>

#include "fieldgate/uplink/sessions.hpp"

// CppUTest's leak detector redefines new: it comes after every other header.
#include <CppUTest/TestHarness.h>

using namespace fieldgate;

namespace {

const std::string kBase =
    "[gateway]\nproduct_key = gwPk\ndevice_key = gwDk\ndevice_secret = s3cret\n\n"
    "[mqtt]\nuri = tcp://127.0.0.1:1883\n\n"
    "[store]\npath = /tmp/x.db\n\n"
    "[bus.lan]\ntype = tcp\nhost = 127.0.0.1\n\n"
    "[model.m]\nv = holding:0 uint16\n\n"
    "[device.a]\nproduct_key = p\ndevice_key = a\ndevice_secret = s\nmodel = m\nbus = lan\n";

config::Config cfg(const std::string& text) {
    auto r = config::load_texts({{"main.ini", text}});
    if (!r.config) {
        std::string all;
        for (const auto& e : r.errors)
            all += e + "\n";
        FAIL(all.c_str());
    }
    return *r.config;
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
    const auto at = text.find(from);
    if (at == std::string::npos) FAIL(("no '" + from + "' in the base text").c_str());
    return text.replace(at, from.size(), to);
}

bool has(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

TEST_GROUP(ReloadPlan){};

TEST(ReloadPlan, the_same_file_changes_nothing_and_keeps_the_connection) {
    const auto plan = daemon::plan_reload(cfg(kBase), cfg(kBase));
    CHECK_TRUE(plan.keep_connection);
    CHECK_TRUE(plan.applied.empty());
    CHECK_TRUE(plan.on_restart.empty());
}

TEST(ReloadPlan, a_store_key_is_applied_and_the_store_path_waits_for_a_restart) {
    const auto plan = daemon::plan_reload(
        cfg(kBase), cfg(replaced(kBase, "path = /tmp/x.db\n", "path = /tmp/y.db\nmax_age = 2d\ndurability = full\n")));
    CHECK_TRUE(plan.keep_connection);
    CHECK_TRUE(has(plan.applied, "[store] max_age"));
    CHECK_TRUE(has(plan.applied, "[store] durability"));
    CHECK_TRUE(has(plan.on_restart, "[store] path"));
}

TEST(ReloadPlan, devices_buses_and_models_are_named_without_a_new_connection) {
    std::string text = replaced(kBase, "v = holding:0 uint16\n", "v = holding:1 uint16\n");
    text = replaced(text, "host = 127.0.0.1\n", "host = 127.0.0.1\ntimeout = 2s\n");
    text += "\n[device.b]\nproduct_key = p\ndevice_key = b\ndevice_secret = s\nmodel = m\nbus = lan\n";
    const auto plan = daemon::plan_reload(cfg(kBase), cfg(text));
    CHECK_TRUE(plan.keep_connection);
    CHECK_TRUE(has(plan.applied, "[model.m] changed"));
    CHECK_TRUE(has(plan.applied, "[bus.lan] changed"));
    CHECK_TRUE(has(plan.applied, "[device.b] added"));
    CHECK_FALSE(has(plan.applied, "[device.a] changed"));
    const auto back = daemon::plan_reload(cfg(text), cfg(kBase));
    CHECK_TRUE(has(back.applied, "[device.b] removed"));
}

TEST(ReloadPlan, a_changed_mqtt_or_gateway_key_connects_again) {
    CHECK_FALSE(daemon::plan_reload(cfg(kBase), cfg(replaced(kBase, "uri = tcp://127.0.0.1:1883", "uri = tcp://h:1")))
                    .keep_connection);
    CHECK_FALSE(daemon::plan_reload(cfg(kBase), cfg(replaced(kBase, "device_secret = s3cret", "device_secret = new")))
                    .keep_connection);
    const auto plan = daemon::plan_reload(
        cfg(kBase), cfg(replaced(kBase, "device_secret = s3cret\n", "device_secret = s3cret\ncontrol_socket = /x\n")));
    CHECK_TRUE(plan.keep_connection);
    CHECK_TRUE(has(plan.on_restart, "[gateway] control_socket"));
}

TEST_GROUP(SessionsReconfigure){};

TEST(SessionsReconfigure, a_kept_device_keeps_its_session_a_removed_one_is_logged_out) {
    uplink::Sessions s({{"a", "p", "a", "s"}, {"b", "p", "b", "s"}});
    s.set_online("a", true);
    s.set_online("b", true);
    for (const auto* d : s.take_logins(10))
        s.login_result_by_name(d->name, 200);
    CHECK_TRUE(s.logged_in("a"));
    const auto gone = s.reconfigure({{"a", "p", "a", "s"}, {"c", "p", "c", "s"}});
    CHECK_TRUE(s.logged_in("a"));
    LONGS_EQUAL(1, gone.size());
    STRCMP_EQUAL("b", gone[0].name.c_str());
    CHECK_FALSE(s.is_subdevice("b"));
    STRCMP_EQUAL("logged_out", s.describe("c").c_str());
}

TEST(SessionsReconfigure, a_device_whose_identity_changed_logs_in_again) {
    uplink::Sessions s({{"a", "p", "a", "s"}});
    s.set_online("a", true);
    for (const auto* d : s.take_logins(10))
        s.login_result_by_name(d->name, 200);
    const auto gone = s.reconfigure({{"a", "p", "a2", "s"}});
    LONGS_EQUAL(1, gone.size());
    STRCMP_EQUAL("a", gone[0].device_key.c_str());
    CHECK_FALSE(s.logged_in("a"));
    s.set_online("a", true);
    LONGS_EQUAL(1, s.take_logins(10).size());
}
