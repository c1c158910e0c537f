"""Watchdog (DESIGN.md "The worst day"): under a fake NOTIFY_SOCKET with WATCHDOG_USEC set,
fieldgated sends WATCHDOG=1 while every bus thread is alive; a bus thread hung beyond its
worst-case poll (time-out x blocks) stops WATCHDOG=1 and shows in status (buses[].alive,
stalled_ms) and STATUS=; when the bus comes back, so does WATCHDOG=1.

First a Modbus TCP device that answers one byte every 100 ms: with libmodbus (whose byte
time-out restarts with every byte) that held the bus thread for about 26 s per read; fieldgate's
own framing gives up at the 500 ms time-out however the reply trickles, so the bus stays alive,
the polls fail as timed out and WATCHDOG=1 keeps coming. Then the hang itself, injected: the
daemon runs with tests/lib/hang_shim.cpp preloaded, which stops every poll() of a "bus:*" thread
while a file exists."""
import os
import socket
import struct
import threading
import time

from fgharness import Proc, BIN, Stack, Workdir, daemon_config, free_port, run, status, wait_until, write

WATCHDOG_USEC = 2_000_000


class Notifications:
    """A unix datagram socket standing in for systemd's NOTIFY_SOCKET."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.2)
        self.messages = []  # (monotonic s, line)
        self.lock = threading.Lock()
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while self.running:
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                for line in data.decode(errors="replace").splitlines():
                    self.messages.append((time.monotonic(), line))

    def pings(self, since=0.0):
        with self.lock:
            return [t for t, m in self.messages if m == "WATCHDOG=1" and t >= since]

    def last_status(self):
        with self.lock:
            lines = [m for _, m in self.messages if m.startswith("STATUS=")]
        return lines[-1] if lines else ""

    def stop(self):
        self.running = False
        self.sock.close()


class TricklingDevice:
    """A Modbus TCP server that answers FC3/FC4 correctly, but one byte every `gap` seconds
    while `trickle` is set (at once otherwise)."""

    def __init__(self, gap=0.1):
        self.port = free_port()
        self.gap = gap
        self.trickle = threading.Event()
        self.trickle.set()
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", self.port))
        self.listener.listen(4)
        self.listener.settimeout(0.2)
        self.running = True
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while self.running:
            try:
                conn, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        conn.settimeout(1.0)
        with conn:
            while self.running:
                try:
                    req = conn.recv(12)
                except socket.timeout:
                    continue
                except OSError:
                    return
                if len(req) < 12:
                    return
                tid, _, _, unit, fc, _, count = struct.unpack(">HHHBBHH", req)
                body = bytes([fc, 2 * count]) + bytes(2 * count)
                reply = struct.pack(">HHHB", tid, 0, len(body) + 1, unit) + body
                try:
                    for i in range(len(reply)):
                        if not self.trickle.is_set():
                            conn.sendall(reply[i:])
                            break
                        conn.sendall(reply[i:i + 1])
                        time.sleep(self.gap)
                except OSError:
                    return

    def stop(self):
        self.running = False
        self.trickle.clear()
        self.listener.close()


def main():
    with Workdir("fg-watchdog-") as wd, Stack() as stack:
        device = stack.push(TricklingDevice())
        notify = stack.push(Notifications(os.path.join(wd, "notify.sock")))
        # No broker: the uplink stays down, which the watchdog does not care about.
        conf = daemon_config(wd, "tcp://127.0.0.1:%d" % free_port(), {"gw": device.port},
                             [("meter1", "meterPk", "gw", 1)], model="v = holding:0 uint16[125]\n")
        hang_file = os.path.join(wd, "hang")
        env = dict(os.environ, NOTIFY_SOCKET=notify.path, WATCHDOG_USEC=str(WATCHDOG_USEC),
                   LD_PRELOAD=os.path.join(BIN, "fg_hang_shim.so"), FG_HANG_FILE=hang_file,
                   # Under the sanitizer build the shim is preloaded ahead of ASan's runtime.
                   ASAN_OPTIONS=":".join(filter(None, [os.environ.get("ASAN_OPTIONS"), "verify_asan_link_order=0"])))
        daemon = stack.push(Proc("fieldgated", [os.path.join(BIN, "fieldgated"), "-c", conf], wd, env=env))
        # The config-time check: 500 ms x (1 block + 1) + slack is longer than the 2 s period.
        wait_until(lambda: "watchdog: bus=gw" in daemon.log(), 10, "the worst-case poll warning")

        def meter(st):
            return st["devices"][0] if st and st.get("devices") else None
        # The trickling device: each read ends at its time-out (26 s of trickle each), and the bus
        # thread stays alive through four of them.
        trickled_from = time.monotonic()
        failed = wait_until(lambda: (lambda d: d and d["polls_failed"] >= 4 and d)(meter(status(conf))), 30,
                            "four trickled polls to time out")
        assert failed["polls_ok"] == 0 and "timed out" in (failed["last_error"] or ""), failed
        assert all(b["alive"] for b in status(conf)["buses"]), status(conf)
        assert notify.pings(trickled_from + WATCHDOG_USEC / 1e6), "no WATCHDOG=1 while the device trickled"
        assert "withholding WATCHDOG=1" not in daemon.log(), daemon.log()

        write(hang_file, "")
        def bus(st):
            return st["buses"][0] if st and st.get("buses") else None
        hung = wait_until(lambda: (lambda b: b and not b["alive"] and b)(bus(status(conf))), 30,
                          "the bus thread to count as hung")
        assert hung["name"] == "gw" and hung["worst_case_poll_ms"] == 1000, hung
        assert hung["stalled_ms"] > 0 and hung["heartbeat_age_ms"] > 3000, hung
        assert notify.pings(), "no WATCHDOG=1 before the hang"
        # Hung: no WATCHDOG=1 for longer than the watchdog period (systemd would restart it).
        silent_from = time.monotonic()
        wait_until(lambda: time.monotonic() - silent_from > 2 * WATCHDOG_USEC / 1e6, 10, "two watchdog periods")
        assert not notify.pings(silent_from), "WATCHDOG=1 sent while the bus thread hung"
        assert not bus(status(conf))["alive"]
        wait_until(lambda: "bus gw hung" in notify.last_status(), 10, "STATUS= to name the hung bus")
        assert "withholding WATCHDOG=1" in daemon.log(), daemon.log()

        os.unlink(hang_file)  # the bus thread's poll() goes on
        device.trickle.clear()
        back = time.monotonic()
        wait_until(lambda: notify.pings(back), 15, "WATCHDOG=1 again once the bus is back")
        wait_until(lambda: (lambda d: d and d["polls_ok"] > 0)(meter(status(conf))), 15, "a poll to succeed")
        assert bus(status(conf))["alive"], status(conf)
        daemon.stop(timeout=5)


if __name__ == "__main__":
    run(main)
