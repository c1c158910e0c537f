"""The control socket under a careless or hostile local client: 20 connections that send nothing
do not hold up a `status` request (it is answered, correctly, while all 20 are open) nor the main
loop (readings keep being committed meanwhile); each idle one gets a JSON error at its deadline;
an endless request line and garbage are answered with valid JSON errors."""
import json
import os
import socket

from fgharness import (ModbusSim, Mosquitto, Stack, Workdir, daemon_config, fieldgatectl, fieldgated, free_port, run,
                       status, stop_cleanly, wait_until)


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)  # blocking: a daemon that does not accept makes the test time out, not skip
    s.settimeout(30)
    return s


def read_all(s):
    out = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            return out.decode()
        out += chunk


def still_open(s):
    s.setblocking(False)
    try:
        return s.recv(1, socket.MSG_PEEK) != b""
    except BlockingIOError:
        return True
    finally:
        s.settimeout(30)


def main():
    with Workdir("fg-ctl-") as wd, Stack() as stack:
        nobroker = Mosquitto(wd, port=free_port())  # never started: the store just fills
        sim = stack.push(ModbusSim.from_devices(wd, [("meter1", -1, 1, 1), ("meter2", -1, 2, 2)]))
        conf = daemon_config(wd, nobroker.uri, {"gw": sim.ports[0]}, [("meter1", "meterPk", "gw", 1),
                                                                      ("meter2", "meterPk", "gw", 2)])
        sock = os.path.join(wd, "control.sock")
        daemon = stack.push(fieldgated(wd, conf))
        before = wait_until(lambda: (status(conf) or {}).get("store", {}).get("records", 0) >= 2 and status(conf),
                            30, "readings stored")

        idle = [connect(sock) for _ in range(20)]
        r = fieldgatectl(conf, "status", "--json", timeout=60)
        open_after = sum(still_open(s) for s in idle)
        assert r.returncode == 0, "status with 20 idle connections open: %d %s" % (r.returncode, r.stderr)
        st = json.loads(r.stdout)
        assert [d["name"] for d in st["devices"]] == ["meter1", "meter2"], st["devices"]
        print("status answered with %d of the 20 idle connections still open" % open_after)
        # The main loop went on committing readings while they were open.
        wait_until(lambda: status(conf)["store"]["records"] > before["store"]["records"] + 2, 30,
                   "readings committed while the idle connections are open")

        # Each idle one is told, in valid JSON, that no request came, and closed.
        for s in idle:
            reply = json.loads(read_all(s))
            assert "no complete request" in reply["error"], reply
            s.close()

        # An endless request line: refused at the size bound, valid JSON.
        s = connect(sock)
        try:
            s.sendall(b"x" * 100000)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the daemon may have answered and closed before all of it was sent
        reply = json.loads(read_all(s))
        assert "longer than" in reply["error"], reply
        s.close()

        # Garbage with quotes, backslashes and bytes that are not UTF-8: an error in valid JSON.
        s = connect(sock)
        s.sendall(b'values "\\\xff\x01\n')
        reply = json.loads(read_all(s))
        assert "error" in reply, reply
        s.close()

        assert status(conf)["devices"][0]["online"] is True
        stop_cleanly(daemon)


if __name__ == "__main__":
    run(main)
