"""The serial device is absent at start, then appears; later it goes away (a USB adapter
unplugged: the socat pty pair removed) and comes back under the same name. Its devices go offline, fieldgated keeps trying to open the line with
back-off, and polling resumes by itself: each device logs offline once and online once after the
removal, and the TCP device on another bus never misses a beat."""
import collections
import time

from fgharness import (CloudSim, ModbusSim, Mosquitto, RtuSim, SerialPair, Stack, Workdir, daemon_config,
                       fieldgated, rtu_bus, run, status, stop_cleanly, wait_until)


def online(conf):
    st = status(conf)
    return {d["name"]: d["online"] for d in st["devices"]} if st else {}


def main():
    with Workdir("fg-unplug-") as wd, Stack() as stack:
        broker = stack.push(Mosquitto(wd).start())
        tcp = stack.push(ModbusSim.from_devices(wd, [("lan", -1, 1, 5)]))
        line = SerialPair(wd)  # not there yet: the daemon starts without its serial device
        devices = [("r1", "meterPk", "serial", 1), ("r2", "meterPk", "serial", 2), ("lan", "meterPk", "lan", 1)]
        cloud = stack.push(CloudSim(wd, broker.uri, [(d[0], d[1]) for d in devices]).start())
        conf = daemon_config(wd, broker.uri, {"lan": tcp.ports[0]}, devices,
                             rtu_buses={"serial": rtu_bus(line.daemon_end)})
        daemon = stack.push(fieldgated(wd, conf))
        wait_until(lambda: "bus=serial: cannot open" in daemon.log(), 30, "the bus to find no serial device")
        wait_until(lambda: online(conf).get("lan"), 30, "the TCP device online meanwhile")
        line.start()
        sim = RtuSim(wd, line.sim_end, units="1-2")
        wait_until(lambda: all(online(conf).get(d[0]) for d in devices), 30, "every device online")

        sim.stop()
        line.stop()  # the device node is gone
        wait_until(lambda: online(conf).get("r1") is False and online(conf).get("r2") is False, 30,
                   "the serial devices to go offline")
        assert online(conf)["lan"], "the TCP device was held up by the serial line"
        time.sleep(2)  # stay unplugged a while: the bus keeps retrying with back-off

        line = stack.push(line.start())  # plugged in again, same name
        stack.push(RtuSim(wd, line.sim_end, units="1-2", name="modbus-sim-rtu-2"))
        wait_until(lambda: online(conf).get("r1") and online(conf).get("r2"), 60, "the serial devices back online")

        st = status(conf)
        assert all(d["online"] for d in st["devices"]), st["devices"]
        log = stop_cleanly(daemon)
        for name in ("r1", "r2"):
            lines = [l for l in log.splitlines() if "device=%s " % name in l]
            assert sum(": online" in l for l in lines) == 2, lines  # once it appeared, and back
            assert sum("offline after" in l for l in lines) == 1, lines
        assert "bus=serial: cannot open %s" % line.daemon_end in log, log
        assert "bus=serial: line open again" in log, log
        # The TCP device kept its interval throughout.
        ts = sorted(r["time"] for r in cloud.records() if r["deviceKey"] == "lan")
        gaps = [b - a for a, b in zip(ts, ts[1:])]
        assert ts and max(gaps) < 1900, gaps


if __name__ == "__main__":
    run(main)
