"""A network that flaps every few seconds for minutes: for over 3 minutes the link between gateway
and broker stalls for 4 s out of every 6 (TCP survives, replies time out and batches are sent
again), and every fifth flap breaks it outright (every connection closed, new ones refused for
2 s). That is a break about every 30 s, more than the hub's limit of 3 CONNECTs in any 120 s
allows reconnecting after, so the gateway must hold back. Nothing is lost: afterwards every good
poll of every device is in the cloud, values intact; and no 120 s window held more than 3 CONNECTs,
counted as the broker saw them (at the proxy in front of it)."""
import time

from fgharness import (CloudSim, ModbusSim, Mosquitto, Stack, Workdir, assert_every_poll_delivered, check_demo_record,
                       daemon_config, fieldgated, run, status, stop_cleanly, wait_until)
from fgfaults import Proxy

SEEDS = {"meter1": 1, "meter2": 2, "meter3": 3}
FLAP_S = 190  # over 3 minutes: longer than the hub's 120 s window
CUT_EVERY = 5  # every fifth flap breaks the link
WINDOW_S = 120
MAX_CONNECTS = 3


def most_in_window(times, window):
    """The largest number of `times` inside any `window` seconds."""
    return max((sum(1 for u in times if t <= u < t + window) for t in times), default=0)


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
        cuts = 0
        while time.monotonic() - start < FLAP_S:
            cycle += 1
            if cycle % CUT_EVERY == 0:
                cuts += 1
                link.cut()  # the link breaks: connections reset, new ones refused
                time.sleep(2)
                link.restore()
            else:
                link.stall()  # the link drops everything for longer than reply_timeout; TCP survives
                time.sleep(4)
                link.resume()
            time.sleep(2)  # up between flaps: the flapping rhythm is the point of this test
        flapped_s = time.monotonic() - start

        # After the last break the throttle may hold the next CONNECT for up to 2 minutes.
        wait_until(lambda: (status(conf) or {}).get("uplink", {}).get("connected"), WINDOW_S + 60,
                   "the uplink back after flapping")
        final = assert_every_poll_delivered(conf, cloud, sim)
        for rec in cloud.records():
            check_demo_record(rec, SEEDS[rec["deviceKey"]])
        assert final["uplink"]["timeouts"] > 0 and final["uplink"]["retries"] > 0, final["uplink"]  # resends
        times = list(link.connect_times)
        rel = ["%.1f" % (t - start) for t in times]
        print("%d breaks in %.0f s of flapping; CONNECTs at s %s" % (cuts, flapped_s, ", ".join(rel)))
        # The breaks asked for more connections than one window allows: the limit had to hold.
        assert len(times) > MAX_CONNECTS, "only %d CONNECTs in %.0f s with %d breaks: %s" % (len(times), flapped_s,
                                                                                           cuts, rel)
        most = most_in_window(times, WINDOW_S)
        assert most <= MAX_CONNECTS, "%d CONNECTs within %d s (at s %s of the flapping)" % (most, WINDOW_S, rel)
        assert final["uplink"]["connects"] == len(times), (final["uplink"], rel)
        stop_cleanly(daemon)


if __name__ == "__main__":
    run(main)
