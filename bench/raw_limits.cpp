// fieldgate-bench-raw: the bare-library limits fieldgate's figures are compared with.
//   modbus HOST PORT SECONDS   read 20 holding registers in a loop (one client)
//   sqlite DIR COUNT           insert COUNT 120-byte rows, 1000 per transaction (WAL, NORMAL)
//   paho URI COUNT [BYTES]     publish COUNT QoS 1 messages (default 1 KiB), 8 in flight, wait for the acks
//   fill DB COUNT DEVICES      append COUNT records of 10 values (DEVICES devices, times in the past)
//                              to a fieldgate store, through fieldgate's own SqliteStore
// Each prints one line: "<name>: <rate>/s, <cpu us> us CPU per operation".
#include <MQTTAsync.h>
#include <modbus.h>
#include <sqlite3.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>

#include "fieldgate/enos/batch.hpp"
#include "fieldgate/store/sqlite_store.hpp"

namespace {

double cpu_seconds() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

double now_s() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void report(const char* name, double ops, double wall, double cpu) {
    std::printf("%s: %.0f/s, %.2f us CPU per operation (%.0f operations in %.2f s)\n", name, ops / wall,
                cpu * 1e6 / ops, ops, wall);
}

int bench_modbus(const char* host, int port, double seconds) {
    modbus_t* ctx = modbus_new_tcp(host, port);
    if (!ctx || modbus_connect(ctx) != 0) {
        std::fprintf(stderr, "modbus: cannot connect to %s:%d\n", host, port);
        return 1;
    }
    modbus_set_slave(ctx, 1);
    std::uint16_t regs[20];
    const double t0 = now_s();
    const double c0 = cpu_seconds();
    double n = 0;
    while (now_s() - t0 < seconds) {
        if (modbus_read_registers(ctx, 0, 20, regs) != 20) {
            std::fprintf(stderr, "modbus: read failed: %s\n", modbus_strerror(errno));
            return 1;
        }
        ++n;
    }
    report("bare libmodbus read of 20 registers", n, now_s() - t0, cpu_seconds() - c0);
    modbus_close(ctx);
    modbus_free(ctx);
    return 0;
}

int bench_sqlite(const std::string& dir, long count) {
    const std::string path = dir + "/raw-bench.db";
    std::remove(path.c_str());
    sqlite3* db = nullptr;
    if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) return 1;
    sqlite3_exec(db,
                 "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                 "CREATE TABLE r(id INTEGER PRIMARY KEY AUTOINCREMENT, device TEXT, time_ms INTEGER, body TEXT)",
                 nullptr, nullptr, nullptr);
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "INSERT INTO r(device, time_ms, body) VALUES(?1, ?2, ?3)", -1, &st, nullptr);
    const std::string body(120, 'x');
    const double t0 = now_s();
    const double c0 = cpu_seconds();
    for (long i = 0; i < count; i += 1000) {
        sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
        for (long j = i; j < i + 1000 && j < count; ++j) {
            sqlite3_bind_text(st, 1, "meter", -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 2, j);
            sqlite3_bind_text(st, 3, body.data(), static_cast<int>(body.size()), SQLITE_STATIC);
            sqlite3_step(st);
            sqlite3_reset(st);
        }
        sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
    }
    report("bare SQLite insert of 120-byte rows, 1000 per transaction", static_cast<double>(count), now_s() - t0,
           cpu_seconds() - c0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    std::remove(path.c_str());
    return 0;
}

struct PahoState {
    std::mutex m;
    std::condition_variable cv;
    int inflight = 0;
    long acked = 0;
    bool connected = false;
    bool failed = false;
};

