"""A damaged store at start (DESIGN.md "The worst day"): a file of garbage, and a store damaged in
the middle of its pages. fieldgated moves the file aside as PATH.damaged-YYYYmmddTHHMMSSZ (never
deletes it), logs that at error priority, carries over the records it can still read, starts a
fresh store and runs on: no exit, no restart loop. status shows the paths in store.quarantined."""
import os
import re
import time

from fgharness import (CloudSim, ModbusSim, Mosquitto, Stack, Workdir, daemon_config, fieldgated, free_port, run,
                       status, stop_cleanly, wait_until)

DEVICES = [("meter1", "meterPk", "gw", 1), ("meter2", "meterPk", "gw", 2)]
SUFFIX = re.compile(r"\.damaged-\d{8}T\d{6}Z$")


def fast(conf):
    text = open(conf).read().replace("interval = 1s", "interval = 20ms")
    with open(conf, "w") as f:
        f.write(text)
    return conf


def check_quarantined(st, db):
    moved = st["store"]["quarantined"]
    assert moved and moved[0].startswith(db + ".damaged-") and SUFFIX.search(moved[0]), moved
    for path in moved:
        assert os.path.exists(path), path
    return moved[0]


def garbage_store():
    with Workdir("fg-damaged-") as wd, Stack() as stack:
        db = os.path.join(wd, "buffer.db")
        garbage = os.urandom(200 * 1024)
        with open(db, "wb") as f:
            f.write(garbage)
        broker = stack.push(Mosquitto(wd).start())
        sim = stack.push(ModbusSim.from_devices(wd, [(d[0], -1, d[3], d[3]) for d in DEVICES]))
        cloud = stack.push(CloudSim(wd, broker.uri, [(d[0], d[1]) for d in DEVICES]).start())
        conf = daemon_config(wd, broker.uri, {"gw": sim.ports[0]}, DEVICES)
        daemon = stack.push(fieldgated(wd, conf))
        st = wait_until(lambda: status(conf), 15, "the daemon to answer status with a damaged store")
        moved = check_quarantined(st, db)
        assert open(moved, "rb").read() == garbage, "the damaged file was changed"
        assert st["store"]["mode"] == "disk" and st["store"]["write_error"] is None, st["store"]
        assert "<3>store %s is damaged" % db in daemon.log(), daemon.log()
        # Running on: readings reach the cloud from the fresh store.
        wait_until(lambda: len(cloud.records()) >= 4, 30, "readings to reach the cloud after the quarantine")
        assert daemon.alive()
        stop_cleanly(daemon)


def damaged_mid_file():
    with Workdir("fg-damaged-") as wd, Stack() as stack:
        db = os.path.join(wd, "buffer.db")
        sim = stack.push(ModbusSim.from_devices(wd, [(d[0], -1, d[3], d[3]) for d in DEVICES]))
        # First run: no broker, fast polls, a store of a few hundred KiB.
        nobroker = Mosquitto(wd, port=free_port())
        conf = fast(daemon_config(wd, nobroker.uri, {"gw": sim.ports[0]}, DEVICES))
        first = fieldgated(wd, conf)
        try:
            wait_until(lambda: (status(conf) or {}).get("store", {}).get("file_bytes", 0) > 400 * 1024, 60,
                       "the store to grow past 400 KiB")
        finally:
            stop_cleanly(first)
        stopped_ms = int(time.time() * 1000)
        size = os.path.getsize(db)
        with open(db, "r+b") as f:  # checkpointed on close: damage two pages in the middle
            f.seek(size // 2 // 4096 * 4096)
            f.write(b"\xa5" * 8192)

        broker = stack.push(Mosquitto(wd).start())
        cloud = stack.push(CloudSim(wd, broker.uri, [(d[0], d[1]) for d in DEVICES]).start())
        conf = daemon_config(wd, broker.uri, {"gw": sim.ports[0]}, DEVICES)
        daemon = stack.push(fieldgated(wd, conf))
        st = wait_until(lambda: status(conf), 30, "the daemon to answer status with a damaged store")
        check_quarantined(st, db)
        log = daemon.log()
        m = re.search(r"carried over (\d+) readable records", log)
        assert m and int(m.group(1)) > 100, log
        carried = int(m.group(1))
        # The carried-over records (taken before the first run stopped) reach the cloud.
        wait_until(lambda: len([r for r in cloud.records() if r["time"] < stopped_ms]) >= carried, 60,
                   "the carried-over records to reach the cloud")
        assert daemon.alive()
        stop_cleanly(daemon)


def main():
    garbage_store()
    damaged_mid_file()


if __name__ == "__main__":
    run(main)
