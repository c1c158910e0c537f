"""No clock (DESIGN.md "The worst day"): fieldgated alone runs under libfaketime with its wall
clock in 2001, as a box without a real-time clock before NTP has synced. Nothing is sent or
stored with that time; status says clock_valid false. When the clock is set to now, the readings
taken meanwhile are stamped with their true time (the simulator's served tick pins it) and
delivered. Readings still unstamped at shutdown become dead letters with reason no_clock."""
import glob
import os
import sqlite3

from fgharness import (BIN, CloudSim, ModbusSim, Mosquitto, Proc, Stack, Workdir, check_demo_record, daemon_config,
                       run, status, wait_until, write)

VALID_FROM_MS = 1577836800000  # 2020-01-01


def libfaketime():
    found = sorted(glob.glob("/usr/lib/*/faketime/libfaketime.so.1") + glob.glob("/usr/lib/faketime/libfaketime.so.1"))
    assert found, "libfaketime is not installed (Debian package faketime; scripts/deps.sh installs it)"
    return found[0]


def main():
    if os.environ.get("FG_WRAP"):
        # make check-cross: libfaketime and the timerfd shim would have to be the target's, preloaded
        # into the emulated daemon; the library root does not carry libfaketime yet.
        print("SKIPPED: libfaketime for the target architecture is not in the cross library root")
        raise SystemExit(77)
    with Workdir("fg-noclock-") as wd, Stack() as stack:
        broker = stack.push(Mosquitto(wd).start())
        sim = stack.push(ModbusSim.from_devices(wd, [("meter1", -1, 1, 1)]))
        cloud = stack.push(CloudSim(wd, broker.uri, [("meter1", "meterPk")]).start())
        conf = daemon_config(wd, broker.uri, {"gw": sim.ports[0]}, [("meter1", "meterPk", "gw", 1)])
        clock_file = write(os.path.join(wd, "faketime"), "-25y\n")  # 2001
        env = dict(os.environ)
        shim = os.path.join(BIN, "fg_timerfd_passthrough.so")  # see tests/lib/timerfd_passthrough.cpp
        assert os.path.exists(shim), shim
        env.update({"LD_PRELOAD": shim + ":" + libfaketime(), "FAKETIME_TIMESTAMP_FILE": clock_file, "FAKETIME_NO_CACHE": "1",
                    # Only the wall clock: the monotonic clock is what keeps the readings' times.
                    "DONT_FAKE_MONOTONIC": "1",
                    # Under the sanitizer build libfaketime is preloaded ahead of ASan's runtime.
                    "ASAN_OPTIONS": ":".join(filter(None, [os.environ.get("ASAN_OPTIONS"),
                                                           "verify_asan_link_order=0"]))})
        daemon = stack.push(Proc("fieldgated", [os.path.join(BIN, "fieldgated"), "-c", conf], wd, env=env))

        held = wait_until(lambda: (lambda st: st and st["store"]["unstamped"] >= 4 and st)(status(conf)), 30,
                          "4 readings waiting for the clock")
        assert held["clock_valid"] is False, held
        assert held["now_ms"] < VALID_FROM_MS, held["now_ms"]
        assert held["store"]["records"] == 0 and held["store"]["pending_commit"] == 0, held["store"]
        assert "wall clock not set" in daemon.log(), daemon.log()
        assert cloud.records() == [], "a reading went out with the unset clock: %r" % cloud.records()[:1]

        write(clock_file, "+0\n")  # NTP has synced
        wait_until(lambda: (lambda st: st and st["clock_valid"] and st)(status(conf)), 15, "clock_valid")
        wait_until(lambda: len(cloud.records()) >= held["store"]["unstamped"] + 2, 30,
                   "the held readings and live ones in the cloud")
        for r in cloud.records():
            assert r["time"] >= VALID_FROM_MS, r
            check_demo_record(r, 1)  # stamped within the poll that served it: its true time
        assert "wall clock set:" in daemon.log(), daemon.log()

        # Back to 2001, then stopped before the clock returns: kept as dead letters, not lost.
        write(clock_file, "-25y\n")
        wait_until(lambda: (lambda st: st and st["store"]["unstamped"] >= 2 and st)(status(conf)), 30,
                   "readings waiting for the clock again")
        daemon.stop(timeout=5)
        log = daemon.log()
        assert "(no_clock)" in log, log
        db = sqlite3.connect(os.path.join(wd, "buffer.db"))
        dead = db.execute("SELECT count(*), min(time_ms), max(time_ms) FROM dead_letters WHERE reason = 'no_clock'"
                          ).fetchone()
        db.close()
        assert dead[0] >= 2 and dead[2] < VALID_FROM_MS, dead


if __name__ == "__main__":
    run(main)
