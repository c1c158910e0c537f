"""Writes to Modbus RTU slaves on a serial line (a socat pty pair, the simulator's RTU server on the
far end): FC16, FC6, FC5 and FC15 from the cloud (fieldgate-cloud-sim --send) and from fieldgatectl
write, each read back by the daemon and then read again from the simulator itself, over the line,
once the daemon has let go of it; and a write to a slave that has died on the line: 504, nothing
written. test_writes.py covers the same over TCP, with every refusal."""
import os
import select
import struct
import termios
import time
import tty

from fgharness import (DEMO_MODEL, DEMO_PRODUCT, CloudSim, Mosquitto, RtuSim, SerialPair, Stack, Workdir,
                       cloud_send, daemon_config, fieldgatectl, fieldgated, rtu_bus, run, status, stop_cleanly,
                       wait_until, write)

# Every write function: setpoint FC16 (two registers), mode and level FC6, label FC16, run FC5,
# flags FC15. Holding 8..99 and coils 16..31 are the demo profile's writable memory.
WRITABLE = """setpoint = holding:10 float32 CDAB scale=0.1 writable
mode = holding:12 uint16 writable
level = holding:13 int16 scale=0.01 writable
label = holding:14 string[3] writable
run = coil:16 bool writable
flags = coil:17 bool[3] writable
"""
PRODUCT = DEMO_PRODUCT + "setpoint = number\nmode = integer\nlevel = number\nlabel = string\nrun = integer\n" \
                         "flags = array\n"


def crc16(frame):
    crc = 0xFFFF
    for byte in frame:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return struct.pack("<H", crc)


class RtuMaster:
    """A bare Modbus RTU master on one end of the line: the test's own way to ask the simulator."""

    def __init__(self, path):
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
        tty.setraw(self.fd)
        attrs = termios.tcgetattr(self.fd)
        attrs[4] = attrs[5] = termios.B115200
        termios.tcsetattr(self.fd, termios.TCSANOW, attrs)

    def close(self):
        os.close(self.fd)

    def ask(self, unit, function, address, count, reply_len):
        request = struct.pack(">BBHH", unit, function, address, count)
        termios.tcflush(self.fd, termios.TCIFLUSH)
        os.write(self.fd, request + crc16(request))
        reply = b""
        deadline = time.monotonic() + 5
        while len(reply) < reply_len and time.monotonic() < deadline:
            ready, _, _ = select.select([self.fd], [], [], 0.2)
            if ready:
                reply += os.read(self.fd, 256)
        assert len(reply) == reply_len, "unit %d fc %d: reply %r" % (unit, function, reply)
        assert reply[:2] == bytes([unit, function]), "unit %d fc %d: reply %r" % (unit, function, reply)
        assert crc16(reply[:-2]) == reply[-2:], "bad CRC in %r" % reply
        return reply[3:-2]

    def holding(self, unit, address, count):
        data = self.ask(unit, 3, address, count, 5 + 2 * count)
        return list(struct.unpack(">%dH" % count, data))

    def coils(self, unit, address, count):
        data = self.ask(unit, 1, address, count, 5 + (count + 7) // 8)
        return [(data[k // 8] >> (k % 8)) & 1 for k in range(count)]


def main():
    with Workdir("fg-rtu-writes-") as wd, Stack() as stack:
        broker = stack.push(Mosquitto(wd).start())
        line = stack.push(SerialPair(wd).start())
        sim = stack.push(RtuSim(wd, line.sim_end, units="1-2", extra=["--seed", "1"]))
        devices = [("r1", "meterPk", "rs485", 1), ("r2", "meterPk", "rs485", 2)]
        cloud = stack.push(CloudSim(wd, broker.uri, [(d[0], d[1]) for d in devices], points=PRODUCT).start())
        conf = daemon_config(wd, broker.uri, {}, devices, model=DEMO_MODEL + WRITABLE,
                             rtu_buses={"rs485": rtu_bus(line.daemon_end)}, device_extra="write_interval = 0s\n")
        # r2 stays online through many failed polls, so a write reaches the line after it has died.
        write(conf, open(conf).read().replace("unit_id = 2\ninterval = 1s\noffline_after = 2\n",
                                              "unit_id = 2\ninterval = 1s\noffline_after = 1000\n"))
        daemon = stack.push(fieldgated(wd, conf))

        def state(name):
            st = status(conf)
            return st and next(d for d in st["devices"] if d["name"] == name)
        wait_until(lambda: all(state(n) and state(n)["online"] for n in ("r1", "r2")), 30, "r1 and r2 online")

        # Unit 2 dies: the simulator comes back on the same line with it dead (the line stays up).
        sim.stop()
        sim = stack.push(RtuSim(wd, line.sim_end, units="1-2", extra=["--seed", "1", "--dead", "2"],
                                name="modbus-sim-rtu-2"))
        failed = state("r2")["polls_failed"]
        wait_until(lambda: state("r2")["polls_failed"] > failed and state("r1")["online"], 30,
                   "r2's polls failing while r1 answers again")
        assert state("r2")["online"], state("r2")
        [dead] = cloud_send(broker, wd, [("r2", "set", {"mode": 4})])
        assert dead["code"] == 504 and "did not answer" in dead["message"], dead
        assert dead["data"] == {"written": []}, dead
        dead_ctl = fieldgatectl(conf, "write", "r2", "mode=5", timeout=30)
        assert dead_ctl.returncode != 0 and "504" in dead_ctl.stdout, dead_ctl.stdout + dead_ctl.stderr

        # The cloud: FC16 (setpoint), FC6 (mode), FC5 (run), FC15 (flags), in one request.
        [r] = cloud_send(broker, wd, [("r1", "set", {"setpoint": 21.5, "mode": 3, "run": True, "flags": [1, 0, 1]})])
        assert r["code"] == 200 and r["data"] == {}, r
        # fieldgatectl: FC6 (level) and FC16 (label).
        w = fieldgatectl(conf, "write", "r1", "level=-1.25", "label=ab1", timeout=30)
        assert w.returncode == 0 and "written and read back" in w.stdout, w.stdout + w.stderr
        wait_until(lambda: any(rec["deviceKey"] == "r1" and rec["measurepoints"].get("label") == "ab1"
                               and rec["measurepoints"].get("setpoint") == 21.5 for rec in cloud.records()),
                   20, "the written values in r1's records")

        log = stop_cleanly(daemon)
        assert "write device=r1 setpoint=21.5 mode=3 run=true flags=[1,0,1] (cloud request" in log, log
        assert "write device=r1 level=-1.25 label=\"ab1\" (fieldgatectl): 200" in log, log
        assert "write device=r2 mode=4" in log, log

        # What the simulator holds, asked over the line the daemon has let go of.
        master = RtuMaster(line.daemon_end)
        try:
            regs = master.holding(1, 10, 7)
            coils = master.coils(1, 16, 4)
        finally:
            master.close()
        setpoint = struct.unpack(">f", struct.pack(">HH", regs[1], regs[0]))[0]  # CDAB, scale 0.1
        assert (setpoint, regs[2], regs[3]) == (215.0, 3, (-125) & 0xFFFF), regs  # level: -1.25 / 0.01
        assert regs[4:7] == [0x6162, 0x3100, 0x0000], regs  # "ab1", NUL-padded
        assert coils == [1, 1, 0, 1], coils  # run, then flags


if __name__ == "__main__":
    run(main)
