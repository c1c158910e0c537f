"""A small store on a long outage: with max_bytes = 1 MiB and no broker, fieldgated evicts the
oldest records (overflow = drop_oldest), keeps the newest, counts what it dropped in
`fieldgatectl status`, and the database with its WAL stays near the bound on disk."""
import os

from fgharness import (ModbusSim, Mosquitto, Stack, Workdir, daemon_config, fieldgated, free_port, run, status,
                       stop_cleanly, wait_until)

MAX_BYTES = 1 << 20


def disk_bytes(wd):
    return sum(os.path.getsize(os.path.join(wd, f)) for f in os.listdir(wd) if f.startswith("buffer.db"))


def main():
    with Workdir("fg-bounds-") as wd, Stack() as stack:
        nobroker = Mosquitto(wd, port=free_port())  # never started: a long outage
        sim = stack.push(ModbusSim.from_devices(wd, [("meter%d" % u, -1, u, u) for u in range(1, 5)]))
        devices = [("meter%d" % u, "meterPk", "gw", u) for u in range(1, 5)]
        conf = daemon_config(wd, nobroker.uri, {"gw": sim.ports[0]}, devices, store="max_bytes = 1MiB\n")
        # Poll fast so the store fills in seconds rather than hours.
        text = open(conf).read().replace("interval = 1s", "interval = 10ms")
        with open(conf, "w") as f:
            f.write(text)
        daemon = stack.push(fieldgated(wd, conf))

        peak = [0]

        def turned_over():
            # Watched at every step: the bound must hold commit after commit, not just at the end.
            st = status(conf)
            if not st:
                return False
            peak[0] = max(peak[0], disk_bytes(wd))
            assert st["store"]["file_bytes"] <= MAX_BYTES * 1.1, st["store"]
            return st["store"]["dropped"].get("evicted", 0) > st["store"]["records"]
        wait_until(turned_over, 120, "more records evicted than the store holds (one full turn-over)", interval=0.2)
        st = status(conf)
        peak = peak[0]
        assert peak <= MAX_BYTES * 1.3, "database and WAL use %d bytes on disk for max_bytes %d" % (peak, MAX_BYTES)
        assert st["store"]["records"] > 1000, st["store"]
        # The newest records are kept: the oldest is from well after the start of the run.
        assert st["store"]["oldest_ms"] > st["started_ms"] + 3000, st["store"]
        assert st["store"]["dead_letters"] == {}, st["store"]
        stop_cleanly(daemon)


if __name__ == "__main__":
    run(main)
