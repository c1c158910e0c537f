"""Certificates made by `openssl` inside a test, and a mosquitto with TLS listeners.

Each certificate is an EC P-256 key and a certificate signed by a CA of the test's own, with the
subjectAltName given (e.g. "IP:127.0.0.1"); an expired one is issued with `openssl ca`, which
takes explicit start and end dates.
"""
import os
import subprocess

from fgharness import MOSQUITTO, Proc, free_port, port_open, wait_until, write


def _openssl(*args, cwd):
    r = subprocess.run(["openssl"] + list(args), cwd=cwd, capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise AssertionError("openssl %s failed:\n%s" % (" ".join(args), r.stderr))


class Pki:
    """A folder of CAs and certificates; paths are `<name>.pem` and `<name>.key` in it."""

    def __init__(self, folder):
        self.dir = folder
        os.makedirs(folder, exist_ok=True)

    def pem(self, name):
        return os.path.join(self.dir, name + ".pem")

    def key(self, name):
        return os.path.join(self.dir, name + ".key")

    def ca(self, name):
        _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                 "-keyout", name + ".key", "-out", name + ".pem", "-days", "30", "-subj", "/CN=" + name, cwd=self.dir)
        return self

    def cert(self, ca, name, san, expired=False):
        _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", name + ".key",
                 "-out", name + ".csr", "-subj", "/CN=" + name, "-addext", "subjectAltName=" + san, cwd=self.dir)
        if not expired:
            write(os.path.join(self.dir, name + ".ext"), "subjectAltName=%s\n" % san)
            _openssl("x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem", "-CAkey", ca + ".key",
                     "-CAcreateserial", "-out", name + ".pem", "-days", "30", "-extfile", name + ".ext", cwd=self.dir)
            return self
        db = os.path.join(self.dir, "ca-db-" + name)
        os.makedirs(db, exist_ok=True)
        write(os.path.join(db, "index"), "")
        write(os.path.join(db, "serial"), "1000\n")
        conf = write(os.path.join(db, "ca.cnf"),
                     "[ca]\ndefault_ca=d\n[d]\ndatabase=%s/index\nserial=%s/serial\nnew_certs_dir=%s\n"
                     "default_md=sha256\npolicy=p\ncopy_extensions=copy\nunique_subject=no\n[p]\ncommonName=supplied\n"
                     % (db, db, db))
        _openssl("ca", "-batch", "-config", conf, "-cert", ca + ".pem", "-keyfile", ca + ".key", "-in", name + ".csr",
                 "-out", name + ".pem", "-notext", "-startdate", "20200101000000Z", "-enddate", "20200201000000Z",
                 cwd=self.dir)
        return self


class TlsMosquitto:
    """One mosquitto with a plain listener (for the cloud simulator) and TLS listeners, one per
    entry of `listeners`: {name: (cert name, require_certificate)}; CA for client certificates:
    `client_ca`. It stays root so it can read the test's private folder."""

    def __init__(self, workdir, pki, listeners, client_ca="ca"):
        self.workdir = workdir
        self.port = free_port()
        self.ports = {}
        text = "user root\nper_listener_settings false\nallow_anonymous true\npersistence false\n" \
               "set_tcp_nodelay true\nmax_inflight_messages 0\nmax_queued_messages 100000\n" \
               "listener %d 127.0.0.1\n" % self.port
        for name, (cert, require) in listeners.items():
            port = free_port()
            self.ports[name] = port
            text += ("listener %d 127.0.0.1\ncafile %s\ncertfile %s\nkeyfile %s\nrequire_certificate %s\n"
                     % (port, pki.pem(client_ca), pki.pem(cert), pki.key(cert), "true" if require else "false"))
        self.conf = write(os.path.join(workdir, "mosquitto-tls.conf"), text)
        self.proc = None

    def start(self):
        self.proc = Proc("mosquitto", [MOSQUITTO, "-c", self.conf], self.workdir)
        wait_until(lambda: all(port_open(p) for p in [self.port] + list(self.ports.values())) or not self.proc.alive(),
                   10, "mosquitto's listeners")
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

    def tls_uri(self, name, host="127.0.0.1"):
        return "ssl://%s:%d" % (host, self.ports[name])
