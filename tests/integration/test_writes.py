"""Writes from the cloud (DESIGN.md "Writes from the cloud"), through mosquitto, both simulators and
the daemon: a measurepoint set checked whole, written by the device's bus thread, read back, and
seen in the next uploaded record; every refusal (400 unknown / read-only / wrong type / out of
range with nothing written, 503 offline or too soon, 500 a device exception); get from the last
polled values; fieldgatectl write; and polling of another bus going on through a burst of writes."""
import time

from fgharness import (DEMO_MODEL, DEMO_PRODUCT, CloudSim, ModbusSim, Mosquitto, Stack, Workdir, cloud_send,
                       daemon_config, fieldgatectl, fieldgated, free_port, run, status, stop_cleanly, wait_until,
                       write)

WRITABLE = """setpoint = holding:10 float32 CDAB scale=0.1 writable
mode = holding:12 uint16 writable
level = holding:13 int16 scale=0.01 writable
label = holding:14 string[3] writable
run = coil:16 bool writable
"""
# A point the device refuses: outside its map (exception 2, illegal data address).
REFUSED = "command = holding:150 uint16 writable\n"
PRODUCT = DEMO_PRODUCT + "setpoint = number\nmode = integer\nlevel = number\nlabel = string\nrun = integer\n" \
                         "command = integer\n"


def latest(cloud, device):
    recs = [r for r in cloud.records() if r["deviceKey"] == device]
    return recs[-1]["measurepoints"] if recs else {}


def polls_ok(conf, name):
    return next(d for d in status(conf)["devices"] if d["name"] == name)["polls_ok"]


