"""A store on a medium that refuses writes (an SD card the kernel remounted read-only, the classic
failure of these boxes; here a tmpfs remounted ro): fieldgated starts anyway, loudly, in memory
mode (store.mode = "memory", store.write_error set) instead of exit 2, and with the link up every
reading reaches the cloud simulator straight from memory. A path that is simply wrong stays exit 2
(tests/integration/test_command_line.py). Needs root for mount(8); skipped (exit 77) otherwise."""
import os
import subprocess
import sys

from fgharness import (CloudSim, ModbusSim, Mosquitto, Stack, Workdir, assert_every_poll_delivered, daemon_config,
                       fieldgated, run, status, stop_cleanly, wait_until)

DEVICES = [("meter1", "meterPk", "gw", 1), ("meter2", "meterPk", "gw", 2)]


class ReadOnlyTmpfs:
    def __init__(self, path):
        self.path = path
        os.makedirs(path)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", path], capture_output=True, text=True)
        self.mounted = r.returncode == 0
        self.error = r.stderr.strip()
        if self.mounted:
            r = subprocess.run(["mount", "-o", "remount,ro", path], capture_output=True, text=True)
            self.error = r.stderr.strip()
            self.readonly = r.returncode == 0

    def stop(self):
        if self.mounted:
            subprocess.run(["umount", "-l", self.path], capture_output=True)


def main():
    with Workdir("fg-readonly-") as wd, Stack() as stack:
        fs = stack.push(ReadOnlyTmpfs(os.path.join(wd, "card")))
        if not fs.mounted or not fs.readonly:
            print("SKIPPED: cannot mount a read-only tmpfs (%s); run as root where mount is permitted" % fs.error)
            sys.exit(77)
        db = os.path.join(fs.path, "buffer.db")
        broker = stack.push(Mosquitto(wd).start())
        sim = stack.push(ModbusSim.from_devices(wd, [(d[0], -1, d[3], d[3]) for d in DEVICES]))
        cloud = stack.push(CloudSim(wd, broker.uri, [(d[0], d[1]) for d in DEVICES]).start())
        conf = daemon_config(wd, broker.uri, {"gw": sim.ports[0]}, DEVICES)
        text = open(conf).read().replace(os.path.join(wd, "buffer.db"), db).replace("interval = 1s", "interval = 50ms")
        with open(conf, "w") as f:
            f.write(text)
        daemon = stack.push(fieldgated(wd, conf))

        st = wait_until(lambda: status(conf) or (not daemon.alive() and {"dead": daemon.log()}), 15,
                        "the daemon to start on a read-only store")
        assert "dead" not in st, st
        assert st["store"]["mode"] == "memory", st["store"]
        assert st["store"]["write_error"], st["store"]
        assert "<3>store %s: the medium refuses writes" % db in daemon.log(), daemon.log()
        assert "MEMORY MODE" in daemon.log(), daemon.log()
        assert not os.path.exists(db)

        wait_until(lambda: sum(d["polls_ok"] for d in status(conf)["devices"]) >= 100, 30, "100 good polls")
        # Every good poll reaches the cloud, from memory.
        final = assert_every_poll_delivered(conf, cloud, sim)
        assert final["store"]["mode"] == "memory", final["store"]
        assert final["store"]["dropped"] == {}, final["store"]
        assert final["uplink"]["delivered"] >= 100, final["uplink"]
        stop_cleanly(daemon)


if __name__ == "__main__":
    run(main)
