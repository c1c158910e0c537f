"""A cloud that loses replies and answers 1009 now and then: the batches concerned are sent again
after reply_timeout or with back-off; in the end every good poll is in the cloud and nothing is
dead-lettered. The daemon's own log shows it received the injected 1009 (and the cloud
simulator's counters that it sent them and held the replies back), so the test cannot pass on a
cloud that injected nothing."""
import json
import re

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
        wait_until(lambda: re.search(r"uplink: batch \S+ of \d+ records: code 1009", daemon.log()), 60,
                   "the daemon to receive a 1009")
        wait_until(lambda: status(conf)["uplink"]["delivered"] >= 20, 60, "20 records delivered")
        final = assert_every_poll_delivered(conf, cloud, sim)
        assert final["uplink"]["timeouts"] >= 1 and final["uplink"]["retries"] >= 3, final["uplink"]
        received_1009 = len(re.findall(r"uplink: batch \S+ of \d+ records: code 1009", daemon.log()))
        stop_cleanly(daemon)
        cloud.stop()  # writes its counters at exit
        with open(cloud.stats_path) as f:
            counters = json.load(f)
        sent_1009 = counters["requests_by_code"].get("1009", 0)
        assert counters["replies_dropped"] == 3, counters
        assert counters["faults_injected"] >= 1 and sent_1009 >= 1, counters
        # Every 1009 the daemon logged was one the cloud sent (a late one to a batch already sent
        # again is not logged, hence <=).
        assert 1 <= received_1009 <= sent_1009, (received_1009, counters)


if __name__ == "__main__":
    run(main)
