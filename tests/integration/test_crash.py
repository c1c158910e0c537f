"""A crash (SIGKILL) loses at most the readings of the last commit interval: the store opens
again intact (integrity_check ok), it holds every reading the devices served before that last
interval (compared as sets, reading by reading, against the Modbus simulator's own log of what it
served, so a commit lost in the middle fails the test), and every record it held reaches the
cloud after the restart."""
import collections
import json
import os
import re
import subprocess
import time

from fgharness import (CloudSim, ModbusSim, Mosquitto, Stack, Workdir, daemon_config, fieldgated, free_port, run,
                       status, stop_cleanly, wait_until)

DEVICES = 3
INTERVAL_MS = 100
COMMIT_MS = 200
# Readings served this close to the kill may be lost: the last commit interval, the poll in
# flight, and a main loop that runs a little late on a loaded machine.
WINDOW_MS = 2 * COMMIT_MS + 2 * INTERVAL_MS + 600
SERVED = re.compile(r"^port \d+ unit (\d+): fc 3 addr 0 count \d+ at (\d+) ms$", re.M)


def sql(db, query):
    return subprocess.run(["sqlite3", db, query], capture_output=True, text=True, check=True, timeout=30).stdout.strip()


def main():
    with Workdir("fg-crash-") as wd, Stack() as stack:
        broker = stack.push(Mosquitto(wd, port=free_port()))  # started after the crash
        sim = stack.push(ModbusSim.from_devices(wd, [("m%d" % u, -1, u, u) for u in range(1, DEVICES + 1)],
                                                extra=["--verbose"]))
        devices = [("m%d" % u, "meterPk", "gw", u) for u in range(1, DEVICES + 1)]
        conf = daemon_config(wd, broker.uri, {"gw": sim.ports[0]}, devices)
        text = (open(conf).read().replace("interval = 1s", "interval = %dms" % INTERVAL_MS)
                .replace("commit_interval = 200ms", "commit_interval = %dms" % COMMIT_MS))
        with open(conf, "w") as f:
            f.write(text)
        first = stack.push(fieldgated(wd, conf))
        wait_until(lambda: ((status(conf) or {}).get("store", {}).get("records", 0)) >= 150, 60, "150 records stored")
        failed_before = sum(d["polls_failed"] for d in status(conf)["devices"])
        kill_ms = int(time.time() * 1000)
        first.kill()

        db = os.path.join(wd, "buffer.db")
        assert sql(db, "PRAGMA integrity_check") == "ok"
        # What the devices served (the holding block carries `tick`, floor(served_ms / 100)) and
        # what the store holds, as multisets of (device, tick).
        served = collections.Counter()
        served_ms = {}
        for unit, ms in SERVED.findall(sim.proc.log()):
            ms = int(ms)
            if ms >= kill_ms:
                continue
            key = ("m" + unit, (ms // 100) % 2 ** 32)
            served[key] += 1
            served_ms[key] = max(served_ms.get(key, 0), ms)
        stored = collections.Counter()
        rows = sql(db, "SELECT device, time_ms, body FROM records").splitlines()
        times = set()
        for row in rows:
            device, time_ms, body = row.split("|", 2)
            stored[(device, json.loads(body)["measurepoints"]["tick"])] += 1
            times.add((device, time_ms))
        assert len(served) > 100, "the simulator's log shows only %d readings served" % len(served)
        invented = stored - served
        assert not invented, "the store holds readings no device served: %r" % sorted(invented)[:10]
        missing = served - stored
        # A poll whose reply the daemon never got is served but not stored: those are counted.
        lost = sorted(k for k in missing if served_ms[k] < kill_ms - WINDOW_MS)
        assert len(lost) <= failed_before, (
            "%d readings served more than %d ms before the kill are not in the store (%d failed polls): %r"
            % (len(lost), WINDOW_MS, failed_before, lost[:10]))
        print("served %d readings before the kill, stored %d; %d missing, all within the last %d ms"
              % (sum(served.values()), sum(stored.values()), sum(missing.values()), WINDOW_MS))

        broker.start()
        cloud = stack.push(CloudSim(wd, broker.uri, [(d[0], d[1]) for d in devices]).start())
        second = stack.push(fieldgated(wd, conf))
        wait_until(lambda: times <= {(r["deviceKey"], str(r["time"])) for r in cloud.records()}, 60,
                   "every record stored before the crash to reach the cloud")
        stop_cleanly(second)


if __name__ == "__main__":
    run(main)
