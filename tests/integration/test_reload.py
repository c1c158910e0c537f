"""SIGHUP mid-drain, as an operator editing the file would: adding a device and changing [store]
keys keeps the MQTT connection (one CONNECT at the broker), the changed keys are applied and
named, nothing buffered is lost; then six SIGHUPs a second apart still make no new CONNECT."""
import re
import signal
import time

from fgharness import (CloudSim, ModbusSim, Mosquitto, Stack, Workdir, assert_every_poll_delivered, daemon_config,
                       fieldgated, run, status, stop_cleanly, wait_until, write)

GATEWAY_ID = "gwPk.gwDk|"


def gateway_connects(broker):
    """CONNECTs of the gateway as the broker logged them (mosquitto's connection_messages)."""
    return sum(1 for line in broker.proc.log().splitlines() if "New client connected" in line and GATEWAY_ID in line)


def main():
    with Workdir("fg-reload-") as wd, Stack() as stack:
        broker = Mosquitto(wd)
        with open(broker.conf, "a") as f:
            f.write("connection_messages true\nlog_type all\nlog_dest stderr\n")
        stack.push(broker.start())
        sim = stack.push(ModbusSim.from_devices(wd, [("meter1", -1, 1, 1), ("meter2", -1, 2, 2), ("meter3", -1, 3, 3)]))
        # The cloud leaves the first batches unanswered: they stay in the window until their
        # reply time-out (3 s), so the reload below lands with a backlog and batches in flight.
        cloud = stack.push(CloudSim(wd, broker.uri, [(n, "meterPk") for n in ("meter1", "meter2", "meter3")],
                                    faults={"drop_replies": 4}).start())
        devices = [("meter1", "meterPk", "gw", 1), ("meter2", "meterPk", "gw", 2)]
        conf = daemon_config(wd, broker.uri, {"gw": sim.ports[0]}, devices,
                             uplink="batch_max_records = 2\ninflight = 2\n")
        first_text = open(conf).read()
        daemon = stack.push(fieldgated(wd, conf))
        wait_until(lambda: gateway_connects(broker) == 1, 20, "the gateway's CONNECT in the broker log")

        def mid_drain():
            st = status(conf)
            return st and st["uplink"]["connected"] and st["uplink"]["inflight"] > 0 and \
                st["store"]["records"] >= 4 and st
        before = wait_until(mid_drain, 30, "a backlog with batches in flight")
        print("SIGHUP with %d records buffered, %d batches in flight" % (
            before["store"]["records"], before["uplink"]["inflight"]))

        # Edit: add meter3, change two [store] keys.
        edited = first_text.replace("commit_interval = 200ms\n", "commit_interval = 300ms\nmax_age = 20d\n")
        assert edited != first_text
        edited += ("[device.meter3]\nproduct_key = meterPk\ndevice_key = meter3\ndevice_secret = meter3Secret\n"
                   "model = meter\nbus = gw\nunit_id = 3\ninterval = 1s\n")
        write(conf, edited)
        daemon.signal(signal.SIGHUP)
        line = wait_until(lambda: re.search(r"reloaded: .*", daemon.log()), 10, "the reload").group(0)
        for key in ("[store] commit_interval", "[store] max_age", "[device.meter3] added"):
            assert key in line, line
        after = status(conf)
        assert len(after["devices"]) == 3, after["devices"]
        wait_until(lambda: any(r["deviceKey"] == "meter3" for r in cloud.records()), 30, "meter3's records")
        wait_until(lambda: all(d["cloud_session"] == "logged_in" for d in status(conf)["devices"]), 30,
                   "every sub-device logged in, meter3 included")
        assert gateway_connects(broker) == 1, "a reload with [gateway]/[mqtt] unchanged connected again"

        # Six SIGHUPs a second apart (the hub blocks a gateway for 5 minutes after 4 CONNECTs).
        for i in range(6):
            daemon.signal(signal.SIGHUP)
            wait_until(lambda: daemon.log().count("reloaded: ") >= i + 2, 10, "reload %d" % (i + 2))
            time.sleep(1)
        assert "nothing changed" in daemon.log().splitlines()[-1] or "nothing changed" in daemon.log()
        assert gateway_connects(broker) == 1, "six reloads made %d CONNECTs" % gateway_connects(broker)
        assert status(conf)["uplink"]["connected"]

        # Nothing buffered was lost: every good poll of every device reaches the cloud.
        assert_every_poll_delivered(conf, cloud, sim)
        assert gateway_connects(broker) == 1
        stop_cleanly(daemon)


if __name__ == "__main__":
    run(main)
