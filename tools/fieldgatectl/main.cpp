// fieldgatectl: asks a running fieldgated over its control socket and prints the answer,
// compact enough to read over a slow link.
#include <json/json.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "fieldgate/config/config.hpp"
#include "fieldgate/daemon/control_server.hpp"
#include "fieldgate/util/units.hpp"

namespace {

constexpr const char* kUsage =
    "Usage: fieldgatectl [-c FILE] COMMAND [--json]\n"
    "Commands:\n"
    "  status          devices, store and uplink of the running fieldgated\n"
    "  values DEVICE   the device's last decoded values and their time\n"
    "  dead-letters    records set aside (refused by the cloud, too old, evicted)\n"
    "  write DEVICE POINT=VALUE...\n"
    "                  write writable points (checked, written in order, read back), as a cloud\n"
    "                  measurepoint set does; VALUE is JSON (21.5, true, \"text\") or plain text\n"
    "Options:\n"
    "  -c, --config FILE  configuration file (default /etc/fieldgate/fieldgate.ini); names the control socket\n"
    "      --json         print the daemon's JSON answer as it is\n"
    "Exit status: 0 ok, 1 bad usage or configuration (or a write that did not succeed), 3 no daemon\n"
    "running.\n";

constexpr int kExitNoDaemon = 3;

Json::Value parse(const std::string& text) {
    Json::CharReaderBuilder b;
    const std::unique_ptr<Json::CharReader> r(b.newCharReader());
    Json::Value v;
    std::string errs;
    if (!r->parse(text.data(), text.data() + text.size(), &v, &errs))
        throw std::runtime_error("unreadable answer from fieldgated: " + errs);
    return v;
}

std::string ago(std::int64_t now_ms, std::int64_t then_ms) {
    if (then_ms <= 0) return "never";
    return fieldgate::util::format_duration_ms(now_ms - then_ms) + " ago";
}

std::string human_bytes(double b) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (b >= 1024 && u < 4) {
        b /= 1024;
        ++u;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", b, units[u]);
    return buf;
}

void print_status(const Json::Value& s) {
    const std::int64_t now = s["now_ms"].asInt64();
    const Json::Value& devs = s["devices"];
    const Json::Value& st = s["store"];
    const Json::Value& up = s["uplink"];
    unsigned online = 0;
    for (const auto& d : devs)
        online += d["online"].asBool() ? 1U : 0U;
    std::printf("fieldgated %s, up %s: %u/%u devices online, %llu buffered, uplink %s\n", s["version"].asCString(),
                fieldgate::util::format_duration_ms(now - s["started_ms"].asInt64()).c_str(), online, devs.size(),
                static_cast<unsigned long long>(st["records"].asUInt64()), up["state"].asCString());
    // Columns as wide as their widest cell: names and inline tcp:// buses vary a lot.
    std::vector<std::vector<std::string>> rows{
        {"DEVICE", "PRODUCT/DEVICE KEY", "BUS", "UNIT", "ONLINE", "SESSION", "LAST GOOD", "OK", "FAILED"}};
    std::vector<std::string> errors{""};
    for (const auto& d : devs) {
        rows.push_back({d["name"].asString(),
                        d["product_key"].asString().empty()
                            ? "(gateway)"
                            : d["product_key"].asString() + "/" + d["device_key"].asString(),
                        d["bus"].asString(), std::to_string(d["unit_id"].asInt()), d["online"].asBool() ? "yes" : "NO",
                        d["cloud_session"].asString(), ago(now, d["last_good_poll_ms"].asInt64()),
                        std::to_string(d["polls_ok"].asUInt64()), std::to_string(d["polls_failed"].asUInt64())});
        errors.push_back(d["online"].asBool() ? "" : d["last_error"].asString());
    }
    std::vector<std::size_t> width(rows.front().size(), 0);
    for (const auto& row : rows)
        for (std::size_t c = 0; c < row.size(); ++c)
            width[c] = std::max(width[c], row[c].size());
    std::printf("\n");
    for (std::size_t r = 0; r < rows.size(); ++r) {
        std::string line;
        for (std::size_t c = 0; c < rows[r].size(); ++c) {
            const bool right = c == 3 || c >= 7;  // numbers
            const std::string pad(width[c] - rows[r][c].size(), ' ');
            line += (c ? "  " : "") + (right ? pad + rows[r][c] : rows[r][c] + (c + 1 < rows[r].size() ? pad : ""));
        }
        std::printf("%s\n", line.c_str());
        if (!errors[r].empty()) std::printf("  ^ %s\n", errors[r].c_str());
    }
    auto by_reason = [](const Json::Value& counts) {
        std::string out;
        for (const auto& reason : counts.getMemberNames())
            out += (out.empty() ? "" : ", ") + reason + "=" + counts[reason].asString();
        return out.empty() ? std::string("none") : out;
    };
    std::printf("\nstore:  %llu records, %s (file %s of %s), oldest %s; dead letters: %s; dropped: %s\n",
                static_cast<unsigned long long>(st["records"].asUInt64()), human_bytes(st["bytes"].asDouble()).c_str(),
                human_bytes(st["file_bytes"].asDouble()).c_str(), human_bytes(st["max_bytes"].asDouble()).c_str(),
                ago(now, st["oldest_ms"].asInt64()).c_str(), by_reason(st["dead_letters"]).c_str(),
                by_reason(st["dropped"]).c_str());
    if (st["mode"].asString() == "memory")
        std::printf("        MEMORY MODE: the store cannot be written (%s); %llu readings in memory, not durable\n",
                    st["write_error"].asString().c_str(),
                    static_cast<unsigned long long>(st["pending_commit"].asUInt64()));
    for (const auto& path : st["quarantined"])
        std::printf("        damaged store moved aside at start: %s\n", path.asString().c_str());
    std::string eta =
        st["records"].asUInt64() == 0 ? "none"
        : up["eta_s"].isNull()
            ? "unknown"
            : fieldgate::util::format_duration_ms(static_cast<std::int64_t>(up["eta_s"].asDouble() * 1000));
    std::printf("uplink: %s %s, %llu in flight, %llu delivered (%.1f/s, backlog eta %s), last reply %d %s\n",
                up["state"].asCString(), up["uri"].asCString(),
                static_cast<unsigned long long>(up["inflight"].asUInt64()),
                static_cast<unsigned long long>(up["delivered"].asUInt64()), up["drain_rate_per_s"].asDouble(),
                eta.c_str(), up["last_code"].asInt(), ago(now, up["last_reply_ms"].asInt64()).c_str());
    if (up["last_error"].isString()) std::printf("  ^ %s\n", up["last_error"].asCString());
}

std::string local_time(std::int64_t ms) {
    if (ms <= 0) return "never";
    const std::time_t secs = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    localtime_r(&secs, &tm);
    char buf[40];
    const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    std::snprintf(buf + n, sizeof buf - n, ".%03d", static_cast<int>(ms % 1000));
    return buf;
}

void print_values(const Json::Value& v) {
    std::printf("%s: %s, read %s (%lld ms)\n", v["device"].asCString(), v["online"].asBool() ? "online" : "OFFLINE",
                local_time(v["time_ms"].asInt64()).c_str(), static_cast<long long>(v["time_ms"].asInt64()));
    Json::StreamWriterBuilder w;
    w["indentation"] = "";
    w["precision"] = 15;  // 21.51, not 21.510000000000002; float32 values have 7 digits at most
    for (const auto& name : v["measurepoints"].getMemberNames())
        std::printf("  %-24s %s\n", name.c_str(), Json::writeString(w, v["measurepoints"][name]).c_str());
    if (!v["last_error"].asString().empty()) std::printf("  last error: %s\n", v["last_error"].asCString());
}

void print_dead_letters(const Json::Value& v) {
    const Json::Value& list = v["dead_letters"];
    if (list.empty()) {
        std::printf("no dead letters\n");
        return;
    }
    std::printf("%-10s %-16s %-15s %-12s %s\n", "RECORD", "DEVICE", "TIME MS", "REASON", "BODY");
    for (const auto& d : list)
        std::printf("%-10lld %-16s %-15lld %-12s %s\n", static_cast<long long>(d["record_id"].asInt64()),
                    d["device"].asCString(), static_cast<long long>(d["time_ms"].asInt64()), d["reason"].asCString(),
                    d["body"].asCString());
}

}  // namespace

