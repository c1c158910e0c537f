"""The broker restarts in the middle of a drain: after an outage (of the broker and the cloud
simulator) the gateway reconnects and starts sending its backlog, its first batches unanswered
because the cloud is not back yet, and the broker goes away again right then. When it is back, every good poll of
every device arrives, values intact, none set aside."""
import time

from fgharness import (CloudSim, ModbusSim, Mosquitto, Stack, Workdir, assert_every_poll_delivered, check_demo_record,
                       daemon_config, fieldgated, run, status, stop_cleanly, wait_until)

SEEDS = {"meter1": 1, "meter2": 2, "meter3": 3}
OUTAGE_S = 8


def main():
    with Workdir("fg-restart-drain-") as wd, Stack() as stack:
        broker = stack.push(Mosquitto(wd).start())
        sim = stack.push(ModbusSim.from_devices(wd, [("meter1", -1, 1, 1), ("meter2", -1, 2, 2), ("meter3", -2, 1, 3)]))
        devices = [("meter1", "meterPk", "gw", 1), ("meter2", "meterPk", "gw", 2), ("meter3", "meterPk", "solo", 1)]
        cloud = CloudSim(wd, broker.uri, [(d[0], d[1]) for d in devices])
        with open(cloud.conf) as f:
            text = f.read().replace("[hub]\n", "[hub]\nappend_records = true\n", 1)  # it restarts below
        with open(cloud.conf, "w") as f:
            f.write(text)
        stack.push(cloud.start())
        conf = daemon_config(wd, broker.uri, {"gw": sim.ports[0], "solo": sim.ports[1]}, devices,
                             uplink="batch_max_records = 3\ninflight = 2\n")
        daemon = stack.push(fieldgated(wd, conf))
        wait_until(lambda: len(cloud.records()) >= 3, 30, "records flowing before the outage")

        cloud.stop()
        broker.stop()
        wait_until(lambda: (status(conf) or {}).get("uplink", {}).get("connected") is False, 15, "the outage noticed")
        time.sleep(OUTAGE_S)  # a backlog of this many seconds: its length is the point
        backlog = status(conf)["store"]["records"]
        assert backlog >= 3 * (OUTAGE_S - 2), backlog
        broker.start()
        # The drain has begun: connected again, batches in flight, most of the backlog still held.
        wait_until(lambda: (lambda st: st["uplink"]["connected"] and st["uplink"]["inflight"] > 0)(status(conf)), 30,
                   "the drain to start")
        during = status(conf)
        assert during["store"]["records"] > 6, during["store"]
        broker.stop()  # the broker goes away in the middle of the drain
        wait_until(lambda: status(conf)["uplink"]["connected"] is False, 15, "the second outage noticed")
        broker.start()
        cloud.start()

        final = assert_every_poll_delivered(conf, cloud, sim)
        for rec in cloud.records():
            check_demo_record(rec, SEEDS[rec["deviceKey"]])
        assert final["uplink"]["connects"] >= 3, final["uplink"]
        stop_cleanly(daemon)


if __name__ == "__main__":
    run(main)
