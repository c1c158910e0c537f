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
    args = ap.parse_args()

    fgharness.BIN = os.path.join(os.path.abspath(args.build), "bin")
    conf = os.path.join(SOURCE, "conf", "demo", "fieldgate.ini")
    os.makedirs(DEMO_DIR, exist_ok=True)
    stale_logs = [f for f in os.listdir(DEMO_DIR) if f.endswith(".log")]
    for stale in ["buffer.db", "buffer.db-wal", "buffer.db-shm", "cloud-records.jsonl"] + stale_logs:
        try:
            os.unlink(os.path.join(DEMO_DIR, stale))
        except FileNotFoundError:
            pass
    for port in (BROKER_PORT, 15020, 15021):
        if fgharness.port_open(port):
            print("demo: port %d on 127.0.0.1 is already in use (another demo running?)" % port, file=sys.stderr)
            return 2

    stop = {"now": False}
    signal.signal(signal.SIGINT, lambda *a: stop.update(now=True))
    signal.signal(signal.SIGTERM, lambda *a: stop.update(now=True))

    started = []
    try:
        broker = fgharness.Mosquitto(DEMO_DIR, port=BROKER_PORT).start()
        started.append(broker)
        sim = fgharness.ModbusSim(DEMO_DIR, ["-c", os.path.join(SOURCE, "conf", "demo", "modbus-sim.ini")],
                                  expect_ports=2)
        started.append(sim)
        cloud = fgharness.Proc("cloud-sim", [os.path.join(fgharness.BIN, "fieldgate-cloud-sim"), "-c",
                                             os.path.join(SOURCE, "conf", "demo", "cloud-sim.ini")], DEMO_DIR)
        started.append(cloud)
        fgharness.wait_until(lambda: "ready:" in cloud.log() or not cloud.alive(), 15, "the cloud simulator")
        if not cloud.alive():
            raise RuntimeError("fieldgate-cloud-sim did not start:\n" + cloud.log())
        daemon = fgharness.fieldgated(DEMO_DIR, conf)
        started.append(daemon)
    except (AssertionError, RuntimeError, OSError) as e:
        print("demo: %s" % e, file=sys.stderr)
        for p in reversed(started):
            p.stop()
        return 2

    print("demo: mosquitto on 127.0.0.1:%d, 3 simulated meters, the EnOS cloud simulator and fieldgated are running."
          % BROKER_PORT)
    print("demo: logs in %s; accepted records in %s/cloud-records.jsonl" % (DEMO_DIR, DEMO_DIR))
    print("demo: the same status any time: build/bin/fieldgatectl -c conf/demo/fieldgate.ini status")
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
            last = fgharness.read_jsonl(os.path.join(DEMO_DIR, "cloud-records.jsonl"))
            if last:
                print("cloud simulator: %d records accepted; the latest: %s\n" % (len(last), last[-1]))
            next_print += args.every
        time.sleep(0.2)

    accepted = len(fgharness.read_jsonl(os.path.join(DEMO_DIR, "cloud-records.jsonl")))
    for p in reversed(started):
        p.stop()
    print("demo: stopped; the cloud simulator accepted %d records" % accepted)
    return 0 if accepted > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
