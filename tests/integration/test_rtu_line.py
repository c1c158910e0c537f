"""Modbus RTU as users wire it: three live slaves and one dead slave on one serial line (a socat
pty pair, the simulator's RTU server on the far end), RS-485 settings the pty refuses. The live ones keep their 1 s interval
although the dead one costs a time-out per probe, and every record carries exactly what the
simulator served (README formulas); the dead one goes offline without holding anyone up."""
import collections

from fgharness import (CloudSim, Mosquitto, RtuSim, SerialPair, Stack, Workdir, check_demo_record, daemon_config,
                       fieldgated, rtu_bus, run, status, stop_cleanly, wait_until)

PER_DEVICE = 8


def main():
    with Workdir("fg-rtu-") as wd, Stack() as stack:
        broker = stack.push(Mosquitto(wd).start())
        line = stack.push(SerialPair(wd).start())
        # Units 1-4 at seeds 1-4; unit 4 never answers.
        stack.push(RtuSim(wd, line.sim_end, units="1-4", extra=["--seed", "1", "--dead", "4"]))
        devices = [("m%d" % u, "meterPk", "rs485", u) for u in (1, 2, 3, 4)]
        cloud = stack.push(CloudSim(wd, broker.uri, [(d[0], d[1]) for d in devices]).start())
        # A pty refuses RS-485 mode and RTS control, as a plain RS-232 port would: each is said once
        # in the log, naming the device and the setting, and polling goes on.
        bus = rtu_bus(line.daemon_end, "rs485 = true\nrts = up\nrts_delay = 200us\n")
        conf = daemon_config(wd, broker.uri, {}, devices, rtu_buses={"rs485": bus})
        daemon = stack.push(fieldgated(wd, conf))

        def enough():
            per = collections.Counter(r["deviceKey"] for r in cloud.records())
            return all(per["m%d" % u] >= PER_DEVICE for u in (1, 2, 3))
        wait_until(enough, 60, "%d records per live slave" % PER_DEVICE)

        times = collections.defaultdict(list)
        for rec in cloud.records():
            assert rec["deviceKey"] != "m4", rec
            check_demo_record(rec, int(rec["deviceKey"][1:]))
            times[rec["deviceKey"]].append(rec["time"])
        for name, ts in times.items():
            ts.sort()
            gaps = [b - a for a, b in zip(ts, ts[1:])]
            # On schedule: polls 1 s apart, the dead slave's 300 ms time-outs never pile up on them.
            assert max(gaps) < 1900, "%s held up: gaps %r" % (name, gaps)

        st = status(conf)
        by = {d["name"]: d for d in st["devices"]}
        for u in (1, 2, 3):
            assert by["m%d" % u]["online"] and by["m%d" % u]["polls_failed"] == 0, by["m%d" % u]
        assert by["m4"]["online"] is False and by["m4"]["polls_ok"] == 0, by["m4"]
        assert "timed out" in by["m4"]["last_error"], by["m4"]
        log = stop_cleanly(daemon)
        assert "not yet tested" not in log, log
        for setting in ("rs485 = true", "rts = up"):
            said = [l for l in log.splitlines() if "bus=rs485 device=%s: %s refused by the port" % (line.daemon_end, setting) in l]
            assert len(said) == 1, (setting, log)


if __name__ == "__main__":
    run(main)
