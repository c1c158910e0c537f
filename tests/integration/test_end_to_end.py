"""Three Modbus TCP devices polled for several seconds, and a fourth whose model reads every
point type of the grammar (every width, every word/byte order, bits, scale/offset, quality,
as=string, strings, arrays): every record the cloud simulator accepted carries exactly the values
the simulated device served at that time, stamped with that time, and in the end every good poll
of every device is in the cloud (completeness, not only correctness)."""
import collections
import struct

from fgharness import (CloudSim, ModbusSim, Mosquitto, Stack, Workdir, assert_every_poll_delivered,
                       check_demo_record, daemon_config, fieldgatectl, fieldgated, run, status, stop_cleanly,
                       wait_until)

PER_DEVICE = 6
TYPED_SEED = 5

# Every type and order of DESIGN.md's point grammar over the demo profile's registers.
ALLTYPES_MODEL = """tick = holding:0 uint32
f32_abcd = holding:2 float32 ABCD
f32_cdab = holding:4 float32 CDAB
f32_badc = holding:2 float32 BADC
f32_dcba = holding:2 float32 DCBA
i16 = holding:6 int16
u16 = holding:6 uint16
flag3 = holding:6 uint16 bit=3
flag0 = holding:6 uint16 bit=0
i32_abcd = input:1 int32
i32_cdab = input:1 int32 CDAB
u32_badc = input:1 uint32 BADC
u32_dcba = input:1 uint32 DCBA
i64_abcd = input:0 int64
u64_cdab = input:0 uint64 CDAB
i64_badc = input:0 int64 BADC
u64_dcba = input:0 uint64 DCBA
f64_abcd = input:0 float64
f64_dcba = input:0 float64 DCBA
scaled = input:0 int16 scale=0.01 offset=-20
halves = input:0 uint16 scale=0.5 quality
text = holding:2 string[2]
total_text = input:1 int32 as=string
coils = coil:0 bool[16]
disc3 = discrete:3 bool
words = input:0 int16[3]
pair = holding:2 float32[2] CDAB as=string
"""
ALLTYPES_PRODUCT = """tick = integer
f32_abcd = number
f32_cdab = number
f32_badc = number
f32_dcba = number
i16 = integer
u16 = integer
flag3 = integer
flag0 = integer
i32_abcd = integer
i32_cdab = integer
u32_badc = integer
u32_dcba = integer
i64_abcd = integer
u64_cdab = integer
i64_badc = integer
u64_dcba = integer
f64_abcd = number
f64_dcba = number
scaled = number
halves = number
text = string
total_text = string
coils = array
disc3 = bool
words = array
pair = array
"""


def f32(x):
    return struct.unpack(">f", struct.pack(">f", x))[0]


def demo_registers(seed, tick):
    """The demo profile's holding and input registers (tools/modbus-sim/README.md) at `tick`."""
    secs = tick // 10
    power = struct.unpack(">HH", struct.pack(">f", seed * 100 + 0.25))
    energy = struct.unpack(">HH", struct.pack(">f", seed * 10 + secs % 60))
    total = seed * 100000 + 1
    holding = [(tick >> 16) & 0xFFFF, tick & 0xFFFF, power[0], power[1], energy[1], energy[0],
               (-seed * 7) & 0xFFFF, secs % 1000] + [0] * 8
    inputs = [2150 + seed, total >> 16, total & 0xFFFF, 0]
    return holding, inputs


def wire_bytes(words, order):
    """The value's bytes A B C D [E F G H] from registers read in `order` (ABCD = big-endian)."""
    if order in ("CDAB", "DCBA"):
        words = list(reversed(words))
    out = b""
    for w in words:
        pair = struct.pack(">H", w)
        out += pair[::-1] if order in ("BADC", "DCBA") else pair
    return out


def alltypes_expected(seed, tick):
    h, i = demo_registers(seed, tick)
    coils = [(seed >> k) & 1 for k in range(16)]
    un = lambda fmt, words, order="ABCD": struct.unpack(fmt, wire_bytes(words, order))[0]  # noqa: E731
    text = bytes([h[2] >> 8, h[2] & 0xFF, h[3] >> 8, h[3] & 0xFF]).split(b"\0")[0].rstrip(b" ").decode("latin-1")
    return {
        "tick": un(">I", h[0:2]),
        "f32_abcd": un(">f", h[2:4]), "f32_cdab": un(">f", h[4:6], "CDAB"),
        "f32_badc": un(">f", h[2:4], "BADC"), "f32_dcba": un(">f", h[2:4], "DCBA"),
        "i16": un(">h", h[6:7]), "u16": h[6], "flag3": (h[6] >> 3) & 1, "flag0": h[6] & 1,
        "i32_abcd": un(">i", i[1:3]), "i32_cdab": un(">i", i[1:3], "CDAB"),
        "u32_badc": un(">I", i[1:3], "BADC"), "u32_dcba": un(">I", i[1:3], "DCBA"),
        "i64_abcd": un(">q", i[0:4]), "u64_cdab": un(">Q", i[0:4], "CDAB"),
        "i64_badc": un(">q", i[0:4], "BADC"), "u64_dcba": un(">Q", i[0:4], "DCBA"),
        "f64_abcd": un(">d", i[0:4]), "f64_dcba": un(">d", i[0:4], "DCBA"),
        "scaled": un(">h", i[0:1]) * 0.01 - 20,
        "halves": {"value": i[0] * 0.5, "quality": 0},
        "text": text,
        "total_text": str(un(">i", i[1:3])),
        "coils": coils, "disc3": 1 - coils[3],
        "words": [un(">h", [w]) for w in i[0:3]],
        "pair": [un(">f", h[2:4], "CDAB"), un(">f", h[4:6], "CDAB")],
    }


