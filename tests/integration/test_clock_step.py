"""A wall-clock step while running (NTP correcting by hours): fieldgated runs under libfaketime,
buffers readings while the cloud does not answer, then its wall clock is stepped 3 hours back and
the broker restarts. On the new connection the records it took more than resume_after (5 s)
earlier still go via resume/batch and none is lost: the split of this run's records goes by their
age on the monotonic clock. (By their stamps, 3 hours "in the future", all would have gone via
post/batch as live data.)"""
import collections
import os

from fgharness import (BIN, CloudSim, ModbusSim, Mosquitto, Proc, Stack, Workdir, assert_every_poll_delivered,
                       daemon_config, free_port, run, status, wait_until, write)
from test_no_clock import libfaketime


def main():
    with Workdir("fg-clockstep-") as wd, Stack() as stack:
        port = free_port()
        broker = stack.push(Mosquitto(wd, port=port).start())
        sim = stack.push(ModbusSim.from_devices(wd, [("meter1", -1, 1, 1)]))
        # One batch in flight and no cloud yet: the rest of the readings wait in the store.
        conf = daemon_config(wd, broker.uri, {"gw": sim.ports[0]}, [("meter1", "meterPk", "gw", 1)],
                             uplink="resume_after = 5s\ninflight = 1\n")
        clock_file = write(os.path.join(wd, "faketime"), "+0\n")
        env = dict(os.environ)
        env.update({"LD_PRELOAD": os.path.join(BIN, "fg_timerfd_passthrough.so") + ":" + libfaketime(),
                    "FAKETIME_TIMESTAMP_FILE": clock_file, "FAKETIME_NO_CACHE": "1", "DONT_FAKE_MONOTONIC": "1",
                    "ASAN_OPTIONS": ":".join(filter(None, [os.environ.get("ASAN_OPTIONS"),
                                                           "verify_asan_link_order=0"]))})
        daemon = stack.push(Proc("fieldgated", [os.path.join(BIN, "fieldgated"), "-c", conf], wd, env=env))
        wait_until(lambda: ((status(conf) or {}).get("store", {}).get("records", 0)) >= 14, 40,
                   "14 records buffered")

        write(clock_file, "-3h\n")  # NTP: the clock was 3 hours ahead
        broker.stop()
        broker = stack.push(Mosquitto(wd, port=port).start())
        cloud = stack.push(CloudSim(wd, broker.uri, [("meter1", "meterPk")]).start())
        wait_until(lambda: (status(conf) or {}).get("uplink", {}).get("connected"), 30, "the reconnect")
        wait_until(lambda: (lambda st: st["store"]["records"] == 0 and st["uplink"]["inflight"] == 0)(status(conf)),
                   60, "the store to empty")
        topics = collections.Counter(r["topic"] for r in cloud.records())
        print("records by topic after the step:", dict(topics))
        assert topics["resume"] >= 5, "records older than resume_after went as live data: %r" % dict(topics)
        assert topics["post"] >= 1, dict(topics)
        assert_every_poll_delivered(conf, cloud, sim)  # nothing lost, no dead letters
        daemon.stop(timeout=5)


if __name__ == "__main__":
    run(main)