// A write answers with a token at once; the outcome follows once the device's bus thread has
// written and read back, which may take a few device time-outs: asked for until then.
int finish_write(const std::string& socket, std::string reply, bool json) {
    constexpr int kGiveUpMs = 120'000;
    try {
        Json::Value v = parse(reply);
        for (int waited = 0; v.isMember("token") && waited < kGiveUpMs;) {
            const std::string result_request = "write-result " + v["token"].asString();
            do {
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
                waited += 50;
                reply = fieldgate::daemon::control_request(socket, result_request);
                v = parse(reply);
            } while (v.isMember("pending") && waited < kGiveUpMs);
        }
        if (v.isMember("pending") || v.isMember("token")) {
            std::cerr << "fieldgatectl: no outcome of the write after " << kGiveUpMs / 1000 << " s\n";
            return 1;
        }
        const int code = v["code"].asInt();
        if (json) {
            std::cout << reply;
            if (!reply.empty() && reply.back() != '\n') std::cout << "\n";
        } else if (code == 200) {
            std::cout << "written and read back\n";
        } else {
            std::string written;
            for (const auto& w : v["data"]["written"])
                written += (written.empty() ? "" : ", ") + w.asString();
            std::cout << "write failed (" << code << "): " << v["message"].asString() << "\n"
                      << (written.empty() ? "nothing was written" : "already written: " + written) << "\n";
        }
        return code == 200 ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "fieldgatectl: " << e.what() << "\n";
        return kExitNoDaemon;
    }
}