int bench_paho(const char* uri, long count, std::size_t bytes) {
    PahoState s;
    MQTTAsync client = nullptr;
    MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer;
    co.MQTTVersion = MQTTVERSION_3_1_1;
    if (MQTTAsync_createWithOptions(&client, uri, "fieldgate-bench-raw", MQTTCLIENT_PERSISTENCE_NONE, nullptr, &co) !=
        MQTTASYNC_SUCCESS)
        return 1;
    MQTTAsync_connectOptions opts = MQTTAsync_connectOptions_initializer;
    opts.MQTTVersion = MQTTVERSION_3_1_1;
    opts.cleansession = 1;
    opts.context = &s;
    opts.onSuccess = [](void* ctx, MQTTAsync_successData*) {
        auto* st = static_cast<PahoState*>(ctx);
        std::lock_guard<std::mutex> l(st->m);
        st->connected = true;
        st->cv.notify_all();
    };
    opts.onFailure = [](void* ctx, MQTTAsync_failureData*) {
        auto* st = static_cast<PahoState*>(ctx);
        std::lock_guard<std::mutex> l(st->m);
        st->failed = true;
        st->cv.notify_all();
    };
    MQTTAsync_connect(client, &opts);
    {
        std::unique_lock<std::mutex> l(s.m);
        s.cv.wait_for(l, std::chrono::seconds(10), [&] { return s.connected || s.failed; });
        if (!s.connected) {
            std::fprintf(stderr, "paho: cannot connect to %s\n", uri);
            return 1;
        }
    }
    std::string payload(bytes, 'x');
    const double t0 = now_s();
    const double c0 = cpu_seconds();
    for (long i = 0; i < count; ++i) {
        {
            std::unique_lock<std::mutex> l(s.m);
            s.cv.wait(l, [&] { return s.inflight < 8; });
            ++s.inflight;
        }
        MQTTAsync_message msg = MQTTAsync_message_initializer;
        msg.payload = payload.data();
        msg.payloadlen = static_cast<int>(payload.size());
        msg.qos = 1;
        MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
        ro.context = &s;
        ro.onSuccess = [](void* ctx, MQTTAsync_successData*) {
            auto* st = static_cast<PahoState*>(ctx);
            std::lock_guard<std::mutex> l(st->m);
            --st->inflight;
            ++st->acked;
            st->cv.notify_all();
        };
        MQTTAsync_sendMessage(client, "fieldgate/bench/raw", &msg, &ro);
    }
    {
        std::unique_lock<std::mutex> l(s.m);
        s.cv.wait_for(l, std::chrono::seconds(30), [&] { return s.acked == count; });
    }
    const std::string name = "bare Paho QoS 1 publish of " + std::to_string(bytes) + " bytes, 8 in flight";
    report(name.c_str(), static_cast<double>(s.acked), now_s() - t0, cpu_seconds() - c0);
    MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
    MQTTAsync_disconnect(client, &d);
    MQTTAsync_destroy(&client);
    return 0;
}

// A backlog as a week-long outage leaves it: records of many devices, oldest first.
int fill_store(const std::string& path, long count, int devices) {
    fieldgate::config::Store cfg;
    cfg.path = path;
    fieldgate::store::SqliteStore store(cfg);
    const auto start_ms = static_cast<std::int64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count() -
        7LL * 86'400'000);
    for (long i = 0; i < count; ++i) {
        const std::string dk = "dev" + std::to_string(i % devices);
        const std::int64_t t = start_ms + i;
        std::string mp = "{";
        for (int k = 0; k < 10; ++k)
            mp += (k ? ",\"v" : "\"v") + std::to_string(k) + "\":" + std::to_string(i % 1000 + k) + ".25";
        mp += "}";
        store.append({dk, t, fieldgate::enos::encode_record("benchPk", dk, t, mp)});
        if (i % 10000 == 9999) store.commit();
    }
    store.commit();
    std::printf("filled %s with %ld records of %d devices\n", path.c_str(), count, devices);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "modbus" && argc == 5) return bench_modbus(argv[2], std::atoi(argv[3]), std::atof(argv[4]));
    if (mode == "sqlite" && argc == 4) return bench_sqlite(argv[2], std::atol(argv[3]));
    if (mode == "paho" && (argc == 4 || argc == 5))
        return bench_paho(argv[2], std::atol(argv[3]), argc == 5 ? static_cast<std::size_t>(std::atol(argv[4])) : 1024);
    if (mode == "fill" && argc == 5) return fill_store(argv[2], std::atol(argv[3]), std::atoi(argv[4]));
    std::fprintf(
        stderr,
        "usage: %s modbus HOST PORT SECONDS | sqlite DIR COUNT | paho URI COUNT [BYTES] | fill DB COUNT DEVICES\n",
        argv[0]);
    return 2;
}
