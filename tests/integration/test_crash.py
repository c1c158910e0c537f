"""A crash (SIGKILL) loses at most the readings of the last commit interval: the store opens
again intact (integrity_check ok), and every record it held reaches the cloud after the restart."""
import os
import subprocess

from fgharness import (CloudSim, ModbusSim, Mosquitto, Stack, Workdir, daemon_config, fieldgated, free_port, run,
                       status, stop_cleanly, wait_until)

DEVICES = 3
INTERVAL_MS = 100
COMMIT_MS = 200


def sql(db, query):
    return subprocess.run(["sqlite3", db, query], capture_output=True, text=True, check=True, timeout=30).stdout.strip()


def main():
    with Workdir("fg-crash-") as wd, Stack() as stack:
        broker = stack.push(Mosquitto(wd, port=free_port()))  # started after the crash
        sim = stack.push(ModbusSim.from_devices(wd, [("m%d" % u, -1, u, u) for u in range(1, DEVICES + 1)]))
        devices = [("m%d" % u, "meterPk", "gw", u) for u in range(1, DEVICES + 1)]
        conf = daemon_config(wd, broker.uri, {"gw": sim.ports[0]}, devices)
        text = (open(conf).read().replace("interval = 1s", "interval = %dms" % INTERVAL_MS)
                .replace("commit_interval = 200ms", "commit_interval = %dms" % COMMIT_MS))
        with open(conf, "w") as f:
            f.write(text)
        first = stack.push(fieldgated(wd, conf))
        wait_until(lambda: ((status(conf) or {}).get("store", {}).get("records", 0)) >= 60, 30, "60 records stored")
        polled = sum(d["polls_ok"] for d in status(conf)["devices"])
        first.kill()

        db = os.path.join(wd, "buffer.db")
        assert sql(db, "PRAGMA integrity_check") == "ok"
        stored = int(sql(db, "SELECT count(*) FROM records"))
        # Readings of at most one commit interval (and the one being polled) may be lost.
        window = DEVICES * (COMMIT_MS // INTERVAL_MS + 1)
        assert stored >= polled - window, "polled %d before the kill, only %d stored" % (polled, stored)
        times = {tuple(line.split("|")) for line in sql(db, "SELECT device, time_ms FROM records").splitlines()}

        broker.start()
        cloud = stack.push(CloudSim(wd, broker.uri, [(d[0], d[1]) for d in devices]).start())
        second = stack.push(fieldgated(wd, conf))
        wait_until(lambda: times <= {(r["deviceKey"], str(r["time"])) for r in cloud.records()}, 60,
                   "every record stored before the crash to reach the cloud")
        stop_cleanly(second)


if __name__ == "__main__":
    run(main)
