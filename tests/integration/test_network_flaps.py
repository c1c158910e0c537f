"""A network that flaps every few seconds: the link between gateway and broker stalls for 4 s out
of every 6 (TCP survives, replies time out and batches are sent again), and twice it breaks
outright (every connection closed, new ones refused for 2 s). Nothing is lost: afterwards every
good poll of every device is in the cloud, values intact; and the gateway never opened more than
3 connections to the broker in the run, fewer than 120 s long, counted at the proxy."""
import time

from fgharness import (CloudSim, ModbusSim, Mosquitto, Stack, Workdir, assert_every_poll_delivered, check_demo_record,
                       daemon_config, fieldgated, run, status, stop_cleanly, wait_until)
from fgfaults import Proxy

SEEDS = {"meter1": 1, "meter2": 2, "meter3": 3}
FLAP_S = 36


def main():
    with Workdir("fg-flaps-") as wd, Stack() as stack:
        broker = stack.push(Mosquitto(wd).start())
        sim = stack.push(ModbusSim.from_devices(wd, [("meter1", -1, 1, 1), ("meter2", -1, 2, 2), ("meter3", -2, 1, 3)]))
        devices = [("meter1", "meterPk", "gw", 1), ("meter2", "meterPk", "gw", 2), ("meter3", "meterPk", "solo", 1)]
        cloud = stack.push(CloudSim(wd, broker.uri, [(d[0], d[1]) for d in devices]).start())
        link = stack.push(Proxy(broker.port).start())
        conf = daemon_config(wd, link.uri, {"gw": sim.ports[0], "solo": sim.ports[1]}, devices,
                             uplink="batch_max_records = 4\ninflight = 2\n")
        daemon = stack.push(fieldgated(wd, conf))
        wait_until(lambda: len(cloud.records()) >= 3, 30, "records flowing before the flapping")

        start = time.monotonic()
        cycle = 0
        while time.monotonic() - start < FLAP_S:
            cycle += 1
            if cycle in (3, 6):
                link.cut()  # the link breaks: connections reset, new ones refused
                time.sleep(2)
                link.restore()
            else:
                link.stall()  # the link drops everything for longer than reply_timeout; TCP survives
                time.sleep(4)
                link.resume()
            time.sleep(2)  # up between flaps: the flapping rhythm is the point of this test
        flapped_s = time.monotonic() - start

        wait_until(lambda: (status(conf) or {}).get("uplink", {}).get("connected"), 60, "the uplink back after flapping")
        final = assert_every_poll_delivered(conf, cloud, sim)
        for rec in cloud.records():
            check_demo_record(rec, SEEDS[rec["deviceKey"]])
        assert final["uplink"]["timeouts"] > 0 and final["uplink"]["retries"] > 0, final["uplink"]  # resends
        # Two breaks: three connections in all, within the hub's limit (the run is under 120 s).
        assert link.connects <= 3, "%d connections to the broker in %.0f s" % (link.connects, flapped_s)
        assert final["uplink"]["connects"] == link.connects, (final["uplink"], link.connects)
        stop_cleanly(daemon)


if __name__ == "__main__":
    run(main)
