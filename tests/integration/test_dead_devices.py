"""Devices that do not answer: one whose address refuses connections, one unit id that stays
silent behind a live Modbus TCP gateway. They go offline, are logged when they do and then
rarely (not once a poll), are probed less and less often, and never hold up the good device
sharing the silent one's gateway."""

from fgharness import (CloudSim, ModbusSim, Mosquitto, Stack, Workdir, check_demo_record, daemon_config,
                       fieldgated, free_port, run, status, stop_cleanly, wait_until)


def main():
    with Workdir("fg-dead-") as wd, Stack() as stack:
        broker = stack.push(Mosquitto(wd).start())
        # The gateway answers for unit 1 only; unit 9 gets no answer at all (a dead RS-485 slave).
        sim = stack.push(ModbusSim.from_devices(wd, [("good", -1, 1, 1)], extra=["--unknown-unit", "silent"]))
        refused_port = free_port()  # nothing listens there
        devices = [("good", "meterPk", "gw", 1), ("silent", "meterPk", "gw", 9), ("refused", "meterPk", "nowhere", 1)]
        cloud = stack.push(CloudSim(wd, broker.uri, [(d[0], d[1]) for d in devices]).start())
        conf = daemon_config(wd, broker.uri, {"gw": sim.ports[0], "nowhere": refused_port}, devices)
        daemon = stack.push(fieldgated(wd, conf))
        wait_until(lambda: sum(1 for r in cloud.records() if r["deviceKey"] == "good") >= 12, 60,
                   "12 records of the good device")
        st = status(conf)
        by = {d["name"]: d for d in st["devices"]}
        assert by["good"]["online"] and by["good"]["polls_failed"] == 0, by["good"]
        for name in ("silent", "refused"):
            d = by[name]
            assert d["online"] is False and d["polls_ok"] == 0, d
            assert d["last_error"], d
            # Probed with back-off (1 s doubling to probe_max = 2 s), not every second.
            assert 1 <= d["polls_failed"] <= 10, d
        assert "timed out" in by["silent"]["last_error"].lower() or "timeout" in by["silent"]["last_error"], by
        assert "refused" in by["refused"]["last_error"].lower(), by["refused"]

        # The good device kept its 1 s schedule although its gateway spends 500 ms on unit 9.
        times = sorted(r["time"] for r in cloud.records() if r["deviceKey"] == "good")
        gaps = [b - a for a, b in zip(times, times[1:])]
        assert max(gaps) < 1900, "good device held up: gaps %r" % gaps
        for r in cloud.records():
            assert r["deviceKey"] == "good", r
            check_demo_record(r, 1)

        log = daemon.log()
        for name in ("silent", "refused"):
            lines = [l for l in log.splitlines() if "device=%s " % name in l]
            assert any("offline" in l or "failed" in l or "timed out" in l.lower() for l in lines), lines
            assert len(lines) <= 3, "device=%s logged %d times:\n%s" % (name, len(lines), "\n".join(lines))
        stop_cleanly(daemon)


if __name__ == "__main__":
    run(main)