def main():
    with Workdir("fg-writes-") as wd, Stack() as stack:
        broker = stack.push(Mosquitto(wd).start())
        sim = stack.push(ModbusSim.from_devices(wd, [("meter1", -1, 1, 1), ("meter2", -1, 2, 2), ("meter3", -2, 1, 3)]))
        cloud = stack.push(CloudSim(wd, broker.uri, [("meter1", "meterPk"), ("meter2", "meterPk"), ("meter3", "meterPk"),
                                                     ("ghost", "meterPk")], points=PRODUCT).start())
        conf = daemon_config(wd, broker.uri, {"gw": sim.ports[0], "solo": sim.ports[1]},
                             [("meter1", "meterPk", "gw", 1), ("meter2", "meterPk", "gw", 2)], model=DEMO_MODEL + WRITABLE)
        with open(conf, "a") as f:
            # meter2 takes one write per 10 min, so a second one is refused whatever the machine's speed.
            f.write("[model.refuser]\n%s%s\n" % (DEMO_MODEL, REFUSED))
            f.write("[device.meter3]\nproduct_key = meterPk\ndevice_key = meter3\ndevice_secret = meter3Secret\n"
                    "model = refuser\nbus = solo\nunit_id = 1\ninterval = 1s\n\n")
            # Nothing listens on ghost's port: it goes offline and stays so.
            f.write("[device.ghost]\nproduct_key = meterPk\ndevice_key = ghost\ndevice_secret = ghostSecret\n"
                    "model = meter\nbus = tcp://127.0.0.1:%d\ninterval = 1s\noffline_after = 1\n\n" % free_port())
        text = open(conf).read().replace("[device.meter2]\n", "[device.meter2]\nwrite_interval = 10min\n")
        write(conf, text)
        daemon = stack.push(fieldgated(wd, conf))

        def state(name):
            st = status(conf)
            return st and next(d for d in st["devices"] if d["name"] == name)
        wait_until(lambda: all(state(n) and state(n)["online"] for n in ("meter1", "meter2", "meter3")), 30,
                   "meter1..3 online")
        wait_until(lambda: state("ghost") and not state("ghost")["online"] and state("ghost")["polls_failed"] > 0, 30,
                   "ghost offline")

        # Two points at once: accepted, written, read back, and seen in the next uploaded record.
        [r] = cloud_send(broker, wd, [("meter1", "set", {"setpoint": 21.5, "mode": 3})])
        assert r["code"] == 200 and r["data"] == {}, r
        wait_until(lambda: latest(cloud, "meter1").get("setpoint") == 21.5 and latest(cloud, "meter1").get("mode") == 3,
                   20, "the written values in meter1's next record")
        # A string, a coil and a scaled int16 in one request. The record above can reach the cloud
        # within meter1's write_interval (200ms) of the write (the write comes just before a poll).
        time.sleep(0.3)
        [r] = cloud_send(broker, wd, [("meter1", "set", {"label": "ab1", "run": True, "level": -1.25})])
        assert r["code"] == 200, r
        wait_until(lambda: (latest(cloud, "meter1").get("label"), latest(cloud, "meter1").get("run"),
                            latest(cloud, "meter1").get("level")) == ("ab1", 1, -1.25), 20, "label, run and level")

        # Refused whole with 400, nothing written (mode stays 3 although it comes first).
        time.sleep(0.3)  # past meter1's write_interval (200ms), so the refusals below are the checks'
        bad = cloud_send(broker, wd, [("meter1", "set", {"mode": 5, "nosuch": 1}),
                                ("meter1", "set", {"mode": 5, "power": 1.0}),
                                ("meter1", "set", {"mode": "five"}),
                                ("meter1", "set", {"mode": 70000}),
                                ("meter1", "set", {"level": 400})])
        assert [b["code"] for b in bad] == [400] * 5, bad
        assert "nosuch" in bad[0]["message"] and "unknown" in bad[0]["message"], bad[0]
        assert "power" in bad[1]["message"] and "not writable" in bad[1]["message"], bad[1]
        assert "takes a JSON number" in bad[2]["message"], bad[2]
        assert "out of range for uint16" in bad[3]["message"], bad[3]
        assert "out of range for int16 after scale/offset" in bad[4]["message"], bad[4]
        n = len(cloud.records())
        wait_until(lambda: len(cloud.records()) >= n + 6, 20, "records polled after the refusals")
        assert latest(cloud, "meter1")["mode"] == 3, latest(cloud, "meter1")

        # get: the last polled values of the points asked for.
        [g] = cloud_send(broker, wd, [("meter1", "get", ["setpoint", "mode", "label"])])
        assert g["code"] == 200 and g["data"] == {"setpoint": 21.5, "mode": 3, "label": "ab1"}, g
        [g] = cloud_send(broker, wd, [("meter1", "get", ["nosuch"])])
        assert g["code"] == 400, g

        # Offline: 503, nothing written. A device exception: 500 naming it.
        [o] = cloud_send(broker, wd, [("ghost", "set", {"mode": 1})])
        assert o["code"] == 503 and "offline" in o["message"], o
        [e] = cloud_send(broker, wd, [("meter3", "set", {"command": 7})])
        assert e["code"] == 500 and "illegal data address" in e["message"], e
        assert e["data"] == {"written": []}, e

        # fieldgatectl write: the same path; a second write within write_interval is refused.
        w = fieldgatectl(conf, "write", "meter2", "mode=9", "setpoint=-3.5", timeout=30)
        assert w.returncode == 0 and "written and read back" in w.stdout, w.stdout + w.stderr
        wait_until(lambda: (latest(cloud, "meter2").get("mode"), latest(cloud, "meter2").get("setpoint")) == (9, -3.5),
                   20, "meter2's written values uploaded")
        again = fieldgatectl(conf, "write", "meter2", "mode=10", timeout=30)
        assert again.returncode != 0 and "503" in again.stdout and "too soon" in again.stdout, again.stdout
        unknown = fieldgatectl(conf, "write", "meter2", "nosuch=1", timeout=30)
        assert unknown.returncode != 0 and "400" in unknown.stdout, unknown.stdout

        # A burst of writes on meter1's bus: meter3, on another bus, keeps being polled.
        before = polls_ok(conf, "meter3")
        failed_before = state("meter3")["polls_failed"]
        t0 = time.monotonic()
        burst = cloud_send(broker, wd, [("meter1", "set", {"mode": k}) for k in range(40)])
        elapsed = time.monotonic() - t0
        assert all(b["code"] in (200, 503) for b in burst), burst
        assert any(b["code"] == 200 for b in burst), burst
        grown = polls_ok(conf, "meter3") - before
        assert grown >= int(elapsed / 2) - 1, "meter3 polled %d times in %.1f s of writes" % (grown, elapsed)
        assert state("meter3")["polls_failed"] == failed_before, state("meter3")

        log = stop_cleanly(daemon)
        assert "write device=meter1 setpoint=21.5 mode=3 (cloud request" in log and "200, written and read back" in log, log
        assert "write device=meter2 mode=9 setpoint=-3.5 (fieldgatectl): 200" in log, log
        assert "<5>write device=meter3 command=7" in log and "refused: illegal data address" in log, log


if __name__ == "__main__":
    run(main)
