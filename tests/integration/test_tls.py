"""TLS to the broker, with certificates made by openssl here: a server certificate from the
configured CA for the URI's address carries data (checked against the simulator's values); a
certificate for another name, one from an untrusted CA and an expired one are refused, each
logged once with its cause in words and shown in status; a broker that requires client
certificates takes the gateway with its certificate and refuses it without. Failed handshakes
are retried within the hub's limit of 3 attempts in 120 s."""
import collections
import os
import re

from fgharness import (CloudSim, ModbusSim, Stack, Workdir, check_demo_record, daemon_config, fieldgated, run,
                       status, stop_cleanly, wait_until)
from fgtls import Pki, TlsMosquitto

SEEDS = {"meter1": 1, "meter2": 2}
DEVICES = [("meter1", "meterPk", "gw", 1), ("meter2", "meterPk", "gw", 2)]


def config(wd, name, uri, sim_port, tls):
    folder = os.path.join(wd, name)
    os.makedirs(folder)
    path = daemon_config(folder, uri, {"gw": sim_port}, DEVICES, uplink="", store="")
    with open(path) as f:
        text = f.read()
    extra = "".join("%s = %s\n" % kv for kv in tls.items())
    text = text.replace("uri = %s\n" % uri, "uri = %s\nconnect_timeout = 5s\n%s" % (uri, extra), 1)
    with open(path, "w") as f:
        f.write(text)
    return path


def main():
    with Workdir("fg-tls-") as wd, Stack() as stack:
        pki = Pki(os.path.join(wd, "pki"))
        pki.ca("ca").ca("evil")
        pki.cert("ca", "good", "IP:127.0.0.1,DNS:localhost")
        pki.cert("ca", "other", "DNS:hub.example.com")
        pki.cert("evil", "untrusted", "IP:127.0.0.1")
        pki.cert("ca", "expired", "IP:127.0.0.1", expired=True)
        pki.cert("ca", "gateway", "DNS:gwDk")
        broker = stack.push(TlsMosquitto(wd, pki, {
            "good": ("good", False), "other": ("other", False), "untrusted": ("untrusted", False),
            "expired": ("expired", False), "mtls": ("good", True)}).start())
        sim = stack.push(ModbusSim.from_devices(wd, [("meter1", -1, 1, 1), ("meter2", -1, 2, 2)]))
        cloud = stack.push(CloudSim(wd, broker.uri, [(d[0], d[1]) for d in DEVICES]).start())
        ca = {"ca_file": pki.pem("ca")}
        client = dict(ca, cert_file=pki.pem("gateway"), key_file=pki.key("gateway"))

        good = config(wd, "good", broker.tls_uri("good"), sim.ports[0], ca)
        by_name = config(wd, "by-name", broker.tls_uri("good", "localhost"), sim.ports[0], ca)
        mtls = config(wd, "mtls", broker.tls_uri("mtls"), sim.ports[0], client)
        refused = {
            "other": (config(wd, "other", broker.tls_uri("other"), sim.ports[0], ca),
                      "name mismatch: the server's certificate is not for 127.0.0.1"),
            "untrusted": (config(wd, "untrusted", broker.tls_uri("untrusted"), sim.ports[0], ca),
                          "untrusted issuer: the server's certificate is not signed by a CA in " + pki.pem("ca")),
            "expired": (config(wd, "expired", broker.tls_uri("expired"), sim.ports[0], ca),
                        "certificate expired"),
            "no-client-cert": (config(wd, "no-client-cert", broker.tls_uri("mtls"), sim.ports[0], ca),
                               "refused by the server"),
        }
        daemons = {}
        for name, conf in [("good", good), ("by-name", by_name), ("mtls", mtls)] + \
                [(n, c) for n, (c, _) in refused.items()]:
            daemons[name] = stack.push(fieldgated(os.path.dirname(conf), conf))

        # Good CA and name (by IP and by host name), and mutual TLS: data flows, intact.
        for name, conf in [("good", good), ("by-name", by_name), ("mtls", mtls)]:
            wait_until(lambda: (status(conf) or {}).get("uplink", {}).get("delivered", 0) >= 4, 60,
                       "records delivered over TLS (%s)" % name)
            st = status(conf)
            assert st["uplink"]["state"] == "connected" and st["uplink"]["last_error"] is None, (name, st["uplink"])
        per = collections.Counter(r["deviceKey"] for r in cloud.records())
        assert all(per[n] >= 3 for n in SEEDS), per
        for rec in cloud.records():
            check_demo_record(rec, SEEDS[rec["deviceKey"]])

        # Each refusal: logged with its cause, once, however many attempts; status says it too.
        for name, (conf, words) in refused.items():
            wait_until(lambda: (status(conf) or {}).get("uplink", {}).get("connect_attempts", 0) >= 3, 60,
                       "three connection attempts (%s)" % name)
            st = status(conf)
            assert not st["uplink"]["connected"] and st["uplink"]["delivered"] == 0, (name, st["uplink"])
            assert words in (st["uplink"]["last_error"] or ""), (name, st["uplink"])
            assert st["store"]["records"] > 0, (name, st["store"])  # polling and buffering go on
            log = daemons[name].log()
            lines = [l for l in log.splitlines() if "cannot connect to" in l]
            assert len(lines) == 1, "%s: the cause is logged once, got:\n%s" % (name, "\n".join(lines))
            assert words in lines[0] and lines[0].startswith("<4>"), (name, lines[0])
            assert not re.search(r"[0-9A-F]{16}:error:", log), (name, "raw OpenSSL error text in the log")
            # The server took part in each failed handshake: retried within the hub's limit.
            wait_until(lambda: "holding the next connection attempt" in daemons[name].log(), 30,
                       "the fourth handshake held back (%s)" % name)
            assert status(conf)["uplink"]["connect_attempts"] == 3, (name, status(conf)["uplink"])

        for d in daemons.values():
            stop_cleanly(d)


if __name__ == "__main__":
    run(main)
