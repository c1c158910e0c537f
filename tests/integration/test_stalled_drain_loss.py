"""The link stalls in the middle of draining a backlog of big batches and then breaks: the gateway's
writes wait behind the stalled socket with a window of batches of up to 256 KiB published, the
connection is lost, and the gateway reconnects and drains the rest. Every record arrives, and the
daemon's memory is whole: under the sanitizer build (FG_SANITIZED) LeakSanitizer checks at the
daemon's stop that nothing was lost, where Paho 1.3.12 would leak every publish it still held
queued unwritten when its handle was destroyed (see PahoClient in src/mqtt/paho_client.cpp)."""
import os
import subprocess

from fgharness import (BIN, CloudSim, Mosquitto, Stack, Workdir, emulated, fieldgated, run, status, stop_cleanly,
                       wait_until, write)
from fgfaults import Proxy

RECORDS = 40000  # about 40 batches of 1000 records (256 KiB each): 10 MB, more than the sockets hold
DEVICES = 50
INFLIGHT = 32  # batches published at once: 8 MB waiting behind the stall


def main():
    with Workdir("fg-stalled-drain-") as wd, Stack() as stack:
        db = os.path.join(wd, "buffer.db")
        subprocess.run(emulated([os.path.join(BIN, "fieldgate-bench-raw"), "fill", db, str(RECORDS), str(DEVICES)]),
                       check=True, stdout=subprocess.DEVNULL)
        broker = stack.push(Mosquitto(wd).start())
        names = ["dev%d" % i for i in range(DEVICES)]
        cloud = stack.push(CloudSim(wd, broker.uri, [(n, "benchPk") for n in names], product="benchPk",
                                    points="".join("v%d = number\n" % k for k in range(10))).start())
        # The link stalls by itself once the first batch is partly through, before the drain could
        # end; its sockets' small receive buffers make the gateway's writes wait soon after.
        link = stack.push(Proxy(broker.port, stall_after_bytes=400 * 1024, rcvbuf=32 * 1024).start())
        conf = write(os.path.join(wd, "fieldgate.ini"),
                     "[gateway]\nproduct_key = gwPk\ndevice_key = gwDk\ndevice_secret = gwSecret\n"
                     "control_socket = %s\n\n[mqtt]\nuri = %s\n\n[store]\npath = %s\n\n[uplink]\ninflight = %d\n"
                     % (os.path.join(wd, "control.sock"), link.uri, db, INFLIGHT))
        daemon = stack.push(fieldgated(wd, conf))

        wait_until(link.stalled_by_itself.is_set, 30, "the link to stall in the middle of the drain")
        # The whole window published behind the stall (the uplink publishes it at once).
        wait_until(lambda: (status(conf) or {}).get("uplink", {}).get("inflight") == INFLIGHT, 15,
                   "the uplink's window full behind the stalled link")
        held = status(conf)
        assert held["store"]["records"] > RECORDS // 2, held["store"]  # most of the backlog still to go
        link.cut()  # the stalled link breaks: the connection is lost with the window unwritten
        wait_until(lambda: status(conf)["uplink"]["connected"] is False, 15, "the loss noticed")
        link.resume()
        link.restore()

        def drained():
            st = status(conf)
            return st and st["store"]["records"] == 0 and st["uplink"]["inflight"] == 0 and st
        final = wait_until(drained, 180, "the backlog drained after the reconnect", interval=0.2)
        accepted = {(r["deviceKey"], r["time"]) for r in cloud.records()}
        assert len(accepted) == RECORDS, "the cloud holds %d distinct records of %d" % (len(accepted), RECORDS)
        assert final["uplink"]["connects"] >= 2, final["uplink"]
        assert final["store"]["dead_letters"] == {}, final["store"]
        stack.items.remove(daemon)
        stop_cleanly(daemon)  # under FG_SANITIZED: fails on any LeakSanitizer report at the stop


if __name__ == "__main__":
    run(main)
