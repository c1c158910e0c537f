"""A full disk (DESIGN.md "The worst day"): the store on a small tmpfs fills during a broker
outage. Polling never stops, the commits that fail keep their readings in memory and are retried,
status shows store.mode = "memory" and store.write_error; with the broker back while the disk is
still full the readings go to the cloud straight from memory; when space returns the commits
resume by themselves (mode "disk", write_error null) and in the end every good poll is in the
cloud. Needs root for mount(8); skipped (exit 77) with the reason where mounting is refused."""
import os
import subprocess
import sys
import time

from fgharness import (CloudSim, ModbusSim, Mosquitto, Stack, Workdir, assert_every_poll_delivered, daemon_config,
                       fieldgated, run, status, stop_cleanly, wait_until)

DEVICES = [("meter1", "meterPk", "gw", 1), ("meter2", "meterPk", "gw", 2), ("meter3", "meterPk", "gw", 3)]


class Tmpfs:
    def __init__(self, path, size):
        self.path = path
        os.makedirs(path)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s" % size, "tmpfs", path],
                           capture_output=True, text=True)
        self.mounted = r.returncode == 0
        self.error = r.stderr.strip()

    def stop(self):
        if self.mounted:
            subprocess.run(["umount", "-l", self.path], capture_output=True)


def polls_ok(conf):
    return sum(d["polls_ok"] for d in status(conf)["devices"])


def main():
    with Workdir("fg-diskfull-") as wd, Stack() as stack:
        fs = stack.push(Tmpfs(os.path.join(wd, "small"), "8m"))
        if not fs.mounted:
            print("SKIPPED: cannot mount a tmpfs (%s); run as root where mount is permitted" % fs.error)
            sys.exit(77)
        db = os.path.join(fs.path, "buffer.db")
        # Ballast leaves about 300 KiB free: the store fills that within seconds.
        free = os.statvfs(fs.path).f_bavail * os.statvfs(fs.path).f_frsize
        ballast = os.path.join(fs.path, "ballast")
        with open(ballast, "wb") as f:
            f.write(b"\0" * max(0, free - 300 * 1024))

        broker = Mosquitto(wd)  # not started yet: the outage
        sim = stack.push(ModbusSim.from_devices(wd, [(d[0], -1, d[3], d[3]) for d in DEVICES]))
        conf = daemon_config(wd, broker.uri, {"gw": sim.ports[0]}, DEVICES, store="max_bytes = 64MiB\n")
        text = open(conf).read().replace(os.path.join(wd, "buffer.db"), db).replace("interval = 1s", "interval = 20ms")
        with open(conf, "w") as f:
            f.write(text)
        daemon = stack.push(fieldgated(wd, conf))

        st = wait_until(lambda: (lambda s: s if s and s["store"]["mode"] == "memory" else None)(status(conf)), 60,
                        "the store to fill up and commits to fail")
        assert st["store"]["write_error"], st["store"]
        assert "full" in st["store"]["write_error"], st["store"]
        # Polling never stops; the readings wait in memory.
        before = polls_ok(conf)
        wait_until(lambda: polls_ok(conf) > before + 30, 20, "polls to go on while the disk is full")
        st = status(conf)
        assert st["store"]["pending_commit"] > 30, st["store"]
        assert st["store"]["dropped"].get("disk_full", 0) == 0, st["store"]
        assert "commit failed" in daemon.log(), daemon.log()

        # The link comes back while the disk stays full: readings go to the cloud from memory.
        stack.push(broker.start())
        cloud = stack.push(CloudSim(wd, broker.uri, [(d[0], d[1]) for d in DEVICES]).start())
        link_ms = int(time.time() * 1000)
        wait_until(lambda: len([r for r in cloud.records() if r["time"] > link_ms]) >= 20, 60,
                   "live readings to reach the cloud from memory while the disk is full")
        st = status(conf)
        assert st["store"]["mode"] == "memory", st["store"]

        # Space returns: commits resume by themselves.
        os.unlink(ballast)
        st = wait_until(lambda: (lambda s: s if s and s["store"]["mode"] == "disk" else None)(status(conf)), 30,
                        "commits to resume once space returns")
        assert st["store"]["write_error"] is None, st["store"]
        assert "commits work again" in daemon.log(), daemon.log()
        final = assert_every_poll_delivered(conf, cloud, sim)
        assert final["store"]["mode"] == "disk", final["store"]
        assert final["store"]["dropped"].get("disk_full", 0) == 0, final["store"]
        stop_cleanly(daemon)


if __name__ == "__main__":
    run(main)
