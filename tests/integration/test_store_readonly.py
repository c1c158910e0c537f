"""A store on a medium that refuses writes (an SD card the kernel remounted read-only, the classic
failure of these boxes; here a tmpfs remounted ro after a first run stored records on it):
fieldgated starts anyway, loudly, in memory mode (store.mode = "memory", store.write_error set)
instead of exit 2, and with the link up every reading reaches the cloud simulator: those stored on
the card read from the read-only file, the new ones straight from memory. A path that is simply wrong stays exit 2
(tests/integration/test_command_line.py). Needs root for mount(8); skipped (exit 77) otherwise."""
import os
import subprocess
import sys

from fgharness import (CloudSim, ModbusSim, Mosquitto, Stack, Workdir, daemon_config, fieldgated, run, status,
                       stop_cleanly, wait_until)

DEVICES = [("meter1", "meterPk", "gw", 1), ("meter2", "meterPk", "gw", 2)]


class Tmpfs:
    def __init__(self, path):
        self.path = path
        os.makedirs(path)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", path], capture_output=True, text=True)
        self.mounted = r.returncode == 0
        self.error = r.stderr.strip()

    def remount_ro(self):
        r = subprocess.run(["mount", "-o", "remount,ro", self.path], capture_output=True, text=True)
        self.error = r.stderr.strip()
        return r.returncode == 0

    def stop(self):
        if self.mounted:
            subprocess.run(["umount", "-l", self.path], capture_output=True)


def main():
    with Workdir("fg-readonly-") as wd, Stack() as stack:
        fs = stack.push(Tmpfs(os.path.join(wd, "card")))
        if not fs.mounted:
            print("SKIPPED: cannot mount a tmpfs (%s); run as root where mount is permitted" % fs.error)
            sys.exit(77)
        db = os.path.join(fs.path, "buffer.db")
        broker = Mosquitto(wd)  # not started for the first run
        sim = stack.push(ModbusSim.from_devices(wd, [(d[0], -1, d[3], d[3]) for d in DEVICES]))
        conf = daemon_config(wd, broker.uri, {"gw": sim.ports[0]}, DEVICES)
        text = open(conf).read().replace(os.path.join(wd, "buffer.db"), db).replace("interval = 1s", "interval = 50ms")
        with open(conf, "w") as f:
            f.write(text)

        # First run, no link: records stored on the card.
        first = fieldgated(wd, conf)
        try:
            wait_until(lambda: (status(conf) or {}).get("store", {}).get("records", 0) >= 20, 30, "20 records stored")
        finally:
            stop_cleanly(first)
        # The card goes read-only (as the kernel does after errors).
        if not fs.remount_ro():
            print("SKIPPED: cannot remount the tmpfs read-only (%s)" % fs.error)
            sys.exit(77)

        stack.push(broker.start())
        cloud = stack.push(CloudSim(wd, broker.uri, [(d[0], d[1]) for d in DEVICES]).start())
        daemon = stack.push(fieldgated(wd, conf))
        st = wait_until(lambda: status(conf) or (not daemon.alive() and {"dead": daemon.log()}), 15,
                        "the daemon to start on a read-only store")
        assert "dead" not in st, st
        assert st["store"]["mode"] == "memory", st["store"]
        assert st["store"]["write_error"], st["store"]
        stored = st["store"]["records"]
        assert stored >= 20, st["store"]
        log = daemon.log()
        assert "<3>store %s: the medium refuses writes" % db in log, log
        assert "MEMORY MODE" in log, log
        assert "read-only; its %d records are sent from it" % stored in log, log

        wait_until(lambda: sum(d["polls_ok"] for d in status(conf)["devices"]) >= 100, 30, "100 good polls")
        # Every reading reaches the cloud: the stored ones from the read-only file, the new ones
        # from memory.
        sim.stop()
        wait_until(lambda: all(not d["online"] for d in status(conf)["devices"]), 30, "devices to go offline")

        def books():
            s = status(conf)
            distinct = {(r["deviceKey"], r["time"]) for r in cloud.records()}
            want = stored + sum(d["polls_ok"] for d in s["devices"])
            if s["store"]["pending_commit"] == 0 and s["uplink"]["inflight"] == 0 and len(distinct) == want:
                return s
            return None
        final = wait_until(books, 60, "every stored reading and every new poll in the cloud")
        assert final["store"]["mode"] == "memory", final["store"]
        assert final["store"]["dropped"] == {}, final["store"]
        assert final["store"]["records"] == stored, final["store"]  # kept on the card: cannot be deleted
        stop_cleanly(daemon)


if __name__ == "__main__":
    run(main)
