"""Process harness shared by the integration tests, the demo and the benchmarks.

Starts real programs on loopback (mosquitto, the Modbus simulator, the cloud simulator,
fieldgated), waits for them with bounded waits, and stops them by pid. Nothing here sleeps
to "let things settle": every wait polls a condition with a deadline.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

SOURCE = os.environ.get("FG_SOURCE") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("FG_BIN") or os.path.join(SOURCE, "build", "bin")
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


def wait_until(predicate, timeout, what, interval=0.05):
    """Polls predicate() until it returns a truthy value; raises AssertionError after timeout s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(interval)


class Proc:
    """A child process with its output in a log file."""

    def __init__(self, name, argv, workdir, env=None):
        self.name = name
        self.argv = argv
        self.log_path = os.path.join(workdir, name + ".log")
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(argv, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     env=env, start_new_session=True)

    def alive(self):
        return self.proc.poll() is None

    def stop(self, timeout=10, sig=signal.SIGTERM):
        """Sends sig and waits; SIGKILL after timeout. Returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self._log.close()
        return self.proc.returncode

    def signal(self, sig):
        self.proc.send_signal(sig)

    def log(self):
        try:
            with open(self.log_path, "r", errors="replace") as f:
                return f.read()
        except OSError:
            return ""


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
        self.proc = Proc("mosquitto", [MOSQUITTO, "-c", self.conf], self.workdir)
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
    return Proc("fieldgated", [os.path.join(BIN, "fieldgated"), "-c", config_path] + list(extra), workdir)


def fieldgatectl(config_path, *args, timeout=10):
    return subprocess.run([os.path.join(BIN, "fieldgatectl"), "-c", config_path] + list(args),
                          capture_output=True, text=True, timeout=timeout)


def status(config_path):
    """The running daemon's status JSON, or None when it does not answer."""
    r = fieldgatectl(config_path, "status", "--json")
    if r.returncode != 0:
        return None
    return json.loads(r.stdout)
