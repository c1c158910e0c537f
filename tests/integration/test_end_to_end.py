"""Three Modbus TCP devices polled for several seconds: every record the cloud simulator accepted
carries exactly the values the simulated device served at that time, stamped with that time."""
import collections

from fgharness import (CloudSim, ModbusSim, Mosquitto, Stack, Workdir, check_demo_record, daemon_config,
                       fieldgatectl, fieldgated, run, status, stop_cleanly, wait_until)

PER_DEVICE = 6


def main():
    with Workdir("fg-e2e-") as wd, Stack() as stack:
        broker = stack.push(Mosquitto(wd).start())
        # meter1 and meter2 behind one Modbus TCP gateway (units 1, 2), meter3 on a port of its own.
        sim = stack.push(ModbusSim.from_devices(wd, [("meter1", -1, 1, 1), ("meter2", -1, 2, 2), ("meter3", -2, 1, 3)]))
        devices = [("meter1", "meterPk", "gw", 1), ("meter2", "meterPk", "gw", 2), ("meter3", "meterPk", "solo", 1)]
        seeds = {"meter1": 1, "meter2": 2, "meter3": 3}
        cloud = stack.push(CloudSim(wd, broker.uri, [(d[0], d[1]) for d in devices]).start())
        conf = daemon_config(wd, broker.uri, {"gw": sim.ports[0], "solo": sim.ports[1]}, devices)
        daemon = stack.push(fieldgated(wd, conf))
        def enough():
            per = collections.Counter(r["deviceKey"] for r in cloud.records())
            return all(per[d[0]] >= PER_DEVICE for d in devices)
        wait_until(enough, 60, "%d records per device in the cloud" % PER_DEVICE)

        records = cloud.records()
        for rec in records:
            assert rec["productKey"] == "meterPk", rec
            assert rec["topic"] == "post", rec  # live data goes via post/batch
            check_demo_record(rec, seeds[rec["deviceKey"]])
        times = collections.defaultdict(list)
        for rec in records:
            times[rec["deviceKey"]].append(rec["time"])
        for name, ts in times.items():
            assert ts == sorted(ts), "%s records out of order: %r" % (name, ts)

        # Online sub-devices are logged in through the gateway (combine.login.batch, signed).
        wait_until(lambda: all(d["cloud_session"] == "logged_in" for d in status(conf)["devices"]), 30,
                   "every sub-device logged in")
        st = status(conf)
        assert st is not None, "fieldgatectl status got no answer"
        assert [d["name"] for d in st["devices"]] == ["meter1", "meter2", "meter3"], st["devices"]
        for d in st["devices"]:
            assert d["online"] is True, d
            assert d["polls_ok"] >= PER_DEVICE and d["polls_failed"] == 0, d
            assert d["last_good_poll_ms"] > 0, d
        assert st["uplink"]["connected"] is True, st["uplink"]
        assert st["uplink"]["delivered"] >= 3 * PER_DEVICE, st["uplink"]
        assert st["uplink"]["last_code"] == 200, st["uplink"]

        human = fieldgatectl(conf, "status")
        assert human.returncode == 0 and "3/3 devices online" in human.stdout, human.stdout + human.stderr
        values = fieldgatectl(conf, "values", "meter2")
        assert values.returncode == 0 and "phase" in values.stdout and "-14" in values.stdout, values.stdout

        log = stop_cleanly(daemon)
        assert "<5>stopped;" in log, log
        gone = fieldgatectl(conf, "status")
        assert gone.returncode == 3 and "not running" in gone.stderr, gone.stderr


if __name__ == "__main__":
    run(main)