def check_alltypes_record(rec):
    mp = rec["measurepoints"]
    wraps = round((rec["time"] // 100 - mp["tick"]) / 2 ** 32)
    want = alltypes_expected(TYPED_SEED, mp["tick"] + wraps * 2 ** 32)
    assert set(mp) == set(want), "points %r, expected %r" % (sorted(mp), sorted(want))
    for name, value in want.items():
        got = mp[name]
        where = "typed at %d: %s = %r, expected %r" % (rec["time"], name, got, value)
        if name.startswith("f32_"):
            assert isinstance(got, float) or isinstance(got, int), where
            assert f32(got) == value, where  # float32 written in its shortest form
        elif name == "pair":
            assert [f32(float(x)) for x in got] == value and all(isinstance(x, str) for x in got), where
        elif name == "scaled":
            assert abs(got - value) < 1e-9, where
        else:
            assert got == value and type(got) is type(value), where


def main():
    with Workdir("fg-e2e-") as wd, Stack() as stack:
        broker = stack.push(Mosquitto(wd).start())
        # meter1 and meter2 behind one Modbus TCP gateway (units 1, 2), meter3 on a port of its own.
        # typed (unit 4) reads every point type from the demo profile's registers.
        sim = stack.push(ModbusSim.from_devices(wd, [("meter1", -1, 1, 1), ("meter2", -1, 2, 2), ("meter3", -2, 1, 3),
                                                     ("typed", -1, 4, TYPED_SEED)]))
        devices = [("meter1", "meterPk", "gw", 1), ("meter2", "meterPk", "gw", 2), ("meter3", "meterPk", "solo", 1),
                   ("typed", "typesPk", "gw", 4)]
        seeds = {"meter1": 1, "meter2": 2, "meter3": 3}
        cloud = stack.push(CloudSim(wd, broker.uri, [(d[0], d[1]) for d in devices],
                                    extra_products="\n[product.typesPk]\n" + ALLTYPES_PRODUCT).start())
        conf = daemon_config(wd, broker.uri, {"gw": sim.ports[0], "solo": sim.ports[1]}, devices)
        text = open(conf).read() + "\n[model.alltypes]\n" + ALLTYPES_MODEL
        text = text.replace("device_key = typed\ndevice_secret = typedSecret\nmodel = meter",
                            "device_key = typed\ndevice_secret = typedSecret\nmodel = alltypes")
        assert "model = alltypes" in text
        with open(conf, "w") as f:
            f.write(text)
        daemon = stack.push(fieldgated(wd, conf))
        def enough():
            per = collections.Counter(r["deviceKey"] for r in cloud.records())
            return all(per[d[0]] >= PER_DEVICE for d in devices)
        wait_until(enough, 60, "%d records per device in the cloud" % PER_DEVICE)

        records = cloud.records()
        for rec in records:
            assert rec["topic"] == "post", rec  # live data goes via post/batch
            if rec["deviceKey"] == "typed":
                assert rec["productKey"] == "typesPk", rec
                check_alltypes_record(rec)
                continue
            assert rec["productKey"] == "meterPk", rec
            check_demo_record(rec, seeds[rec["deviceKey"]])
        times = collections.defaultdict(list)
        for rec in records:
            times[rec["deviceKey"]].append(rec["time"])
        for name, ts in times.items():
            assert ts == sorted(ts), "%s records out of order: %r" % (name, ts)

        # Online sub-devices are logged in through the gateway (combine.login.batch, signed).
        wait_until(lambda: all(d["cloud_session"] == "logged_in" for d in status(conf)["devices"]), 30,
                   "every sub-device logged in")
        st = status(conf)
        assert st is not None, "fieldgatectl status got no answer"
        assert [d["name"] for d in st["devices"]] == ["meter1", "meter2", "meter3", "typed"], st["devices"]
        for d in st["devices"]:
            assert d["online"] is True, d
            assert d["polls_ok"] >= PER_DEVICE and d["polls_failed"] == 0, d
            assert d["last_good_poll_ms"] > 0, d
        assert st["uplink"]["connected"] is True, st["uplink"]
        assert st["uplink"]["delivered"] >= 4 * PER_DEVICE, st["uplink"]
        assert st["uplink"]["last_code"] == 200, st["uplink"]

        human = fieldgatectl(conf, "status")
        assert human.returncode == 0 and "4/4 devices online" in human.stdout, human.stdout + human.stderr
        values = fieldgatectl(conf, "values", "meter2")
        assert values.returncode == 0 and "phase" in values.stdout and "-14" in values.stdout, values.stdout

        # Completeness: the devices stop, the gateway sends what it holds, and every good poll of
        # every device is in the cloud, each checked value by value.
        final = assert_every_poll_delivered(conf, cloud, sim)
        assert final["store"]["readings_dropped"] == 0 and final["store"]["dropped"] == {}, final["store"]
        assert all(d["non_finite_points"] == 0 for d in final["devices"]), final["devices"]
        for rec in cloud.records():
            if rec["deviceKey"] == "typed":
                check_alltypes_record(rec)
            else:
                check_demo_record(rec, seeds[rec["deviceKey"]])

        log = stop_cleanly(daemon)
        assert "<5>stopped;" in log, log
        gone = fieldgatectl(conf, "status")
        assert gone.returncode == 3 and "not running" in gone.stderr, gone.stderr


if __name__ == "__main__":
    run(main)
