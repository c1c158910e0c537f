"""The README's front door: the demo runs on its own and stops by itself after a duration,
exiting 0 only when readings reached the cloud simulator. Run in a private folder on free ports
(--dir, --free-ports), so two checkouts can run `make check` at once."""
import os
import subprocess
import sys

from fgharness import BIN, SOURCE, Workdir


def main():
    with Workdir("fg-demo-") as wd:
        r = subprocess.run([sys.executable, os.path.join(SOURCE, "scripts", "demo.py"), "--build", os.path.dirname(BIN),
                            "--duration", "8s", "--every", "3", "--dir", wd, "--free-ports"],
                           capture_output=True, text=True, timeout=120)
        out = r.stdout + r.stderr
    assert r.returncode == 0, "demo exited %d:\n%s" % (r.returncode, out)
    assert "3/3 devices online" in out, out
    assert "the cloud simulator accepted" in out, out
    accepted = int(out.rsplit("the cloud simulator accepted", 1)[1].split()[0])
    assert accepted >= 3, out
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
