"""The command-line contract: --check-config and its compiler-style errors, exit codes 0/1/2,
--version/--help, and fieldgatectl's answer when no daemon runs."""
import os
import subprocess

from fgharness import BIN, SLOW, SOURCE, WRAP, Workdir, fieldgatectl, write

FIELDGATED = os.path.join(BIN, "fieldgated")


def run(*args, timeout=20):
    return subprocess.run(WRAP + [FIELDGATED] + list(args), capture_output=True, text=True, timeout=timeout * SLOW)


def main():
    demo = os.path.join(SOURCE, "conf", "demo", "fieldgate.ini")
    r = run("-c", demo, "--check-config")
    assert r.returncode == 0, r.stderr
    assert "valid" in r.stdout, r.stdout

    shipped = os.path.join(SOURCE, "conf", "fieldgate.ini")
    r = run("-c", shipped, "--check-config")
    assert r.returncode == 0, "the shipped conf/fieldgate.ini must validate: " + r.stderr

    with Workdir("fg-cli-") as wd:
        bad = write(os.path.join(wd, "bad.ini"),
                    "[gateway]\nproduct_key = pk\ndevice_key = dk\ndevice_secret = s\ncolour = blue\n"
                    "[mqtt]\nuri = tcp://127.0.0.1:1883\nkeepalive = soon\n"
                    "[model.m]\nx = holding:65535 float32\n")
        r = run("-c", bad, "--check-config")
        assert r.returncode == 1, (r.returncode, r.stderr)
        lines = r.stderr.strip().splitlines()
        assert any(l.startswith(bad + ":5: [gateway] colour: ") for l in lines), lines
        assert any(l.startswith(bad + ":8: [mqtt] keepalive: ") for l in lines), lines
        assert any(l.startswith(bad + ":10: [model.m] x: ") for l in lines), lines

        # conf.d/: a later file may add sections; a section defined twice is an error.
        conf = write(os.path.join(wd, "split", "fieldgate.ini"), open(demo).read().replace(
            "/tmp/fieldgate-demo", wd))
        write(os.path.join(wd, "split", "conf.d", "10-dup.ini"), "[bus.meters-gw]\ntype = tcp\nhost = 127.0.0.1\n")
        r = run("-c", conf, "--check-config")
        assert r.returncode == 1 and "10-dup.ini:1: [bus.meters-gw]" in r.stderr, r.stderr

        # The daemon refuses a bad file with exit 1 and never starts.
        r = run("-c", bad)
        assert r.returncode == 1, r.returncode

        # A store that cannot be opened is a runtime failure: exit 2, said clearly.
        nostore = write(os.path.join(wd, "nostore.ini"), open(demo).read()
                        .replace("/tmp/fieldgate-demo/buffer.db", os.path.join(wd, "missing", "dir", "buffer.db"))
                        .replace("/tmp/fieldgate-demo/control.sock", os.path.join(wd, "ctl.sock")))
        os.makedirs(os.path.join(wd, "conf.d"), exist_ok=True)
        with open(os.path.join(wd, "conf.d", "meters.ini"), "w") as f:
            f.write(open(os.path.join(SOURCE, "conf", "demo", "conf.d", "meters.ini")).read())
        r = run("-c", nostore, timeout=30)
        assert r.returncode == 2, (r.returncode, r.stderr)
        assert "cannot open" in r.stderr, r.stderr

        # No daemon: fieldgatectl says so and exits 3.
        ctl = fieldgatectl(nostore, "status")
        assert ctl.returncode == 3 and "not running" in ctl.stderr, (ctl.returncode, ctl.stderr)

    r = run("--version")
    assert r.returncode == 0 and r.stdout.startswith("fieldgated "), r.stdout
    r = run("--help")
    assert r.returncode == 0 and "--check-config" in r.stdout, r.stdout
    r = run("--no-such-flag")
    assert r.returncode == 1, r.returncode
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
