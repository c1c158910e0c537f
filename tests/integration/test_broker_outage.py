"""The broker stopped for 10 s and restarted: the readings taken during the outage are buffered
and arrive after it; at the end every good poll of every device is in the cloud, none lost."""
import collections
import time

from fgharness import (CloudSim, ModbusSim, Mosquitto, Workdir, check_demo_record, daemon_config, fieldgated,
                       status, wait_until)

OUTAGE_S = 10


def main():
    with Workdir("fg-outage-") as wd:
        broker = Mosquitto(wd).start()
        sim = ModbusSim.from_devices(wd, [("meter1", -1, 1, 1), ("meter2", -1, 2, 2), ("meter3", -2, 1, 3)])
        devices = [("meter1", "meterPk", "gw", 1), ("meter2", "meterPk", "gw", 2), ("meter3", "meterPk", "solo", 1)]
        seeds = {"meter1": 1, "meter2": 2, "meter3": 3}
        cloud = CloudSim(wd, broker.uri, [(d[0], d[1]) for d in devices]).start()
        conf = daemon_config(wd, broker.uri, {"gw": sim.ports[0], "solo": sim.ports[1]}, devices)
        daemon = fieldgated(wd, conf)
        try:
            wait_until(lambda: len(cloud.records()) >= 6, 30, "records flowing before the outage")

            broker.stop()
            outage_start_ms = int(time.time() * 1000)
            # While the broker is away the daemon keeps polling and buffering.
            wait_until(lambda: (status(conf) or {}).get("uplink", {}).get("connected") is False, 15,
                       "the uplink to notice the outage")
            time.sleep(OUTAGE_S)  # the outage itself: a fixed length is the point of this test
            during = status(conf)
            assert during["store"]["records"] >= 3 * (OUTAGE_S - 2), during["store"]
            assert all(d["online"] for d in during["devices"]), during["devices"]
            broker.start()
            outage_end_ms = int(time.time() * 1000)

            def drained():
                st = status(conf)
                return st and st["uplink"]["connected"] and st["store"]["records"] <= 3 and \
                    any(r["time"] > outage_end_ms for r in cloud.records())
            wait_until(drained, 60, "the backlog to drain after the broker came back")

            # Stop polling, let the last records go, then compare: every good poll reached the cloud.
            sim.stop()
            wait_until(lambda: all(not d["online"] for d in status(conf)["devices"]), 30, "devices to go offline")
            wait_until(lambda: status(conf)["store"]["records"] == 0 and status(conf)["uplink"]["inflight"] == 0, 60,
                       "the store to empty")
            final = status(conf)
            records = cloud.records()
            distinct = collections.defaultdict(set)
            for rec in records:
                check_demo_record(rec, seeds[rec["deviceKey"]])
                distinct[rec["deviceKey"]].add(rec["time"])
            for d in final["devices"]:
                got = len(distinct[d["name"]])
                assert got == d["polls_ok"], "%s: %d good polls, %d distinct records in the cloud" % (
                    d["name"], d["polls_ok"], got)
                during_outage = [t for t in distinct[d["name"]] if outage_start_ms < t < outage_end_ms]
                assert len(during_outage) >= OUTAGE_S - 2, "%s: only %d records from the outage" % (
                    d["name"], len(during_outage))
            assert final["store"]["dead_letters"] == {}, final["store"]
            assert final["uplink"]["connects"] >= 2, final["uplink"]
            rc = daemon.stop(timeout=5)
            assert rc == 0, daemon.log()
        finally:
            daemon.stop()
            cloud.stop()
            sim.stop()
            broker.stop()
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
