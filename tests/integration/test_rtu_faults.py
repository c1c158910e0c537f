"""An RTU line's everyday faults, over socat pty pairs with the simulator's RTU server:
- a slow slave (answers after 150 ms, inside the 300 ms time-out) is read normally;
- a noisy slave (stray bytes before every 3rd reply) costs only the poll the garbage hit: the line
  is flushed and the next polls succeed (before, the poller stayed out of step for good);
- a slave refusing an address range inside a merged block: fieldgated falls back to one request
  per point and delivers every other point."""
import collections

from fgharness import (CloudSim, Mosquitto, RtuSim, SerialPair, Stack, Workdir, check_demo_record, daemon_config,
                       fieldgated, f32, rtu_bus, run, status, stop_cleanly, wait_until)

PER_DEVICE = 9


def main():
    with Workdir("fg-rtufault-") as wd, Stack() as stack:
        broker = stack.push(Mosquitto(wd).start())
        line_a = stack.push(SerialPair(wd, "a").start())
        line_b = stack.push(SerialPair(wd, "b").start())
        stack.push(RtuSim(wd, line_a.sim_end, units="1-2", name="sim-a",
                          extra=["--seed", "1", "--slow", "1", "--slow-ms", "150", "--noisy", "2", "--noise-every", "3"]))
        # holding 4..5 (the energy point, inside the merged block holding 0..7) is refused.
        stack.push(RtuSim(wd, line_b.sim_end, units="1", name="sim-b", extra=["--seed", "3", "--refuse", "4-5"]))
        devices = [("slow", "meterPk", "a", 1), ("noisy", "meterPk", "a", 2), ("holey", "meterPk", "b", 1)]
        seeds = {"slow": 1, "noisy": 2, "holey": 3}
        cloud = stack.push(CloudSim(wd, broker.uri, [(d[0], d[1]) for d in devices]).start())
        conf = daemon_config(wd, broker.uri, {}, devices,
                             rtu_buses={"a": rtu_bus(line_a.daemon_end), "b": rtu_bus(line_b.daemon_end)})
        daemon = stack.push(fieldgated(wd, conf))

        def enough():
            per = collections.Counter(r["deviceKey"] for r in cloud.records())
            return all(per[d[0]] >= PER_DEVICE for d in devices)
        wait_until(enough, 60, "%d records per device" % PER_DEVICE)

        for rec in cloud.records():
            name = rec["deviceKey"]
            if name == "holey":
                mp = rec["measurepoints"]
                assert "energy" not in mp, rec
                assert mp["power"] == f32(3 * 100 + 0.25) and mp["phase"] == -21 and mp["total"] == 300001, rec
            else:
                check_demo_record(rec, seeds[name])

        st = status(conf)
        by = {d["name"]: d for d in st["devices"]}
        assert all(d["online"] for d in st["devices"]), st["devices"]
        assert by["slow"]["polls_failed"] == 0, by["slow"]
        # Counted per device in status: the merged read once, then the energy point every poll.
        assert by["holey"]["modbus_exceptions"]["0x02"] >= PER_DEVICE, by["holey"]
        assert by["slow"]["modbus_exceptions"] == {}, by["slow"]
        # Garbage hit some polls of the noisy slave (every 3rd reply: about every other poll of
        # two requests), and only those: the poll after each succeeded, so it never failed twice
        # in a row (offline_after = 2) and never went offline.
        assert by["noisy"]["polls_failed"] >= 1, by["noisy"]
        assert by["noisy"]["polls_failed"] <= by["noisy"]["polls_ok"] + 1, by["noisy"]
        log = stop_cleanly(daemon)
        assert not [l for l in log.splitlines() if "device=noisy" in l and "offline" in l], log
        assert "device=noisy bus=a unit=2: addr=0: garbled reply" in log, log
        assert "Response not from requested slave" not in log, log
        assert "device=holey bus=b unit=1 addr=0: illegal data address in a merged read" in log, log
        assert "device=holey bus=b unit=1 addr=4: Modbus exception illegal data address (0x02)" in log, log


if __name__ == "__main__":
    run(main)
