"""SIGTERM while a bus is blocked on a device that never answers (time-out 20 s): fieldgated
exits 0 within 5 s, and every reading it took is in the cloud or in the store."""
import os
import re
import sqlite3
import time

from fgharness import (CloudSim, ModbusSim, Mosquitto, Stack, Workdir, daemon_config, fieldgated, run, status,
                       wait_until, write)


def main():
    with Workdir("fg-stop-") as wd, Stack() as stack:
        broker = stack.push(Mosquitto(wd).start())
        # Unit 9 gets no answer at all: its request waits out its time-out.
        sim = stack.push(ModbusSim.from_devices(wd, [("good", -1, 1, 1)], extra=["--unknown-unit", "silent"]))
        cloud = stack.push(CloudSim(wd, broker.uri, [("good", "meterPk"), ("silent", "meterPk")]).start())
        conf = daemon_config(wd, broker.uri, {"gw": sim.ports[0]}, [("good", "meterPk", "gw", 1)])
        # The silent device on a bus of its own (the same simulator port, its own connection).
        write(conf, open(conf).read() +
              "[bus.slow]\ntype = tcp\nhost = 127.0.0.1\nport = %d\ntimeout = 20s\n\n"
              "[device.silent]\nproduct_key = meterPk\ndevice_key = silent\ndevice_secret = silentSecret\n"
              "model = meter\nbus = slow\nunit_id = 9\ninterval = 1s\ntimeout = 20s\n" % sim.ports[0])
        daemon = stack.push(fieldgated(wd, conf))

        def ready():
            st = status(conf)
            if not st:
                return None
            by = {d["name"]: d for d in st["devices"]}
            return by["good"]["polls_ok"] >= 3 and len(cloud.records()) >= 2 and st
        st = wait_until(ready, 30, "3 good polls and records in the cloud")
        silent = [d for d in st["devices"] if d["name"] == "silent"][0]
        # Its first request is still waiting (20 s): the stop below lands in the middle of it.
        assert silent["polls_ok"] == 0 and silent["polls_failed"] == 0, silent
        polls_before = [d for d in st["devices"] if d["name"] == "good"][0]["polls_ok"]

        t0 = time.monotonic()
        rc = daemon.stop(timeout=5)  # SIGTERM, SIGKILL after 5 s
        took = time.monotonic() - t0
        log = daemon.log()
        assert rc == 0, "fieldgated exited %r %.1f s after SIGTERM (a time-out of 20 s waited out?):\n%s" % (
            rc, took, log)
        print("exited %.2f s after SIGTERM" % took)
        m = re.search(r"stopped; (\d+) records kept in \S+ \((\d+) readings taken since start\)", log)
        assert m, log
        kept, taken = int(m.group(1)), int(m.group(2))
        assert taken >= polls_before, (taken, polls_before)
        # The poll cut short is not a failure of the device: no reading of it anywhere.
        assert "device=silent" not in log or "offline" not in log, log

        db = sqlite3.connect(os.path.join(wd, "buffer.db"))
        stored = {(d, t) for d, t in db.execute("SELECT device, time_ms FROM records")}
        db.close()
        assert len(stored) == kept, (len(stored), kept)
        clouded = {(r["deviceKey"], r["time"]) for r in cloud.records()}
        every = stored | clouded
        assert len(every) == taken, "%d readings taken, %d in the store, %d in the cloud, %d in both" % (
            taken, len(stored), len(clouded), len(stored & clouded))
        assert all(dev == "good" for dev, _ in every), every


if __name__ == "__main__":
    run(main)
