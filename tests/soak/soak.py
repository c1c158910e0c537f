#!/usr/bin/env python3
"""make soak: crash and flap fieldgated for a long time and judge it like a queue checker.

Phase 1, kills: the Modbus simulator, a real mosquitto and the cloud simulator run throughout;
fieldgated (polling every 100 ms, committing every 200 ms, small batches so that publishing and
deleting are always under way) is SIGKILLed --kills times at random moments, now and then right
after a SIGHUP (mid-reload), and started again each time. After every kill the store must pass
`PRAGMA integrity_check`, and every record in it is noted as committed. At the end the broker
stays up until the store is empty. Judgement:
  lost       = committed records that are neither accepted by the cloud nor still stored (must be 0)
  duplicates = extra copies the cloud accepted; at most inflight x batch_max_records per kill
Phase 2, broker flap (--flap-seconds, under the ASan build when --asan-build is given): the broker
goes down for 1-30 s and up for 1-30 s at random; WATCHDOG=1 (systemd's notify protocol,
WATCHDOG_USEC=2 s) must never be late (a late one is printed with the load average around it);
every good poll must be in the cloud at the end; readings_dropped = 0; the daemon stops cleanly with
no sanitizer report (LeakSanitizer runs at the stop). RSS must grow by less than 1 MB, measured so
that it judges fieldgated and not ASan:
  - warm-up first: one 30 s outage (the longest the flap makes) and its drain, so the reference
    already holds what the largest backlog allocates once (SQLite's page cache, batches, Paho's
    buffers, the allocator's free lists at their high-water mark);
  - then 1500 status requests, which fill ASan's 1 MB quarantine (freed chunks stay resident in it
    until 1 MB of later frees pushes them out; at 4 polls a second the flap alone takes ~15 min to
    fill it, which showed as +1.2 MB of "growth" in a 600 s flap and not without the quarantine);
  - ASan's own caches pinned small (ASAN_PINNED): a 1 MB quarantine and 64 kB per thread, freed
    pages given back to the OS at once, and malloc_context_size=2, which bounds ASan's stack depot
    (it keeps every distinct allocation stack and grows each time a code path allocates for the
    first time: +552 kB over a 180 s flap with the default 30 frames, +72 kB with 2, same seed);
    LeakSanitizer still finds every leak, its report shows 2 frames of each (rerun with
    --asan-options to get more);
  - the reference and the end are each the median of 6 samples 5 s apart, connected and drained,
    so that one transient peak (a batch being encoded, a drain's last burst) does not decide;
  - judged growth = VmRSS growth, all of it; the split by kind (ASan's heap with redzones and
    quarantine, shadow, files, other anonymous memory) is printed with it.
Without --asan-build the flap runs the plain build the same way (a reference for the RSS).

Both phases run at the same time by default (the flap in a second process of this script, its own
ports and temp dir, its lines prefixed "flap| "); --sequential runs them one after the other.

Usage: tests/soak/soak.py [--build build] [--asan-build build-asan] [--kills 1000]
                          [--flap-seconds 600] [--seed N] [--sequential] [--samples FILE]
                          [--asan-options OPTS]
Prints the figures; exits 1 when a judgement fails.
"""
import argparse
import collections
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time

SOURCE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(SOURCE, "tests", "lib"))
import fgharness as h  # noqa: E402

# ASan's own caches pinned small for the flap (see flap_phase).
ASAN_PINNED = ("quarantine_size_mb=1:thread_local_quarantine_size_kb=64:allocator_release_to_os_interval_ms=0"
               ":malloc_context_size=2")
WARMUP_REQUESTS = 1500  # status requests before the reference: enough to fill ASan's quarantine
FLAP_MAX_S = 30  # outages and up-times of the flap last 1..FLAP_MAX_S s
INFLIGHT = 2
BATCH_MAX = 20
DEVICES = 4
# A reading served this long before a kill must have been committed (commit_interval 200 ms,
# the poll in flight, a late main loop): it must reach the cloud. Later ones may be lost.
WINDOW_MS = 800
SERVED = re.compile(r"^port \d+ unit (\d+): fc 3 addr 0 count \d+ at (\d+) ms$", re.M)


def sql(db, query):
    return subprocess.run(["sqlite3", db, query], capture_output=True, text=True, check=True, timeout=60).stdout.strip()


