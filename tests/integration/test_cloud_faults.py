"""A cloud that loses replies and answers 1009 now and then: the batches concerned are sent again
after reply_timeout or with back-off; in the end every good poll is in the cloud and nothing is
dead-lettered."""
import collections

from fgharness import CloudSim, ModbusSim, Mosquitto, Workdir, daemon_config, fieldgated, status, wait_until


def main():
    with Workdir("fg-faults-") as wd:
        broker = Mosquitto(wd).start()
        sim = ModbusSim.from_devices(wd, [("meter1", -1, 1, 1), ("meter2", -1, 2, 2)])
        devices = [("meter1", "meterPk", "gw", 1), ("meter2", "meterPk", "gw", 2)]
        # The first 3 replies are lost; every 4th request after that is refused with 1009.
        cloud = CloudSim(wd, broker.uri, [(d[0], d[1]) for d in devices],
                         faults={"drop_replies": 3, "reply_code": 1009, "every": 4}).start()
        conf = daemon_config(wd, broker.uri, {"gw": sim.ports[0]}, devices,
                             uplink="inflight = 2\nbatch_max_records = 4\n")
        daemon = fieldgated(wd, conf)
        try:
            wait_until(lambda: (status(conf) or {}).get("uplink", {}).get("timeouts", 0) >= 1, 30,
                       "a reply time-out")
            wait_until(lambda: status(conf)["uplink"]["last_code"] == 1009 or status(conf)["uplink"]["retries"] >= 3,
                       60, "a 1009 retried")
            wait_until(lambda: status(conf)["uplink"]["delivered"] >= 20, 60, "20 records delivered")
            sim.stop()
            wait_until(lambda: all(not d["online"] for d in status(conf)["devices"]), 30, "devices offline")
            wait_until(lambda: status(conf)["store"]["records"] == 0 and status(conf)["uplink"]["inflight"] == 0,
                       60, "the store to empty")
            final = status(conf)
            distinct = collections.defaultdict(set)
            for rec in cloud.records():
                distinct[rec["deviceKey"]].add(rec["time"])
            for d in final["devices"]:
                assert len(distinct[d["name"]]) == d["polls_ok"], (d, len(distinct[d["name"]]))
            assert final["store"]["dead_letters"] == {}, final["store"]
            assert final["uplink"]["timeouts"] >= 1 and final["uplink"]["retries"] >= 3, final["uplink"]
            assert daemon.stop(timeout=5) == 0
        finally:
            daemon.stop()
            cloud.stop()
            sim.stop()
            broker.stop()
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
