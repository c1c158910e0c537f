"""Fixtures for connection faults: the cloud simulator behind its authenticating front, a broker
that accepts TCP and never answers, and a TCP proxy that can cut the network or close each
connection right after the broker's CONNACK. Threads here are daemon threads of the test
process; every socket they open is closed by stop()."""
import os
import socket
import threading
import time

from fgharness import CloudSim, free_port, read_jsonl


class FrontedCloudSim(CloudSim):
    """fieldgate-cloud-sim with its front on a free port: gateways connect to `uri` and their
    CONNECTs are checked against the gateway's secret (gwSecret) and logged to connects()."""

    def __init__(self, workdir, broker_uri, devices, **kw):
        super().__init__(workdir, broker_uri, devices, **kw)
        self.front_port = free_port()
        self.connects_path = os.path.join(workdir, "cloud-connects.jsonl")
        with open(self.conf) as f:
            text = f.read()
        text = text.replace("[hub]\n", "[hub]\nfront = %d\nconnects = %s\n" % (self.front_port, self.connects_path), 1)
        with open(self.conf, "w") as f:
            f.write(text)

    @property
    def uri(self):
        return "tcp://127.0.0.1:%d" % self.front_port

    def connects(self):
        return read_jsonl(self.connects_path)


class _Server:
    def __init__(self):
        self.port = free_port()
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", self.port))
        self.listener.listen(16)
        self.listener.settimeout(0.2)
        self.stopping = False
        self.lock = threading.Lock()
        self.sockets = []
        self.thread = threading.Thread(target=self._accept_loop, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def _accept_loop(self):
        while not self.stopping:
            try:
                conn, _ = self.listener.accept()
            except (socket.timeout, OSError):
                continue
            with self.lock:
                self.sockets.append(conn)
            self.on_accept(conn)

    def on_accept(self, conn):
        pass

    def close_all(self):
        with self.lock:
            socks, self.sockets = self.sockets, []
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def stop(self):
        self.stopping = True
        self.thread.join(timeout=5)
        self.listener.close()
        self.close_all()

    @property
    def uri(self):
        return "tcp://127.0.0.1:%d" % self.port


class SilentBroker(_Server):
    """Accepts TCP connections, reads what comes, and never answers. Counts CONNECT packets."""

    def __init__(self):
        super().__init__()
        self.connects = 0

    def on_accept(self, conn):
        threading.Thread(target=self._drain, args=(conn,), daemon=True).start()

    def _drain(self, conn):
        first = True
        while True:
            try:
                data = conn.recv(4096)
            except OSError:
                return
            if not data:
                return
            if first and data[0] == 0x10:
                with self.lock:
                    self.connects += 1
            first = False


class Proxy(_Server):
    """Relays to a target port. cut() closes every connection and refuses new ones until
    restore(); with close_after_connack, each connection is closed as soon as the broker's
    CONNACK has been relayed. `connects` counts the connections made to the target;
    `connect_times` holds the time.monotonic() of every MQTT CONNECT relayed to it (what the
    broker saw). stall_after_bytes: once that many bytes came from the gateway, the link stalls
    by itself (as stall()), once; rcvbuf: the receive buffer of every socket the gateway
    connects, small so that a stall soon makes the gateway's own writes wait."""

    def __init__(self, target_port, close_after_connack=False, stall_after_bytes=None, rcvbuf=None):
        super().__init__()
        if rcvbuf:  # inherited by every accepted socket; set before the handshake sizes the window
            self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.target_port = target_port
        self.close_after_connack = close_after_connack
        self.stall_after_bytes = stall_after_bytes
        self.from_gateway = 0  # bytes relayed (or held) from the gateway, every connection
        self.stalled_by_itself = threading.Event()
        self.up = True
        self.connects = 0
        self.connect_times = []
        self.flowing = threading.Event()
        self.flowing.set()

    def stall(self):
        """Holds every byte in both directions (the link drops packets; TCP survives)."""
        self.flowing.clear()

    def resume(self):
        self.flowing.set()

    def cut(self):
        self.up = False
        self.close_all()

    def restore(self):
        self.up = True

    def on_accept(self, conn):
        if not self.up:
            conn.close()
            return
        try:
            upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
        except OSError:
            conn.close()
            return
        upstream.settimeout(None)
        with self.lock:
            self.sockets.append(upstream)
            self.connects += 1
        pair = {"closed": False}
        threading.Thread(target=self._pump, args=(conn, upstream, False, pair), daemon=True).start()
        threading.Thread(target=self._pump, args=(upstream, conn, True, pair), daemon=True).start()

    def _pump(self, src, dst, from_broker, pair):
        first = not from_broker
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            if data and not from_broker and self.stall_after_bytes is not None:
                with self.lock:
                    self.from_gateway += len(data)
                    if self.from_gateway >= self.stall_after_bytes and not self.stalled_by_itself.is_set():
                        self.flowing.clear()
                        self.stalled_by_itself.set()
            if data:
                self.flowing.wait(timeout=60)
                try:
                    dst.sendall(data)
                except OSError:
                    data = b""
                if data and first and data[0] == 0x10:
                    with self.lock:
                        self.connect_times.append(time.monotonic())
                first = False
            if data and from_broker and self.close_after_connack and data[0] == 0x20:
                data = b""
            if not data:
                for s in (src, dst):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                return
