"""Brokers that misbehave: one that accepts TCP and never answers the CONNECT (the daemon gives
up after its own connect_timeout and stays within 3 CONNECTs per 120 s), and one that closes
every connection right after its CONNACK (the daemon counts each as a connection the hub saw
and holds its attempts to the same limit). Both keep polling and buffering."""
import os
import time

from fgharness import ModbusSim, Mosquitto, Stack, Workdir, daemon_config, fieldgated, run, status, stop_cleanly, wait_until
from fgfaults import Proxy, SilentBroker

DEVICES = [("meter1", "meterPk", "gw", 1)]
OBSERVE_S = 20


def config(wd, name, uri, sim_port):
    folder = os.path.join(wd, name)
    os.makedirs(folder)
    path = daemon_config(folder, uri, {"gw": sim_port}, DEVICES)
    with open(path) as f:
        text = f.read().replace("uri = %s\n" % uri, "uri = %s\nconnect_timeout = 2s\n" % uri, 1)
    with open(path, "w") as f:
        f.write(text)
    return path


def main():
    with Workdir("fg-faults-") as wd, Stack() as stack:
        broker = stack.push(Mosquitto(wd).start())
        sim = stack.push(ModbusSim.from_devices(wd, [("meter1", -1, 1, 1)]))
        silent = stack.push(SilentBroker().start())
        closer = stack.push(Proxy(broker.port, close_after_connack=True).start())
        silent_conf = config(wd, "silent", silent.uri, sim.ports[0])
        closer_conf = config(wd, "closer", closer.uri, sim.ports[0])
        started = time.monotonic()
        d_silent = stack.push(fieldgated(os.path.dirname(silent_conf), silent_conf))
        d_closer = stack.push(fieldgated(os.path.dirname(closer_conf), closer_conf))

        wait_until(lambda: "no CONNACK within 2 s" in ((status(silent_conf) or {}).get("uplink", {}).get("last_error")
                                                      or ""), 30, "the daemon's own connect time-out")
        wait_until(lambda: (status(closer_conf) or {}).get("uplink", {}).get("connects", 0) >= 1, 30,
                   "a CONNACK through the closing proxy")
        time.sleep(max(0, OBSERVE_S - (time.monotonic() - started)))  # the window observed is the point

        st = status(silent_conf)
        assert silent.connects == 3, "%d CONNECTs to the silent broker within %d s" % (silent.connects, OBSERVE_S)
        assert st["uplink"]["connect_attempts"] == 3, st["uplink"]
        assert not st["uplink"]["connected"] and st["store"]["records"] >= OBSERVE_S - 5, st
        assert "no CONNACK within 2 s" in d_silent.log()

        st = status(closer_conf)
        assert closer.connects == 3, "%d connections through the closing proxy within %d s" % (closer.connects,
                                                                                             OBSERVE_S)
        assert st["uplink"]["connects"] == 3 and not st["uplink"]["connected"], st["uplink"]
        assert st["store"]["records"] >= OBSERVE_S - 5, st["store"]
        assert "holding the next connection attempt" in d_closer.log()
        for d in (d_silent, d_closer):
            stop_cleanly(d)


if __name__ == "__main__":
    run(main)
