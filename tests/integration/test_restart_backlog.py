"""A gateway that starts with no broker, buffers, is stopped and started again: nothing buffered
is lost across the restart; what is older than resume_after goes via resume/batch and live data
via post/batch. SIGHUP reloads: an invalid file is refused and the daemon keeps running, a valid
one adds a device."""
import collections
import re
import signal
import time

from fgharness import (CloudSim, ModbusSim, Mosquitto, Stack, Workdir, check_demo_record, daemon_config,
                       fieldgated, free_port, run, status, stop_cleanly, wait_until, write)


def main():
    with Workdir("fg-restart-") as wd, Stack() as stack:
        broker_port = free_port()
        broker = stack.push(Mosquitto(wd, port=broker_port))  # not started yet: the gateway boots offline
        sim = stack.push(ModbusSim.from_devices(wd, [("meter1", -1, 1, 1), ("meter2", -1, 2, 2), ("meter3", -1, 3, 3)]))
        devices = [("meter1", "meterPk", "gw", 1), ("meter2", "meterPk", "gw", 2)]
        seeds = {"meter1": 1, "meter2": 2, "meter3": 3}
        conf = daemon_config(wd, broker.uri, {"gw": sim.ports[0]}, devices, uplink="resume_after = 2s\n")
        first = stack.push(fieldgated(wd, conf))
        wait_until(lambda: ((status(conf) or {}).get("store", {}).get("records", 0)) >= 10, 30,
                   "10 records buffered while no broker runs")
        assert status(conf)["uplink"]["connected"] is False
        stop_cleanly(first)
        kept = int(re.search(r"stopped; (\d+) records kept", first.log()).group(1))
        assert kept >= 10, first.log()
        restart_ms = int(time.time() * 1000)

        broker.start()
        cloud = stack.push(CloudSim(wd, broker.uri, [(n, "meterPk") for n in seeds]).start())
        second_start_ms = int(time.time() * 1000)
        second = stack.push(fieldgated(wd, conf))
        wait_until(lambda: len({(r["deviceKey"], r["time"]) for r in cloud.records()
                                if r["time"] < restart_ms}) >= kept, 60,
                   "the %d records kept across the restart to reach the cloud" % kept)
        before = [r for r in cloud.records() if r["time"] < restart_ms]
        assert len({(r["deviceKey"], r["time"]) for r in before}) == kept
        # Older than resume_after (2 s) when the uplink came up: backfill via resume/batch.
        old = [r for r in before if r["time"] < second_start_ms - 2000]
        assert old and all(r["topic"] == "resume" for r in old), collections.Counter(r["topic"] for r in old)
        wait_until(lambda: any(r["time"] > second_start_ms + 3000 for r in cloud.records()), 30, "live records")
        assert all(r["topic"] == "post" for r in cloud.records() if r["time"] > second_start_ms + 3000)
        for r in cloud.records():
            check_demo_record(r, seeds[r["deviceKey"]])

        # SIGHUP with a broken file: refused, still running on the old configuration.
        good_text = open(conf).read()
        write(conf, good_text + "\n[device.broken]\nmodel = nosuchmodel\n")
        second.signal(signal.SIGHUP)
        wait_until(lambda: "reload refused" in second.log(), 10, "the invalid reload to be refused")
        assert second.alive()
        assert len(status(conf)["devices"]) == 2
        # SIGHUP with a valid file that adds meter3: it is polled and its records arrive.
        write(conf, good_text + "\n[device.meter3]\nproduct_key = meterPk\ndevice_key = meter3\n"
              "device_secret = meter3Secret\nmodel = meter\nbus = gw\nunit_id = 3\ninterval = 1s\n")
        second.signal(signal.SIGHUP)
        wait_until(lambda: len((status(conf) or {}).get("devices", [])) == 3, 10, "the reload to add meter3")
        polls_before = {d["name"]: d["polls_ok"] for d in status(conf)["devices"]}
        assert polls_before["meter1"] > 0, "a reload must keep the device counters"
        wait_until(lambda: any(r["deviceKey"] == "meter3" for r in cloud.records()), 30, "meter3's records")
        wait_until(lambda: all(d["cloud_session"] == "logged_in" for d in status(conf)["devices"]), 30,
                   "every sub-device logged in after the reload, meter3 included")
        stop_cleanly(second)


if __name__ == "__main__":
    run(main)
