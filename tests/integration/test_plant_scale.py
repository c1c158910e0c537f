"""Plant scale: 500 Modbus TCP devices, each on its own endpoint (one simulator port each), polled
every second by one fieldgated. All come online and are polled without failures, each record
carries the simulator's values, and the daemon stays within an armhf process's address space
(endpoints share poller threads, 8 each, on small stacks). Timings are not asserted here: bench/footprint measures them."""
import collections
import os

from fgharness import (CloudSim, ModbusSim, Mosquitto, Stack, Workdir, f32, fieldgated, free_port, run, status,
                       stop_cleanly, wait_until, write)

DEVICES = 500
POINTS = 4


def proc_status(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, value = line.partition(":")
            out[key] = value.strip()
    return out


def main():
    with Workdir("fg-plant-") as wd, Stack() as stack:
        broker = stack.push(Mosquitto(wd).start())
        ports = []
        while len(ports) < DEVICES:
            p = free_port()
            if p not in ports:
                ports.append(p)
        sim = stack.push(ModbusSim(wd, ["--ports", ",".join(map(str, ports)), "--profile", "bench"],
                                   expect_ports=DEVICES))
        names = ["d%03d" % i for i in range(DEVICES)]
        product = "".join("v%d = number\n" % k for k in range(POINTS))
        cloud = stack.push(CloudSim(wd, broker.uri, [(n, "plantPk") for n in names], product="plantPk",
                                    points=product).start())
        model = "".join("v%d = holding:%d float32\n" % (k, 2 * k) for k in range(POINTS))
        text = ("[gateway]\nproduct_key = gwPk\ndevice_key = gwDk\ndevice_secret = gwSecret\ncontrol_socket = %s\n\n"
                "[mqtt]\nuri = %s\n\n[store]\npath = %s\n\n[model.m]\n%s\n"
                % (os.path.join(wd, "control.sock"), broker.uri, os.path.join(wd, "buffer.db"), model))
        for name, port in zip(names, ports):
            text += ("[device.%s]\nproduct_key = plantPk\ndevice_key = %s\ndevice_secret = s\nmodel = m\n"
                     "bus = tcp://127.0.0.1:%d\ninterval = 1s\n\n" % (name, name, port))
        conf = write(os.path.join(wd, "fieldgate.ini"), text)
        daemon = stack.push(fieldgated(wd, conf))

        def all_polled(n):
            st = status(conf)
            return st and all(d["polls_ok"] >= n for d in st["devices"])
        wait_until(lambda: all_polled(3), 120, "3 good polls of every one of %d devices" % DEVICES)
        st = status(conf)
        assert len(st["devices"]) == DEVICES
        assert all(d["online"] and d["polls_failed"] == 0 for d in st["devices"]), \
            [d for d in st["devices"] if not d["online"] or d["polls_failed"]][:5]

        ps = proc_status(daemon.proc.pid)
        threads = int(ps["Threads"])
        vm_kib = int(ps["VmPeak"].split()[0])
        print("fieldgated with %d devices: %d threads, address space %d MiB (peak), RSS %s"
              % (DEVICES, threads, vm_kib // 1024, ps["VmRSS"]))
        assert threads <= DEVICES // 8 + 16, threads  # endpoints share poller threads, 8 each
        # One thread per endpoint on an 8 MiB default stack would reserve 4 GiB: more than an armhf
        # process has. Shared threads on small stacks keep it far below.
        if not os.environ.get("FG_SANITIZED"):  # AddressSanitizer reserves terabytes of shadow memory
            assert vm_kib < 2 * 1024 * 1024, ps["VmPeak"]

        wait_until(lambda: len({r["deviceKey"] for r in cloud.records()}) == DEVICES, 60,
                   "records of every device in the cloud")
        seed = {name: i + 1 for i, name in enumerate(names)}
        per = collections.Counter()
        for r in cloud.records():
            mp = r["measurepoints"]
            base = mp["v0"] - seed[r["deviceKey"]]
            assert 0 <= base < 100 and base == int(base), r
            for k in range(1, POINTS):
                assert f32(mp["v%d" % k]) == f32(seed[r["deviceKey"]] + k / 10 + base), r
            per[r["deviceKey"]] += 1
        stop_cleanly(daemon)


if __name__ == "__main__":
    run(main)
