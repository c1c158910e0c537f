"""Process harness shared by the integration tests, the demo and the benchmarks.

Starts real programs on loopback (mosquitto, the Modbus simulator, the cloud simulator,
fieldgated), waits for them with bounded waits, and stops them by pid. Nothing here sleeps
to "let things settle": every wait polls a condition with a deadline.
"""
import atexit
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time

SOURCE = os.environ.get("FG_SOURCE") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("FG_BIN") or os.path.join(SOURCE, "build", "bin")
# Cross-built programs (make check-cross): FG_WRAP runs fieldgated and fieldgatectl under qemu-user
# ("qemu-aarch64-static -L <library root>"); the simulators are native ones from FG_TOOLS_BIN.
WRAP = os.environ.get("FG_WRAP", "").split()
TOOLS_BIN = os.environ.get("FG_TOOLS_BIN") or BIN
# Bounded waits for the daemon grow by this factor under emulation (qemu is 5-20 times slower).
SLOW = float(os.environ.get("FG_SLOW", "1"))
MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port, host="127.0.0.1"):
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


def emulated(argv):
    """Under FG_WRAP (make check-cross), a program of BIN started directly runs under qemu-user,
    and the simulators are the native ones of FG_TOOLS_BIN."""
    if not WRAP or not argv or os.path.dirname(os.path.abspath(argv[0])) != os.path.abspath(BIN):
        return argv
    name = os.path.basename(argv[0])
    if name.startswith("fieldgate-") and name.endswith("-sim"):
        return [os.path.join(TOOLS_BIN, name)] + list(argv[1:])
    return WRAP + list(argv)


def wait_until(predicate, timeout, what, interval=0.05):
    """Polls predicate() until it returns a truthy value; raises AssertionError after timeout s."""
    timeout *= SLOW
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(interval)


# What AddressSanitizer, LeakSanitizer and UBSan print when they find something (sanitizer
# builds: make sanitize, CI). Any of these in a process's log fails the test that started it.
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                     "SUMMARY: UndefinedBehaviorSanitizer", "AddressSanitizer:DEADLYSIGNAL")

# Every process the harness spawned and has not stopped yet, oldest first. The harness owns a
# process from the moment it spawns it: a Stack stops what was spawned inside it (a start that
# failed half-way included) and nothing survives the test's interpreter (atexit below).
_LIVE = []
_SERIAL = [0]


def _kill_survivors():
    for p in reversed(list(_LIVE)):
        try:
            os.killpg(p.proc.pid, signal.SIGKILL)
        except OSError:
            pass
        try:
            p.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass


atexit.register(_kill_survivors)


