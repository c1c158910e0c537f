"""Multi-unit endpoints on a shared thread (a Modbus TCP gateway in front of RS-485 slaves): one
unit behind a gateway is dead (the simulator does not answer for it: a time-out, 3 s), one unit
behind another gateway is refused at once (exception 0x0B). The live units behind both gateways,
and a plain meter on the same shared thread, keep their 1 s interval, checked by counting their
good polls over a window: the dead unit is served apart by the pool's second thread over a
second connection to its gateway (two connections to that port while it is dead), and the 0x0B
reply, an answer, moves nothing; both failing units go offline."""
import os

from fgharness import (ModbusSim, Mosquitto, Stack, Workdir, fieldgated, free_port, good_polls_over, run,
                       stop_cleanly, threads_named, wait_until, write)

WINDOW_S = 12


def established_to(port):
    """Established IPv4 TCP connections whose far end is 127.0.0.1:port (the clients' side)."""
    n = 0
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            rem_port = int(fields[2].split(":")[1], 16)
            n += 1 if rem_port == port and fields[3] == "01" else 0
    return n


def main():
    with Workdir("fg-units-") as wd, Stack() as stack:
        broker = stack.push(Mosquitto(wd).start())
        def sim(name, args):
            """A simulator of its own, in a folder of its own (its log names the port it got)."""
            folder = os.path.join(wd, name)
            os.mkdir(folder)
            return stack.push(ModbusSim(folder, ["--port", "0", "--profile", "bench"] + args)).ports[0]
        silent_gw = sim("silent-gw", ["--units", "1-2", "--unknown-unit", "silent"])
        refusing_gw = sim("refusing-gw", ["--units", "1"])
        meter = sim("meter", ["--units", "1"])
        assert len({silent_gw, refusing_gw, meter}) == 3

        # name: (port, unit); all three endpoints land on one shared thread (tcp-pool-1)
        devices = {"live1": (silent_gw, 1), "live2": (silent_gw, 2), "dead3": (silent_gw, 3),
                   "live4": (refusing_gw, 1), "refused5": (refusing_gw, 5), "meter6": (meter, 1)}
        text = ("[gateway]\nproduct_key = gwPk\ndevice_key = gwDk\ndevice_secret = gwSecret\ncontrol_socket = %s\n\n"
                "[mqtt]\nuri = %s\n\n[store]\npath = %s\n\n[model.m]\nv0 = holding:0 float32\n\n"
                % (os.path.join(wd, "control.sock"), broker.uri, os.path.join(wd, "buffer.db")))
        for name, (port, unit) in devices.items():
            # The dead one is probed often (probe_max 2 s) and waits 3 s for a reply: served with its
            # live siblings it would hold them up most of the time.
            extra = "timeout = 3s\nprobe_max = 2s\n" if name == "dead3" else ""
            text += ("[device.%s]\nproduct_key = pk\ndevice_key = %s\ndevice_secret = s\nmodel = m\n"
                     "bus = tcp://127.0.0.1:%d\nunit_id = %d\ninterval = 1s\n%s\n" % (name, name, port, unit, extra))
        conf = write(os.path.join(wd, "fieldgate.ini"), text)
        daemon = stack.push(fieldgated(wd, conf))
        live = [n for n in devices if n.startswith(("live", "meter"))]
        failing = ["dead3", "refused5"]

        got, elapsed, want, b1 = good_polls_over(conf, live, failing, WINDOW_S)
        print("good polls in %.1f s: %s (want >= %d each)" % (elapsed, got, want))
        late = {n: k for n, k in got.items() if k < want}
        assert not late, "live units held up by a failing sibling (good polls in %.1f s): %r" % (elapsed, late)
        for n in live:
            assert b1[n]["online"] and b1[n]["polls_failed"] == 0, b1[n]
        for n in failing:
            assert not b1[n]["online"] and b1[n]["polls_ok"] == 0, b1[n]

        log = daemon.log()
        assert "device=dead3 bus=tcp://127.0.0.1:%d unit=3: not answering while its endpoint's other units do; " \
               "served apart, over a second connection" % silent_gw in log, log[-3000:]
        # An exception reply is an answer: the refusing gateway never went aside.
        assert "bus=tcp://127.0.0.1:%d: not answering" % refusing_gw not in log, log[-3000:]
        # The silent gateway may go aside once, if its dead unit was polled before any live one
        # answered; if it did, it came back.
        aside = "bus=tcp://127.0.0.1:%d: not answering" % silent_gw
        back = "bus=tcp://127.0.0.1:%d: answering again" % silent_gw
        assert log.count(aside) == log.count(back) <= 1, log[-3000:]
        # The dead unit is served by the pool's second thread over a connection of its own.
        assert threads_named(daemon.proc.pid, "off:") == ["off:tcp-pool-1"], threads_named(daemon.proc.pid, "")
        # (A time-out closes its connection, a fresh one being the one place a late reply cannot
        # land: the second one is open while the dead unit is polled, about 3 s in every 5.)
        wait_until(lambda: established_to(silent_gw) == 2, 15, "a second connection to the silent unit's gateway")
        assert established_to(refusing_gw) == 1 and established_to(meter) == 1
        stop_cleanly(daemon)


if __name__ == "__main__":
    run(main)
