#!/usr/bin/env python3
"""`make demo`: fieldgate on its demo default, everything on loopback.

Starts a private mosquitto (port 18830), the Modbus device simulator (three meters, ports 15020
and 15021), the EnOS cloud simulator and fieldgated with conf/demo/, then shows
`fieldgatectl status` every few seconds. Ctrl-C (or --duration) stops everything it started.
Exit 0 when readings reached the cloud simulator, 1 when none did, 2 when something failed to start.
"""
import argparse
import os
import re
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(SOURCE, "tests", "lib"))
import fgharness  # noqa: E402

DEMO_DIR = "/tmp/fieldgate-demo"
BROKER_PORT = 18830
MODBUS_PORTS = (15020, 15021)


def relocated_conf(demo_dir, broker_port, modbus_ports):
    """conf/demo/ copied into demo_dir/conf with its folder and ports replaced (--dir,
    --free-ports: so tests and two checkouts can run the demo at once). Returns the folder."""
    src = os.path.join(SOURCE, "conf", "demo")
    dst = os.path.join(demo_dir, "conf")
    swaps = [(DEMO_DIR, demo_dir), ("127.0.0.1:%d" % BROKER_PORT, "127.0.0.1:%d" % broker_port)]
    swaps += [("127.0.0.1:%d" % a, "127.0.0.1:%d" % b) for a, b in zip(MODBUS_PORTS, modbus_ports)]
    swaps += [("port = %d" % a, "port = %d" % b) for a, b in zip(MODBUS_PORTS, modbus_ports)]
    for rel in ("fieldgate.ini", "modbus-sim.ini", "cloud-sim.ini", os.path.join("conf.d", "meters.ini")):
        with open(os.path.join(src, rel)) as f:
            text = f.read()
        for a, b in swaps:
            text = text.replace(a, b)
        fgharness.write(os.path.join(dst, rel), text)
    return dst


def parse_duration(text):
    m = re.fullmatch(r"(\d+)(ms|s|min|h)?", text.strip())
    if not m:
        raise argparse.ArgumentTypeError("a duration like 30s, 2min or 1h")
    factor = {"ms": 0.001, "s": 1, "min": 60, "h": 3600, None: 1}[m.group(2)]
    return int(m.group(1)) * factor


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(SOURCE, "build"))
    ap.add_argument("--duration", type=parse_duration, help="stop after this long (30s, 2min)")
    ap.add_argument("--every", type=float, default=5, help="seconds between status prints")
    ap.add_argument("--dir", default=DEMO_DIR, help="folder for the store, logs and records (default %(default)s)")
    ap.add_argument("--free-ports", action="store_true",
                    help="any free loopback ports instead of %d, %d and %d (configuration copied into DIR/conf)"
                    % ((BROKER_PORT,) + MODBUS_PORTS))
    args = ap.parse_args()

    fgharness.BIN = os.path.join(os.path.abspath(args.build), "bin")
    work = os.path.abspath(args.dir)
    os.makedirs(work, exist_ok=True)
    broker_port, modbus_ports = BROKER_PORT, MODBUS_PORTS
    conf_dir = os.path.join(SOURCE, "conf", "demo")
    if args.free_ports:
        broker_port, modbus_ports = fgharness.free_port(), (fgharness.free_port(), fgharness.free_port())
    if args.free_ports or work != DEMO_DIR:
        conf_dir = relocated_conf(work, broker_port, modbus_ports)
    conf = os.path.join(conf_dir, "fieldgate.ini")
    stale_logs = [f for f in os.listdir(work) if f.endswith(".log")]
    for stale in ["buffer.db", "buffer.db-wal", "buffer.db-shm", "cloud-records.jsonl"] + stale_logs:
        try:
            os.unlink(os.path.join(work, stale))
        except FileNotFoundError:
            pass
    for port in (broker_port,) + tuple(modbus_ports):
        if fgharness.port_open(port):
            print("demo: port %d on 127.0.0.1 is already in use (another demo running?)" % port, file=sys.stderr)
            return 2

    stop = {"now": False}
    signal.signal(signal.SIGINT, lambda *a: stop.update(now=True))
    signal.signal(signal.SIGTERM, lambda *a: stop.update(now=True))

    started = []
    try:
        broker = fgharness.Mosquitto(work, port=broker_port).start()
        started.append(broker)
        sim = fgharness.ModbusSim(work, ["-c", os.path.join(conf_dir, "modbus-sim.ini")],
                                  expect_ports=2)
        started.append(sim)
        cloud = fgharness.Proc("cloud-sim", [os.path.join(fgharness.BIN, "fieldgate-cloud-sim"), "-c",
                                             os.path.join(conf_dir, "cloud-sim.ini")], work)
        started.append(cloud)
        fgharness.wait_until(lambda: "ready:" in cloud.log() or not cloud.alive(), 15, "the cloud simulator")
        if not cloud.alive():
            raise RuntimeError("fieldgate-cloud-sim did not start:\n" + cloud.log())
        daemon = fgharness.fieldgated(work, conf)
        started.append(daemon)
    except (AssertionError, RuntimeError, OSError) as e:
        print("demo: %s" % e, file=sys.stderr)
        for p in reversed(started):
            p.stop()
        return 2

    print("demo: mosquitto on 127.0.0.1:%d, 3 simulated meters, the EnOS cloud simulator and fieldgated are running."
          % broker_port)
    print("demo: logs in %s; accepted records in %s/cloud-records.jsonl" % (work, work))
    print("demo: the same status any time: build/bin/fieldgatectl -c %s status" % os.path.relpath(conf))
    print("demo: Ctrl-C stops everything.\n" if args.duration is None else
          "demo: stopping by itself after %g s.\n" % args.duration)
    begin = time.monotonic()
    next_print = begin + min(args.every, 3)
    while not stop["now"]:
        if args.duration is not None and time.monotonic() - begin >= args.duration:
            break
        if not daemon.alive():
            print("demo: fieldgated exited:\n" + daemon.log()[-3000:], file=sys.stderr)
            break
        if time.monotonic() >= next_print:
            r = fgharness.fieldgatectl(conf, "status")
            print(time.strftime("%H:%M:%S"), "fieldgatectl status")
            print(r.stdout if r.returncode == 0 else r.stderr)
            last = fgharness.read_jsonl(os.path.join(work, "cloud-records.jsonl"))
            if last:
                print("cloud simulator: %d records accepted; the latest: %s\n" % (len(last), last[-1]))
            next_print += args.every
        time.sleep(0.2)

    accepted = len(fgharness.read_jsonl(os.path.join(work, "cloud-records.jsonl")))
    failed_stop = False
    for p in reversed(started):
        try:
            p.stop()
        except AssertionError as e:  # a non-zero exit on SIGTERM, a sanitizer report
            print("demo: %s" % e, file=sys.stderr)
            failed_stop = True
    print("demo: stopped; the cloud simulator accepted %d records" % accepted)
    return 0 if accepted > 0 and not failed_stop else 1


if __name__ == "__main__":
    sys.exit(main())