class Proc:
    """A child process with its output in a log file.

    `strict` (the default for fieldgate's own programs, not for mosquitto): stop() raises when the
    program exits non-zero on SIGTERM, dies on its own, or printed a sanitizer report."""

    def __init__(self, name, argv, workdir, env=None, strict=True):
        self.name = name
        self.argv = argv
        self.strict = strict
        self.killed = False  # set by kill(): an exit by SIGKILL is what the test asked for
        self.log_path = os.path.join(workdir, name + ".log")
        self._log = open(self.log_path, "ab")
        self._log_start = self._log.tell()  # a restarted program appends: judge only this run
        argv = emulated(argv)
        self.proc = subprocess.Popen(argv, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     env=env, start_new_session=True)
        _SERIAL[0] += 1
        self.serial = _SERIAL[0]
        _LIVE.append(self)

    def alive(self):
        return self.proc.poll() is None

    def stop(self, timeout=10, sig=signal.SIGTERM):
        """Sends sig and waits; SIGKILL after timeout. Returns the exit code; raises AssertionError
        (strict processes) on a sanitizer report, a death the test did not cause, or a non-zero
        exit on sig."""
        died_before = self.proc.poll() is not None
        timed_out = False
        if not died_before:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout * SLOW)
            except subprocess.TimeoutExpired:
                timed_out = True
                self.proc.kill()
                self.proc.wait(timeout=5)
        if not self._log.closed:
            self._log.close()
        if self in _LIVE:
            _LIVE.remove(self)
        rc = self.proc.returncode
        report = self.sanitizer_report()
        if report:
            raise AssertionError("%s: sanitizer report:\n%s" % (self.name, report))
        if self.strict and not self.killed:
            if timed_out:
                raise AssertionError("%s did not stop within %d s of signal %d" % (self.name, timeout, sig))
            if died_before and rc != 0:
                raise AssertionError("%s died on its own with exit %r:\n%s" % (self.name, rc, self.log()[-4000:]))
            if sig == signal.SIGTERM and rc != 0:
                raise AssertionError("%s exited %r on SIGTERM:\n%s" % (self.name, rc, self.log()[-4000:]))
        return rc

    def kill(self):
        """SIGKILL, on purpose (a crash test): the exit it causes is not a failure, but a process
        that had already died on its own, or printed a sanitizer report, is (as in stop())."""
        if self.proc.poll() is None:
            self.killed = True
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)
        return self.stop()

    def signal(self, sig):
        self.proc.send_signal(sig)

    def log(self):
        try:
            with open(self.log_path, "r", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def sanitizer_report(self):
        """The sanitizer report this run of the program printed, or "" (bounded to 6000 chars)."""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(self._log_start)
                text = f.read().decode("utf-8", "replace")
        except OSError:
            return ""
        hits = [text.find(m) for m in SANITIZER_MARKERS if m in text]
        if not hits:
            return ""
        start = max(0, min(hits) - 200)
        return text[start:start + 6000]


class Mosquitto:
    """A private mosquitto on a loopback port, with its own config."""

    def __init__(self, workdir, port=None):
        self.workdir = workdir
        self.port = port or free_port()
        self.conf = os.path.join(workdir, "mosquitto.conf")
        with open(self.conf, "w") as f:
            f.write("listener %d 127.0.0.1\nallow_anonymous true\npersistence false\n"
                    "set_tcp_nodelay true\nmax_inflight_messages 0\nmax_queued_messages 100000\n" % self.port)
        self.proc = None

    def start(self):
        self.proc = Proc("mosquitto", [MOSQUITTO, "-c", self.conf], self.workdir, strict=False)
        wait_until(lambda: port_open(self.port) or not self.proc.alive(), 10, "mosquitto on port %d" % self.port)
        if not self.proc.alive():
            raise AssertionError("mosquitto did not start:\n" + self.proc.log())
        return self

    def stop(self):
        if self.proc:
            self.proc.stop()
            self.proc = None

    @property
    def uri(self):
        return "tcp://127.0.0.1:%d" % self.port


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    return path


def read_jsonl(path):
    """Every complete JSON line of a file (a line still being written is skipped)."""
    out = []
    try:
        with open(path, "r") as f:
            for line in f:
                if line.endswith("\n") and line.strip():
                    out.append(json.loads(line))
    except FileNotFoundError:
        pass
    return out


class Workdir:
    """A temporary folder, kept when FG_KEEP is set (for post-mortems)."""

    def __init__(self, prefix):
        self.path = tempfile.mkdtemp(prefix=prefix)

    def __enter__(self):
        return self.path

    def __exit__(self, *exc):
        if exc[0] is not None or os.environ.get("FG_KEEP"):
            print("work files kept in", self.path)
            for name in sorted(os.listdir(self.path)):
                if name.endswith(".log"):
                    with open(os.path.join(self.path, name), errors="replace") as f:
                        tail = f.read()[-4000:]
                    print("==== %s (tail) ====\n%s" % (name, tail))
        else:
            shutil.rmtree(self.path, ignore_errors=True)
        return False


def fieldgated(workdir, config_path, extra=()):
    return Proc("fieldgated", WRAP + [os.path.join(BIN, "fieldgated"), "-c", config_path] + list(extra), workdir)


def fieldgatectl(config_path, *args, timeout=10):
    return subprocess.run(WRAP + [os.path.join(BIN, "fieldgatectl"), "-c", config_path] + list(args),
                          capture_output=True, text=True, timeout=timeout * SLOW)


def status(config_path):
    """The running daemon's status JSON, or None when it does not answer."""
    r = fieldgatectl(config_path, "status", "--json")
    if r.returncode != 0:
        return None
    return json.loads(r.stdout)


class ModbusSim:
    """fieldgate-modbus-sim on loopback; `ports` are the real ports it listens on."""

    def __init__(self, workdir, args, expect_ports=1):
        self.proc = Proc("modbus-sim", [os.path.join(TOOLS_BIN, "fieldgate-modbus-sim")] + list(args), workdir)
        lines = wait_until(lambda: self._listening(expect_ports) or (not self.proc.alive() and ["dead"]), 10,
                           "the Modbus simulator to listen")
        if not self.proc.alive():
            raise AssertionError("fieldgate-modbus-sim did not start:\n" + self.proc.log())
        self.ports = [int(l.split()[2].rsplit(":", 1)[1]) for l in lines]

    @classmethod
    def from_devices(cls, workdir, devices, profile="demo", extra=()):
        """devices: [(name, port, unit_id, seed)]; a port of 0 is replaced by a free one (shared by
        every device that names the same 0-based slot via negative numbers: -1, -2, ...)."""
        slots = {}
        text = "[sim]\nlisten = 127.0.0.1\n"
        for name, port, unit, seed in devices:
            if port <= 0:
                port = slots.setdefault(port, free_port())
            text += "\n[device.%s]\nport = %d\nunit_id = %d\nprofile = %s\nseed = %d\n" % (name, port, unit, profile, seed)
        conf = write(os.path.join(workdir, "modbus-sim.ini"), text)
        return cls(workdir, ["-c", conf] + list(extra), expect_ports=len({d[1] for d in devices}))

    def _listening(self, n):
        lines = [l for l in self.proc.log().splitlines() if l.startswith("listening on ")]
        return lines if len(lines) >= n else None

    def stop(self):
        return self.proc.stop()


class SerialPair:
    """Two pseudo-terminals joined by socat, as a serial line: fieldgated opens `daemon_end`,
    the simulator `sim_end` (links in the work folder). stop() removes the line, as unplugging a
    USB adapter does; start() makes it again under the same names."""

    def __init__(self, workdir, name="line"):
        self.workdir = workdir
        self.name = name
        self.daemon_end = os.path.join(workdir, name + "-fg")
        self.sim_end = os.path.join(workdir, name + "-sim")
        self.proc = None

    def start(self):
        self.proc = Proc("socat-" + self.name, [shutil.which("socat") or "/usr/bin/socat", "-d", "-d",
                                                "pty,rawer,link=" + self.daemon_end,
                                                "pty,rawer,link=" + self.sim_end], self.workdir, strict=False)
        wait_until(lambda: (os.path.exists(self.daemon_end) and os.path.exists(self.sim_end)) or not self.proc.alive(),
                   10, "socat to make the pty pair")
        if not self.proc.alive():
            raise AssertionError("socat did not start:\n" + self.proc.log())
        return self

    def stop(self):
        if self.proc:
            self.proc.stop()
            self.proc = None
        wait_until(lambda: not os.path.exists(self.daemon_end), 10, "the pty link to go")


class RtuSim:
    """fieldgate-modbus-sim serving RTU slaves on one end of a SerialPair."""

    def __init__(self, workdir, path, units="1", extra=(), name="modbus-sim-rtu"):
        self.proc = Proc(name, [os.path.join(TOOLS_BIN, "fieldgate-modbus-sim"), "--rtu", path, "--units", units]
                         + list(extra), workdir)
        wait_until(lambda: "serving RTU on" in self.proc.log() or not self.proc.alive(), 10,
                   "the Modbus simulator on " + path)
        if not self.proc.alive():
            raise AssertionError("fieldgate-modbus-sim did not start:\n" + self.proc.log())

    def stop(self):
        return self.proc.stop()



def threads_named(pid, prefix):
    """The names of a process's threads that start with `prefix` (/proc/PID/task/*/comm)."""
    names = []
    for tid in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
            name = f.read().strip()
        if name.startswith(prefix):
            names.append(name)
    return names


def devices_by_name(config_path):
    """The status's devices by name, or None while fieldgated does not answer."""
    st = status(config_path)
    return {d["name"]: d for d in st["devices"]} if st else None


def good_polls_over(config_path, live, failing, window_s):
    """Once every `live` device has 2 good polls and every `failing` one 2 failed ones, counts the
    good polls of the live ones over `window_s` seconds. Returns (counts by name, elapsed s, the
    floor a device kept on time at a 1 s interval meets (one a second, less 2 for the window's
    edges and the status calls), the devices by name at the end)."""
    def settled():
        b = devices_by_name(config_path)
        return b and all(b[n]["polls_ok"] >= 2 for n in live) and all(b[n]["polls_failed"] >= 2 for n in failing)
    wait_until(settled, 60, "2 good polls of every live device and 2 failed ones of every failing one")
    b0 = devices_by_name(config_path)
    t0 = time.monotonic()
    time.sleep(window_s)
    b1 = devices_by_name(config_path)
    elapsed = time.monotonic() - t0
    return {n: b1[n]["polls_ok"] - b0[n]["polls_ok"] for n in live}, elapsed, int(elapsed) - 2, b1

def rtu_bus(device, extra=""):
    """A [bus.*] body for daemon_config's rtu_buses."""
    return "type = rtu\ndevice = %s\nbaud = 115200\ntimeout = 300ms\nframe_gap = 2ms\n%s" % (device, extra)


# The demo profile's sub-device model (tools/modbus-sim/README.md) as fieldgated and the cloud
# simulator each describe it.
DEMO_MODEL = """tick = holding:0 uint32
power = holding:2 float32 ABCD
energy = holding:4 float32 CDAB
phase = holding:6 int16
counter = holding:7 uint16
temp = input:0 int16 scale=0.01
total = input:1 int32
"""
DEMO_PRODUCT = """tick = integer
power = number
energy = number
phase = integer
counter = integer
temp = number
total = integer
"""


class CloudSim:
    """fieldgate-cloud-sim with its own INI; records() reads what it accepted."""

    def __init__(self, workdir, broker_uri, devices, gw=("gwPk", "gwDk"), product="meterPk", faults=None,
                 extra_products="", points=DEMO_PRODUCT):
        self.records_path = os.path.join(workdir, "cloud-records.jsonl")
        self.stats_path = os.path.join(workdir, "cloud-stats.json")
        text = ("[hub]\nbroker = %s\nrecords = %s\n\n[gateway]\nproduct_key = %s\ndevice_key = %s\n"
                "device_secret = gwSecret\n\n[product.%s]\n%s\n%s"
                % (broker_uri, self.records_path, gw[0], gw[1], product, points, extra_products))
        for name, pk in devices:
            text += "\n[device.%s]\nproduct_key = %s\ndevice_key = %s\ndevice_secret = %sSecret\n" % (name, pk, name, name)
        if faults:
            text += "\n[faults]\n" + "".join("%s = %s\n" % kv for kv in faults.items())
        self.conf = write(os.path.join(workdir, "cloud-sim.ini"), text)
        self.workdir = workdir
        self.proc = None

    def start(self):
        self.proc = Proc("cloud-sim", [os.path.join(TOOLS_BIN, "fieldgate-cloud-sim"), "-c", self.conf,
                                       "--stats", self.stats_path], self.workdir)
        wait_until(lambda: "ready:" in self.proc.log() or not self.proc.alive(), 15, "the cloud simulator")
        if not self.proc.alive():
            raise AssertionError("fieldgate-cloud-sim did not start:\n" + self.proc.log())
        return self

    def records(self):
        return read_jsonl(self.records_path)

    def stop(self):
        return self.proc.stop() if self.proc else None


def cloud_send(broker, wd, requests, product="meterPk", timeout_ms=15000):
    """Sends (device, service, params) measurepoint requests as the cloud does, with
    fieldgate-cloud-sim --send; returns their replies (dicts), in order."""
    lines = []
    for n, (device, service, params) in enumerate(requests):
        payload = {"id": "t%d-%d" % (time.monotonic_ns(), n), "version": "1.0",
                   "method": "thing.service.measurepoint.%s" % service, "params": params}
        lines.append("/sys/%s/%s/thing/service/measurepoint/%s %s" % (product, device, service, json.dumps(payload)))
    path = write(os.path.join(wd, "requests-%d.txt" % time.monotonic_ns()), "\n".join(lines) + "\n")
    out = subprocess.run([os.path.join(TOOLS_BIN, "fieldgate-cloud-sim"), "--broker", broker.uri, "--send", path,
                          "--timeout-ms", str(timeout_ms)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    replies = []
    for line in out.stdout.splitlines():
        rec = json.loads(line)
        assert rec["reply"] is not None, "no reply to %s" % rec["request"]
        reply = json.loads(rec["reply"])
        assert reply["id"] == json.loads(rec["request"])["id"], rec
        replies.append(reply)
    assert len(replies) == len(requests), out.stdout
    return replies


def daemon_config(workdir, broker_uri, buses, devices, gw=("gwPk", "gwDk"), model=DEMO_MODEL, uplink="", store="",
                  rtu_buses=None, device_extra=""):
    """Writes a fieldgated config; buses: {name: port}, rtu_buses: {name: rtu_bus(...)},
    devices: [(name, pk, bus, unit_id)]; device_extra: more keys for every device."""
    text = ("[gateway]\nproduct_key = %s\ndevice_key = %s\ndevice_secret = gwSecret\ncontrol_socket = %s\n\n"
            "[mqtt]\nuri = %s\n\n[store]\npath = %s\ncommit_interval = 200ms\n%s\n"
            "[uplink]\nreply_timeout = 3s\nretry_min = 200ms\nretry_max = 2s\n%s\n"
            "[model.meter]\n%s\n"
            % (gw[0], gw[1], os.path.join(workdir, "control.sock"), broker_uri, os.path.join(workdir, "buffer.db"),
               store, uplink, model))
    for name, port in buses.items():
        text += "[bus.%s]\ntype = tcp\nhost = 127.0.0.1\nport = %d\ntimeout = 500ms\n\n" % (name, port)
    for name, body in (rtu_buses or {}).items():
        text += "[bus.%s]\n%s\n" % (name, body)
    for name, pk, bus, unit in devices:
        text += ("[device.%s]\nproduct_key = %s\ndevice_key = %s\ndevice_secret = %sSecret\nmodel = meter\n"
                 "bus = %s\nunit_id = %d\ninterval = 1s\noffline_after = 2\nprobe_max = 2s\n%s\n"
                 % (name, pk, name, name, bus, unit, device_extra))
    return write(os.path.join(workdir, "fieldgate.ini"), text)


def f32(x):
    """A double rounded to float32, as the simulator does."""
    return struct.unpack(">f", struct.pack(">f", x))[0]


def check_demo_record(rec, seed):
    """Asserts that a cloud record carries exactly what the demo profile served (README formulas).

    tick pins the moment the holding block was served: floor(served_ms / 100)."""
    mp = rec["measurepoints"]
    # tick = floor(served_ms / 100) mod 2^32: unwrap it with the record's own time.
    wraps = round((rec["time"] // 100 - mp["tick"]) / 2 ** 32)
    tick = mp["tick"] + wraps * 2 ** 32
    secs = tick // 10
    where = "%s at %d: %r" % (rec["deviceKey"], rec["time"], mp)
    assert mp["power"] == seed * 100 + 0.25, where
    assert mp["energy"] == seed * 10 + secs % 60, where
    assert mp["phase"] == -seed * 7, where
    assert mp["counter"] == secs % 1000, where
    assert abs(mp["temp"] - (2150 + seed) * 0.01) < 1e-9, where
    assert mp["total"] == seed * 100000 + 1, where
    # Stamped when the first block's reply arrived: at or after the served time, well within a poll.
    served_ms = tick * 100
    assert served_ms - 100 <= rec["time"] < served_ms + 2000, where + " (tick %d)" % tick


def cpu_by_thread(pid):
    """On-CPU seconds of a process by thread name (/proc/PID/task/*/schedstat, ns precision);
    bus threads, named "bus:...", are counted together."""
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
                name = f.read().strip()
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                ns = int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            continue  # a thread that ended meanwhile
        key = "bus threads" if name.startswith("bus:") else name
        out[key] = out.get(key, 0.0) + ns / 1e9
    return out


def cpu_s(pid):
    """On-CPU seconds of every thread of a process; from /proc/PID/stat in clock ticks (10 ms)
    where the kernel keeps no schedstat."""
    threads = cpu_by_thread(pid)
    if threads:
        return sum(threads.values())
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


class Stack:
    """Processes started by a test, stopped in reverse order when the block ends, whatever
    happened, together with any process the harness spawned inside the block and nobody pushed
    (a start that failed half-way); `run(main)` prints the closing line ctest and CI read.

    A stop that fails (sanitizer report, non-zero exit on SIGTERM) fails the test when the block
    itself ended without an exception; otherwise it is printed and the test's own failure stands."""

    def __init__(self):
        self.items = []
        self.first_serial = _SERIAL[0] + 1

    def push(self, item):
        self.items.append(item)
        return item

    def __enter__(self):
        self.first_serial = _SERIAL[0] + 1
        return self

    def __exit__(self, *exc):
        errors = []
        for item in reversed(self.items):
            try:
                item.stop()
            except Exception as e:  # a failing stop must not hide the test's own failure
                errors.append("stopping %s: %s" % (getattr(item, "name", type(item).__name__), e))
        for p in reversed([p for p in _LIVE if p.serial >= self.first_serial]):
            try:
                p.stop()
            except Exception as e:
                errors.append("stopping %s: %s" % (p.name, e))
        for e in errors:
            print(e)
        if errors and exc[0] is None:
            raise AssertionError("; ".join(errors))
        return False


def run(main):
    main()
    print("1 passed, 0 failed")


def assert_every_poll_delivered(conf, cloud, sim):
    """Stops the devices, waits for the gateway to send what it holds, and checks the books:
    for each device, the distinct records in the cloud equal its good polls. Returns the final
    status."""
    sim.stop()
    wait_until(lambda: all(not d["online"] for d in status(conf)["devices"]), 30, "devices to go offline")
    wait_until(lambda: (lambda st: st["store"]["records"] == 0 and st["store"]["pending_commit"] == 0 and
                        st["uplink"]["inflight"] == 0)(status(conf)), 60, "the store to empty")
    final = status(conf)
    distinct = {}
    for rec in cloud.records():
        distinct.setdefault(rec["deviceKey"], set()).add(rec["time"])
    for d in final["devices"]:
        got = len(distinct.get(d["name"], ()))
        assert got == d["polls_ok"], "%s: %d good polls, %d distinct records in the cloud" % (
            d["name"], d["polls_ok"], got)
    assert final["store"]["dead_letters"] == {}, final["store"]
    return final


def stop_cleanly(daemon):
    rc = daemon.stop(timeout=5)
    assert rc == 0, "fieldgated exited %r on SIGTERM:\n%s" % (rc, daemon.log())
    return daemon.log()