def write_conf(wd, broker_uri, sim_port, interval="100ms"):
    devices = [("m%d" % u, "meterPk", "gw", u) for u in range(1, DEVICES + 1)]
    conf = h.daemon_config(wd, broker_uri, {"gw": sim_port}, devices,
                           uplink="inflight = %d\nbatch_max_records = %d\n" % (INFLIGHT, BATCH_MAX))
    text = open(conf).read().replace("interval = 1s", "interval = %s" % interval)
    with open(conf, "w") as f:
        f.write(text)
    return conf, devices


class Watchdog:
    """Listens on a NOTIFY_SOCKET like systemd and records the gaps between WATCHDOG=1."""

    def __init__(self, wd):
        self.path = os.path.join(wd, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.2)
        self.pings = []
        self.ready = False
        self.stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop:
            try:
                msg = self.sock.recv(4096).decode(errors="replace")
            except socket.timeout:
                continue
            now = time.monotonic()
            if "READY=1" in msg:
                self.ready = True
            if "WATCHDOG=1" in msg:
                self.pings.append(now)

    def max_gap(self):
        gaps = [b - a for a, b in zip(self.pings, self.pings[1:])]
        return max(gaps) if gaps else None

    def late(self, limit):
        """(start, gap) of every gap longer than limit, start in time.monotonic()."""
        return [(a, b - a) for a, b in zip(self.pings, self.pings[1:]) if b - a > limit]

    def close(self):
        self.stop = True
        self.thread.join(timeout=2)
        self.sock.close()


