"""One misconfigured device among good ones: its model has a point the cloud's product does not
know, so the hub refuses (1204) every batch that carries its records. The good devices' records
all arrive; the bad device's are isolated and set aside as dead letters with the code, none lost
silently, and `fieldgatectl dead-letters` lists them."""
import json

from fgharness import (DEMO_MODEL, CloudSim, ModbusSim, Mosquitto, Stack, Workdir, daemon_config, fieldgatectl,
                       fieldgated, run, status, stop_cleanly, wait_until)


def main():
    with Workdir("fg-bad-") as wd, Stack() as stack:
        broker = stack.push(Mosquitto(wd).start())
        sim = stack.push(ModbusSim.from_devices(wd, [("good1", -1, 1, 1), ("good2", -1, 2, 2), ("bad", -1, 3, 3)]))
        devices = [("good1", "meterPk", "gw", 1), ("good2", "meterPk", "gw", 2), ("bad", "meterPk", "gw", 3)]
        cloud = stack.push(CloudSim(wd, broker.uri, [(d[0], d[1]) for d in devices]).start())
        conf = daemon_config(wd, broker.uri, {"gw": sim.ports[0]}, devices)
        # The bad device reads one register more, under a name the product does not have.
        text = open(conf).read() + "\n[model.wrong]\n" + DEMO_MODEL + "voltage = holding:8 uint16\n"
        text = text.replace("device_key = bad\ndevice_secret = badSecret\nmodel = meter",
                            "device_key = bad\ndevice_secret = badSecret\nmodel = wrong")
        with open(conf, "w") as f:
            f.write(text)
        daemon = stack.push(fieldgated(wd, conf))

        wait_until(lambda: (status(conf) or {}).get("store", {}).get("dead_letters", {}).get("code_1204", 0) >= 8, 60,
                   "the bad device's records set aside")
        sim.stop()
        wait_until(lambda: all(not d["online"] for d in status(conf)["devices"]), 30, "devices offline")
        wait_until(lambda: status(conf)["store"]["records"] == 0 and status(conf)["uplink"]["inflight"] == 0, 60,
                   "the store to empty")
        final = status(conf)
        by = {d["name"]: d for d in final["devices"]}
        accepted = {}
        for r in cloud.records():
            accepted.setdefault(r["deviceKey"], set()).add(r["time"])
        for name in ("good1", "good2"):
            assert len(accepted.get(name, ())) == by[name]["polls_ok"], (name, by[name], len(accepted.get(name, ())))
        assert "bad" not in accepted, "the hub must never have accepted a record of the bad device"
        assert final["store"]["dead_letters"] == {"code_1204": by["bad"]["polls_ok"]}, (final["store"], by["bad"])

        listed = json.loads(fieldgatectl(conf, "dead-letters", "--json").stdout)["dead_letters"]
        assert len(listed) == by["bad"]["polls_ok"], len(listed)
        assert all(d["device"] == "bad" and d["code"] == 1204 and '"voltage"' in d["body"] for d in listed), listed[0]
        human = fieldgatectl(conf, "dead-letters")
        assert human.returncode == 0 and "code_1204" in human.stdout, human.stdout
        stop_cleanly(daemon)


if __name__ == "__main__":
    run(main)
