"""Plant scale with dead endpoints: tcp:// devices share poller threads, 8 endpoints each. On every
shared thread some endpoints do not answer: one accepts TCP but never replies (3 s time-out), one
is black-holed (its connection is never accepted: the 1 s connect time-out), one refuses. The live
devices on the same threads keep their 1 s interval, checked by counting their good polls over a
window (a dead endpoint is served apart after its first failure, not once per probe on the shared
thread); the dead ones go offline. Then a simulator starts on the refused endpoint's port: that
device comes online and its endpoint is served by the shared thread again."""
import os
import socket

from fgharness import (Mosquitto, ModbusSim, Stack, Workdir, devices_by_name, fieldgated, free_port,
                       good_polls_over, run, stop_cleanly, threads_named, wait_until, write)

POOLS = 3                 # shared threads
PER_POOL = 8              # kEndpointsPerThread
DEAD_ROLES = ("silent", "blackhole", "refused")  # per pool; the other 5 endpoints answer
WINDOW_S = 12


def blackhole(port, listeners):
    """A port whose connections are never accepted: a backlog of 0, filled by our own connects,
    so the kernel drops the daemon's SYNs and its connect() waits for its time-out."""
    s = socket.socket()
    s.bind(("127.0.0.1", port))
    s.listen(0)
    listeners.append(s)
    for _ in range(3):
        c = socket.socket()
        c.setblocking(False)
        c.connect_ex(("127.0.0.1", port))
        listeners.append(c)


def silent(port, listeners):
    """A port that accepts connections (the kernel completes them) but never answers a request."""
    s = socket.socket()
    s.bind(("127.0.0.1", port))
    s.listen(64)
    listeners.append(s)


def main():
    listeners = []
    with Workdir("fg-silent-") as wd, Stack() as stack:
        broker = stack.push(Mosquitto(wd).start())
        ports = []
        while len(ports) < POOLS * PER_POOL:
            p = free_port()
            if p not in ports:
                ports.append(p)
        # The daemon fills its shared threads with endpoints in the order of their bus names: lay
        # the roles out in that order so every thread gets the three dead kinds beside 5 live ones.
        ports.sort(key=lambda p: "tcp://127.0.0.1:%d" % p)
        roles = (["live"] * (PER_POOL - len(DEAD_ROLES)) + list(DEAD_ROLES)) * POOLS
        kind = dict(zip(ports, roles))
        by_kind = {k: [p for p in ports if kind[p] == k] for k in ("live",) + DEAD_ROLES}
        for p in by_kind["silent"]:
            silent(p, listeners)
        for p in by_kind["blackhole"]:
            blackhole(p, listeners)
        live_ports = by_kind["live"]
        stack.push(ModbusSim(wd, ["--ports", ",".join(map(str, live_ports)), "--profile", "bench"],
                             expect_ports=len(live_ports)))

        model = "v0 = holding:0 float32\n"
        text = ("[gateway]\nproduct_key = gwPk\ndevice_key = gwDk\ndevice_secret = gwSecret\ncontrol_socket = %s\n\n"
                "[mqtt]\nuri = %s\n\n[store]\npath = %s\n\n[model.m]\n%s\n"
                % (os.path.join(wd, "control.sock"), broker.uri, os.path.join(wd, "buffer.db"), model))
        name_of = {}
        for i, port in enumerate(ports):
            name = "%s%02d" % (kind[port], i)
            name_of[port] = name
            # The dead ones are probed often (probe_max 2 s) and the silent one waits 3 s for a reply:
            # on a shared thread without the fix they would hold their mates up most of the time.
            extra = "timeout = 3s\nprobe_max = 2s\n" if kind[port] != "live" else ""
            text += ("[device.%s]\nproduct_key = pk\ndevice_key = %s\ndevice_secret = s\nmodel = m\n"
                     "bus = tcp://127.0.0.1:%d\ninterval = 1s\n%s\n" % (name, name, port, extra))
        conf = write(os.path.join(wd, "fieldgate.ini"), text)
        daemon = stack.push(fieldgated(wd, conf))
        live = [name_of[p] for p in live_ports]
        dead_names = [name_of[p] for k in DEAD_ROLES for p in by_kind[k]]

        got, elapsed, want, b1 = good_polls_over(conf, live, dead_names, WINDOW_S)
        late = {n: k for n, k in got.items() if k < want}
        print("good polls of the %d live devices on shared threads in %.1f s: min %d, max %d (want >= %d)"
              % (len(live), elapsed, min(got.values()), max(got.values()), want))
        assert not late, "live devices held up by their dead thread-mates (good polls in %.1f s): %r" % (elapsed, late)
        for n in live:
            assert b1[n]["online"] and b1[n]["polls_failed"] == 0, b1[n]
        for n in dead_names:
            assert not b1[n]["online"] and b1[n]["polls_ok"] == 0, b1[n]
        # The dead endpoints are served by a second thread of each pool.
        off = threads_named(daemon.proc.pid, "off:")
        assert len(off) == POOLS, off

        # The refused endpoint comes alive: its device goes online, its endpoint back to the shared thread.
        revived = by_kind["refused"][0]
        stack.push(ModbusSim(wd, ["--ports", str(revived), "--profile", "bench"]))
        wait_until(lambda: devices_by_name(conf)[name_of[revived]]["online"], 30, "the revived device online")
        wait_until(lambda: "bus=tcp://127.0.0.1:%d: answering again" % revived in daemon.log(), 10,
                   "its endpoint back on the shared thread")
        log = daemon.log()
        assert "bus=tcp://127.0.0.1:%d: not answering" % revived in log, log[-3000:]
        stop_cleanly(daemon)
    for s in listeners:
        s.close()


if __name__ == "__main__":
    run(main)