def kill_phase(args, rnd):
    out = {}
    with h.Workdir("fg-soak-kill-") as wd, h.Stack() as stack:
        broker = stack.push(h.Mosquitto(wd).start())
        sim = stack.push(h.ModbusSim.from_devices(wd, [("m%d" % u, -1, u, u) for u in range(1, DEVICES + 1)],
                                                  extra=["--verbose"]))
        conf, devices = write_conf(wd, broker.uri, sim.ports[0])
        cloud = stack.push(h.CloudSim(wd, broker.uri, [(d[0], d[1]) for d in devices]).start())
        db = os.path.join(wd, "buffer.db")
        lives = []  # (start_ms, kill_ms) of each daemon run
        committed = set()
        integrity_failures = 0
        reload_kills = 0
        t0 = time.monotonic()
        for k in range(args.kills):
            start_ms = int(time.time() * 1000)
            daemon = h.fieldgated(wd, conf)
            h.wait_until(lambda: h.status(conf) is not None or not daemon.alive(), 60, "fieldgated to answer")
            if not daemon.alive():
                raise AssertionError("fieldgated died after restart %d:\n%s" % (k, daemon.log()[-3000:]))
            time.sleep(rnd.uniform(0.3, 4.0))  # a random moment: polling, committing, publishing, deleting
            if rnd.random() < 0.15:
                daemon.signal(signal.SIGHUP)  # kill mid-reload
                time.sleep(rnd.uniform(0, 0.05))
                reload_kills += 1
            kill_ms = int(time.time() * 1000)
            daemon.kill()
            lives.append((start_ms, kill_ms))
            ok = sql(db, "PRAGMA integrity_check")
            if ok != "ok":
                integrity_failures += 1
                print("kill %d: integrity_check: %s" % (k, ok))
            for line in sql(db, "SELECT device, time_ms FROM records").splitlines():
                dev, t = line.split("|")
                committed.add((dev, int(t)))
            if (k + 1) % 50 == 0:
                print("  %d kills, %d records seen committed, %.0f s" % (k + 1, len(committed), time.monotonic() - t0))
                sys.stdout.flush()
        # The end: a last run drains the store with the broker up, then stops cleanly.
        daemon = stack.push(h.fieldgated(wd, conf))
        h.wait_until(lambda: (h.status(conf) or {}).get("store", {}).get("records", 1) == 0 or not daemon.alive(),
                     60, "fieldgated to answer")
        sim.stop()
        h.wait_until(lambda: all(not d["online"] for d in h.status(conf)["devices"]), 30, "devices offline")
        h.wait_until(lambda: h.status(conf)["store"]["records"] == 0 and h.status(conf)["uplink"]["inflight"] == 0,
                     120, "the store to empty")
        h.stop_cleanly(daemon)
        final_store = {(l.split("|")[0], int(l.split("|")[1]))
                       for l in sql(db, "SELECT device, time_ms FROM records").splitlines()}
        for line in sql(db, "SELECT device, time_ms FROM dead_letters").splitlines():
            final_store.add((line.split("|")[0], int(line.split("|")[1])))
        records = cloud.records()
        counts = collections.Counter((r["deviceKey"], r["time"]) for r in records)
        accepted = set(counts)
        lost = committed - accepted - final_store
        dups = sum(n - 1 for n in counts.values())
        # Every reading a device served during a run, longer than WINDOW_MS before its kill, was
        # committed: it must be in the cloud (by device and tick, the serve time the record carries).
        in_cloud = {(r["deviceKey"], r["measurepoints"]["tick"]) for r in records}
        stored_ticks = {(l.split("|")[0], json.loads(l.split("|", 1)[1])["measurepoints"]["tick"])
                        for l in sql(db, "SELECT device, body FROM records").splitlines()}
        must = set()
        for unit, ms in SERVED.findall(sim.proc.log()):
            ms = int(ms)
            if any(a <= ms < b - WINDOW_MS for a, b in lives):
                must.add(("m" + unit, (ms // 100) % 2 ** 32))
        lost_served = must - in_cloud - stored_ticks
        out.update(kills=args.kills, reload_kills=reload_kills, committed_seen=len(committed),
                   served_before_window=len(must), lost_served=len(lost_served),
                   accepted=len(accepted), lost=len(lost), duplicates=dups,
                   duplicate_bound=args.kills * INFLIGHT * BATCH_MAX, integrity_failures=integrity_failures,
                   seconds=round(time.monotonic() - t0))
        if lost:
            print("lost, first 10:", sorted(lost)[:10])
        if lost_served:
            print("served long before a kill but never delivered, first 10:", sorted(lost_served)[:10])
    return out


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


# Where ASan (x86_64 Linux) keeps its memory, to split the daemon's RSS: the primary allocator's
# fixed space (every malloc below the secondary's threshold: user bytes, redzones, quarantine, free
# chunks not yet given back) and the shadow (one byte per 8 bytes of application memory).
ASAN_HEAP = (0x600000000000, 0x640000000000)
ASAN_SHADOW = (0x00007FFF8000, 0x10007FFF8000)

def rss_split_kb(pid):
    """RSS by kind from /proc/PID/smaps: asan_heap, shadow, file (binaries, libraries), anon (the
    rest: thread stacks, large mallocs, ASan's stack depot and internal allocator; without ASan
    also the glibc heap)."""
    split = dict(asan_heap=0, shadow=0, file=0, anon=0)
    kind = None
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            head = line.split(None, 1)[0]
            if "-" in head and not head.endswith(":"):
                lo = int(head.split("-")[0], 16)
                parts = line.split(None, 5)
                name = parts[5].strip() if len(parts) > 5 else ""
                if ASAN_HEAP[0] <= lo < ASAN_HEAP[1]:
                    kind = "asan_heap"
                elif ASAN_SHADOW[0] <= lo < ASAN_SHADOW[1]:
                    kind = "shadow"
                elif name and not name.startswith("["):
                    kind = "file"
                else:
                    kind = "anon"
            elif head == "Rss:":
                split[kind] += int(line.split()[1])
    return split


class RssSampler:
    """Samples the daemon's RSS and its split every `period` s, for the record and the curve."""

    def __init__(self, pid, period=5.0):
        self.pid = pid
        self.period = period
        self.t0 = time.monotonic()
        self.samples = []  # (seconds since start, label, VmRSS kB, split)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def sample(self, label=""):
        try:
            s = (round(time.monotonic() - self.t0, 1), label, rss_kb(self.pid), rss_split_kb(self.pid),
                 os.getloadavg()[0])
        except (OSError, ValueError):
            return None
        self.samples.append(s)
        return s

    def _run(self):
        while not self.stop.wait(self.period):
            self.sample()

    def close(self):
        self.stop.set()
        self.thread.join(timeout=5)


def rss_window(sampler, label, n=6, period=5.0):
    """The median of n samples `period` s apart (VmRSS and each kind)."""
    got = []
    for i in range(n):
        if i:
            time.sleep(period)
        got.append(sampler.sample(label))
    med = lambda xs: sorted(xs)[len(xs) // 2]  # noqa
    return med([g[2] for g in got]), {k: med([g[3][k] for g in got]) for k in got[0][3]}


def flap_phase(args, rnd):
    out = {}
    bin_dir = os.path.join(os.path.abspath(args.asan_build or args.build), "bin")
    with h.Workdir("fg-soak-flap-") as wd, h.Stack() as stack:
        broker = stack.push(h.Mosquitto(wd).start())
        sim = stack.push(h.ModbusSim.from_devices(wd, [("m%d" % u, -1, u, u) for u in range(1, DEVICES + 1)]))
        conf, devices = write_conf(wd, broker.uri, sim.ports[0], interval="1s")
        cloud = stack.push(h.CloudSim(wd, broker.uri, [(d[0], d[1]) for d in devices]).start())
        dog = Watchdog(wd)
        env = dict(os.environ, NOTIFY_SOCKET=dog.path, WATCHDOG_USEC="2000000")
        if args.asan_build:
            env["ASAN_OPTIONS"] = "detect_leaks=1:halt_on_error=1:" + args.asan_options
            env["UBSAN_OPTIONS"] = "halt_on_error=1:print_stacktrace=1"
        daemon = stack.push(h.Proc("fieldgated", [os.path.join(bin_dir, "fieldgated"), "-c", conf], wd, env=env))
        sampler = RssSampler(daemon.proc.pid)
        h.wait_until(lambda: dog.ready, 60, "READY=1")
        h.wait_until(lambda: len(cloud.records()) >= DEVICES * 3, 60, "records flowing")
        # Warm-up: one outage as long as the longest of the flap, and its drain, so the reference
        # RSS already includes what a reconnect and the largest backlog allocate once (SQLite's
        # page cache, batches, Paho's buffers, ASan's free lists at their high-water mark).
        broker.stop()
        time.sleep(FLAP_MAX_S)
        broker.start()
        steady = lambda: h.status(conf)["uplink"]["connected"] and h.status(conf)["store"]["records"] <= DEVICES  # noqa
        h.wait_until(steady, 120, "the backlog to drain after the warm-up outage")
        # Then fill ASan's quarantine (FIFO, 1 MB): freed chunks stay resident in it until 1 MB of
        # later frees pushes them out, and at 4 polls a second that takes the daemon ~15 minutes,
        # which would show up as "growth" over the flap. Status requests churn the allocator fast.
        for _ in range(WARMUP_REQUESTS):
            h.status(conf)
        time.sleep(5)
        start = rss_window(sampler, "start")
        t_end = time.monotonic() + args.flap_seconds
        flaps = 0
        while time.monotonic() < t_end:
            broker.stop()
            time.sleep(min(rnd.uniform(1, FLAP_MAX_S), max(0, t_end - time.monotonic())))
            broker.start()
            flaps += 1
            time.sleep(min(rnd.uniform(1, FLAP_MAX_S), max(0, t_end - time.monotonic())))
        # Back to a steady state before the second reading: connected and drained.
        h.wait_until(steady, 120, "the backlog to drain after the last flap")
        time.sleep(5)
        end = rss_window(sampler, "end")
        sampler.close()
        if args.samples:
            with open(args.samples, "w") as f:
                f.write(json.dumps(dict(asan_options=env.get("ASAN_OPTIONS"), seed=args.seed_used)) + "\n")
                for x in sampler.samples:
                    f.write(json.dumps(dict(t=x[0], label=x[1], rss_kb=x[2], load1=x[4], **x[3])) + "\n")
        final = h.assert_every_poll_delivered(conf, cloud, sim)
        stop_problem = None
        try:
            h.stop_cleanly(daemon)
        except AssertionError as e:  # a sanitizer report (a leak) or an unclean exit: judged below
            stop_problem = str(e)
            print(stop_problem)
        stack.items.remove(daemon)  # stopped and judged: the stack must not raise it again
        dog.close()
        gap = dog.max_gap()
        split = {k: end[1][k] - start[1][k] for k in start[1]}
        out.update(seconds=args.flap_seconds, flaps=flaps, asan=bool(args.asan_build),
                   asan_options=env.get("ASAN_OPTIONS"), rss_start_kb=start[0], rss_end_kb=end[0],
                   rss_growth_kb=end[0] - start[0], rss_growth_split_kb=split, watchdog_pings=len(dog.pings),
                   watchdog_max_gap_s=round(gap, 3) if gap else None,
                   polls_ok=sum(d["polls_ok"] for d in final["devices"]),
                   readings_dropped=final["store"]["readings_dropped"], connects=final["uplink"]["connects"],
                   clean_stop=stop_problem is None)
        out["load1_max"] = max(x[4] for x in sampler.samples)
        # A late WATCHDOG=1 with the machine's load around it, as evidence of what made it late.
        out["watchdog_late"] = [dict(at_s=round(t - sampler.t0, 1), gap_s=round(g, 3),
                                     load1=min(sampler.samples, key=lambda x: abs(x[0] - (t - sampler.t0)))[4])
                                for t, g in dog.late(2.0)]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(SOURCE, "build"))
    ap.add_argument("--asan-build", default=None, help="run the flap phase with this build's fieldgated")
    ap.add_argument("--kills", type=int, default=1000)
    ap.add_argument("--flap-seconds", type=int, default=600)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--asan-options", default=ASAN_PINNED,
                    help="ASAN_OPTIONS of the flap's daemon, after detect_leaks=1:halt_on_error=1")
    ap.add_argument("--samples", default=None, help="write the flap's RSS samples (JSON lines) here")
    ap.add_argument("--sequential", action="store_true",
                    help="run the flap after the kills instead of at the same time in a second process")
    args = ap.parse_args()
    h.BIN = os.path.join(os.path.abspath(args.build), "bin")
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    args.seed_used = seed
    rnd = random.Random(seed)
    started = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    failures = []
    flap_child = None
    if args.kills > 0 and args.flap_seconds > 0 and not args.sequential:
        # Both phases at once: the flap in a second process of this script (its own ports, temp
        # dir, random generator seeded with the same seed), its lines prefixed with "flap| ".
        argv = [sys.executable, "-u", os.path.abspath(__file__), "--build", args.build, "--kills", "0",
                "--flap-seconds", str(args.flap_seconds), "--seed", str(seed), "--asan-options", args.asan_options]
        if args.asan_build:
            argv += ["--asan-build", args.asan_build]
        if args.samples:
            argv += ["--samples", args.samples]
        flap_child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        relay = threading.Thread(target=lambda: [print("flap| " + l, end="", flush=True) for l in flap_child.stdout],
                                 daemon=True)
        relay.start()
        args.flap_seconds = 0
    kill = kill_phase(args, rnd) if args.kills > 0 else None
    if kill:
        if kill["lost"]:
            failures.append("lost %d committed records" % kill["lost"])
        if kill["lost_served"]:
            failures.append("%d readings served more than %d ms before a kill never delivered"
                            % (kill["lost_served"], WINDOW_MS))
        if kill["duplicates"] > kill["duplicate_bound"]:
            failures.append("duplicates %d over the bound %d" % (kill["duplicates"], kill["duplicate_bound"]))
        if kill["integrity_failures"]:
            failures.append("integrity_check failed %d times" % kill["integrity_failures"])
    flap = flap_phase(args, rnd) if args.flap_seconds > 0 else None
    if flap:
        if flap["rss_growth_kb"] >= 1024:
            failures.append("RSS grew by %d kB over the flap" % flap["rss_growth_kb"])
        if flap["watchdog_max_gap_s"] is None or flap["watchdog_max_gap_s"] > 2.0:
            failures.append("watchdog gap %r s > WATCHDOG_USEC 2 s" % flap["watchdog_max_gap_s"])
        if flap["readings_dropped"]:
            failures.append("%d readings dropped" % flap["readings_dropped"])
        if not flap["clean_stop"]:
            failures.append("fieldgated did not stop cleanly (sanitizer report above)")
    print("fieldgate soak, %s UTC, seed %d" % (started, seed))
    if kill:
        print("  kills: %s" % json.dumps(kill))
    if flap:
        print("  flap:  %s" % json.dumps(flap))
    print("  verdict: %s" % ("FAILED: " + "; ".join(failures) if failures else "ok"))
    if flap_child:
        rc = flap_child.wait()
        relay.join(timeout=10)
        print("flap process exit %d; kill phase %s" % (rc, "FAILED" if failures else "ok"))
        return 1 if failures or rc else 0
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