int main(int argc, char** argv) {
    std::string path = "/etc/fieldgate/fieldgate.ini";
    bool json = false;
    std::vector<std::string> words;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if ((arg == "-c" || arg == "--config") && i + 1 < argc)
            path = argv[++i];
        else if (arg == "--json")
            json = true;
        else if (arg == "-h" || arg == "--help") {
            std::cout << kUsage;
            return 0;
        } else if (!arg.empty() && arg[0] == '-') {
            std::cerr << "fieldgatectl: unknown option '" << arg << "'\n" << kUsage;
            return 1;
        } else
            words.push_back(arg);
    }
    if (words.empty()) {
        std::cerr << kUsage;
        return 1;
    }
    std::string request;
    if (words[0] == "status" && words.size() == 1)
        request = "status";
    else if (words[0] == "values" && words.size() == 2)
        request = "values " + words[1];
    else if (words[0] == "dead-letters" && words.size() == 1)
        request = "dead-letters";
    else if (words[0] == "write" && words.size() >= 3) {
        request = "write";
        for (std::size_t k = 1; k < words.size(); ++k)
            request += " " + words[k];
    } else {
        std::cerr << "fieldgatectl: unknown command\n" << kUsage;
        return 1;
    }

    const auto loaded = fieldgate::config::load(path);
    std::string socket;
    if (loaded.config) {
        socket = loaded.config->gateway.control_socket;
    } else {
        // The running daemon is still worth asking: it runs on the configuration it loaded.
        socket = fieldgate::config::find_control_socket(path);
        std::cerr << "fieldgatectl: " << path << " has " << loaded.errors.size()
                  << " error(s) (fieldgated --check-config lists them); asking the daemon on " << socket << "\n";
    }
    std::string reply;
    try {
        reply = fieldgate::daemon::control_request(socket, request);
    } catch (const std::exception& e) {
        std::cerr << "fieldgatectl: " << e.what() << "\n";
        return kExitNoDaemon;
    }
    if (words[0] == "write") return finish_write(socket, reply, json);
    try {
        const Json::Value v = parse(reply);
        if (v.isObject() && v.isMember("error")) {
            std::cerr << "fieldgatectl: " << v["error"].asString() << "\n";
            return 1;
        }
        if (json) {
            std::cout << reply;
            if (!reply.empty() && reply.back() != '\n') std::cout << "\n";
            return 0;
        }
        if (request == "status")
            print_status(v);
        else if (request == "dead-letters")
            print_dead_letters(v);
        else
            print_values(v);
    } catch (const std::exception& e) {
        std::cerr << "fieldgatectl: " << e.what() << "\n";
        return 2;
    }
    return 0;
}
