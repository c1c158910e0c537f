"""The cloud simulator's front checks the signed CONNECT as the hub does. A gateway with a wrong
secret is refused with CONNACK 4 and one whose keys are not the gateway's with CONNACK 5: each
logs the refusal at error priority naming the likely cause, shows uplink.state = "refused" and
uplink.last_error, keeps polling and buffering, and sends at most 3 CONNECTs in 120 s, counted at
the front. A gateway with the right secret goes through the same front and delivers."""
import os
import time

from fgharness import (ModbusSim, Mosquitto, Stack, Workdir, check_demo_record, daemon_config, fieldgated, run,
                       status, stop_cleanly, wait_until)
from fgfaults import FrontedCloudSim

SEEDS = {"meter1": 1, "meter2": 2}
DEVICES = [("meter1", "meterPk", "gw", 1), ("meter2", "meterPk", "gw", 2)]
OBSERVE_S = 35  # well past the first three attempts (retry_min 200ms), well short of 120 s


def config(wd, name, uri, sim_port, gw=("gwPk", "gwDk"), secret="gwSecret"):
    folder = os.path.join(wd, name)
    os.makedirs(folder)
    path = daemon_config(folder, uri, {"gw": sim_port}, DEVICES, gw=gw)
    with open(path) as f:
        text = f.read().replace("device_secret = gwSecret\n", "device_secret = %s\n" % secret, 1)
    with open(path, "w") as f:
        f.write(text)
    return path


def main():
    with Workdir("fg-refusal-") as wd, Stack() as stack:
        broker = stack.push(Mosquitto(wd).start())
        sim = stack.push(ModbusSim.from_devices(wd, [("meter1", -1, 1, 1), ("meter2", -1, 2, 2)]))
        cloud = stack.push(FrontedCloudSim(wd, broker.uri, [(d[0], d[1]) for d in DEVICES]).start())
        wrong_secret = config(wd, "wrong-secret", cloud.uri, sim.ports[0], secret="notTheSecret")
        wrong_key = config(wd, "wrong-key", cloud.uri, sim.ports[0], gw=("gwPk", "strangerDk"))
        right = config(wd, "right", cloud.uri, sim.ports[0])
        started = time.monotonic()
        daemons = {name: stack.push(fieldgated(os.path.dirname(c), c))
                   for name, c in [("wrong-secret", wrong_secret), ("wrong-key", wrong_key), ("right", right)]}

        # The right secret passes the front and delivers, values intact.
        wait_until(lambda: (status(right) or {}).get("uplink", {}).get("delivered", 0) >= 4, 60,
                   "records delivered through the front")
        for rec in cloud.records():
            check_demo_record(rec, SEEDS[rec["deviceKey"]])

        for conf, name, code, cause in [(wrong_secret, "wrong-secret", 4, "secret"),
                                        (wrong_key, "wrong-key", 5, "device_key")]:
            wait_until(lambda: (status(conf) or {}).get("uplink", {}).get("state") == "refused", 30,
                       "uplink.state refused (%s)" % name)
            st = status(conf)
            assert "CONNACK %d" % code in st["uplink"]["last_error"] and cause in st["uplink"]["last_error"], st["uplink"]
            lines = [l for l in daemons[name].log().splitlines() if "refused the gateway" in l]
            assert lines and all(l.startswith("<3>") for l in lines), (name, lines)
            assert cause in lines[0], (name, lines[0])

        # Polling and buffering go on while refused.
        before = status(wrong_secret)["store"]["records"]
        wait_until(lambda: status(wrong_secret)["store"]["records"] >= before + 4, 30, "buffering while refused")
        assert all(d["polls_ok"] > 0 for d in status(wrong_secret)["devices"])

        time.sleep(max(0, OBSERVE_S - (time.monotonic() - started)))  # the window observed is the point
        connects = cloud.connects()
        for code, name in [(4, "wrong-secret"), (5, "wrong-key")]:
            times = [c["time_ms"] for c in connects if c["code"] == code]
            assert len(times) == 3, "%s: %d CONNECTs within %d s at the front: %r" % (name, len(times), OBSERVE_S, times)
            st = status(wrong_secret if code == 4 else wrong_key)
            assert st["uplink"]["connect_attempts"] == 3 and st["uplink"]["state"] == "refused", st["uplink"]
            assert "holding the next connection attempt" in daemons[name].log(), name
        assert sum(1 for c in connects if c["code"] == 0) >= 1
        assert status(right)["uplink"]["connected"]

        for d in daemons.values():
            stop_cleanly(d)


if __name__ == "__main__":
    run(main)
