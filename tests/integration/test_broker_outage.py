"""The broker stopped for 10 s and restarted: the readings taken during the outage are buffered
and arrive after it; at the end every good poll of every device is in the cloud, none lost, and no
reading was dropped on the way (readings_dropped == 0)."""
import time

from fgharness import (CloudSim, ModbusSim, Mosquitto, Stack, Workdir, assert_every_poll_delivered,
                       check_demo_record, daemon_config, fieldgated, run, status, stop_cleanly, wait_until)

OUTAGE_S = 10
SEEDS = {"meter1": 1, "meter2": 2, "meter3": 3}


def main():
    with Workdir("fg-outage-") as wd, Stack() as stack:
        broker = stack.push(Mosquitto(wd).start())
        sim = stack.push(ModbusSim.from_devices(wd, [("meter1", -1, 1, 1), ("meter2", -1, 2, 2), ("meter3", -2, 1, 3)]))
        devices = [("meter1", "meterPk", "gw", 1), ("meter2", "meterPk", "gw", 2), ("meter3", "meterPk", "solo", 1)]
        cloud = stack.push(CloudSim(wd, broker.uri, [(d[0], d[1]) for d in devices]).start())
        conf = daemon_config(wd, broker.uri, {"gw": sim.ports[0], "solo": sim.ports[1]}, devices)
        daemon = stack.push(fieldgated(wd, conf))

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

        # The hub logs sub-devices out when the gateway drops: they are logged in again.
        wait_until(lambda: all(d["cloud_session"] == "logged_in" for d in status(conf)["devices"]), 30,
                   "every sub-device logged in again after the outage")
        final = assert_every_poll_delivered(conf, cloud, sim)
        assert all(d["cloud_session"] == "logged_out" for d in final["devices"]), final["devices"]
        for rec in cloud.records():
            check_demo_record(rec, SEEDS[rec["deviceKey"]])
        for name in SEEDS:
            during_outage = {r["time"] for r in cloud.records()
                             if r["deviceKey"] == name and outage_start_ms < r["time"] < outage_end_ms}
            assert len(during_outage) >= OUTAGE_S - 2, "%s: only %d records from the outage" % (name, len(during_outage))
        assert final["uplink"]["connects"] >= 2, final["uplink"]
        # Nothing was given up on the way: no reading dropped before the store, none evicted.
        assert final["store"]["readings_dropped"] == 0, final["store"]
        assert final["store"]["dropped"] == {}, final["store"]
        stop_cleanly(daemon)


if __name__ == "__main__":
    run(main)
