"""A cloud that loses replies and answers 1009 now and then: the batches concerned are sent again
after reply_timeout or with back-off; in the end every good poll is in the cloud and nothing is
dead-lettered."""
from fgharness import (CloudSim, ModbusSim, Mosquitto, Stack, Workdir, assert_every_poll_delivered, daemon_config,
                       fieldgated, run, status, stop_cleanly, wait_until)


def main():
    with Workdir("fg-faults-") as wd, Stack() as stack:
        broker = stack.push(Mosquitto(wd).start())
        sim = stack.push(ModbusSim.from_devices(wd, [("meter1", -1, 1, 1), ("meter2", -1, 2, 2)]))
        devices = [("meter1", "meterPk", "gw", 1), ("meter2", "meterPk", "gw", 2)]
        # The first 3 replies are lost; every 4th request after that is refused with 1009.
        cloud = stack.push(CloudSim(wd, broker.uri, [(d[0], d[1]) for d in devices],
                                    faults={"drop_replies": 3, "reply_code": 1009, "every": 4}).start())
        conf = daemon_config(wd, broker.uri, {"gw": sim.ports[0]}, devices,
                             uplink="inflight = 2\nbatch_max_records = 4\n")
        daemon = stack.push(fieldgated(wd, conf))

        wait_until(lambda: (status(conf) or {}).get("uplink", {}).get("timeouts", 0) >= 1, 30, "a reply time-out")
        wait_until(lambda: status(conf)["uplink"]["last_code"] == 1009 or status(conf)["uplink"]["retries"] >= 3,
                   60, "a 1009 retried")
        wait_until(lambda: status(conf)["uplink"]["delivered"] >= 20, 60, "20 records delivered")
        final = assert_every_poll_delivered(conf, cloud, sim)
        assert final["uplink"]["timeouts"] >= 1 and final["uplink"]["retries"] >= 3, final["uplink"]
        stop_cleanly(daemon)


if __name__ == "__main__":
    run(main)
