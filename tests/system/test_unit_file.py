"""The systemd unit: `systemd-analyze verify` finds nothing wrong, and the offline security
analysis rates it at most the figure the README gives (systemd's scale: 0 safest, 10 exposed)."""
import os
import re
import shutil
import subprocess

from fgharness import BIN, SOURCE, Workdir



def readme_exposure():
    """The bound is the README's figure: the test fails when the unit gets worse than advertised."""
    readme = open(os.path.join(SOURCE, "README.md")).read()
    m = re.search(r"offline exposure score ([0-9.]+)", readme)
    assert m, "README.md no longer states the unit's offline exposure score"
    return float(m.group(1))


def main():
    if not shutil.which("systemd-analyze"):
        raise AssertionError("systemd-analyze is missing: scripts/deps.sh installs package systemd")
    max_exposure = readme_exposure()
    assert max_exposure <= 1.5, "the README's figure %.1f is above the 1.5 the project promises" % max_exposure
    unit = open(os.path.join(SOURCE, "systemd", "fieldgate.service")).read()
    assert "Type=notify" in unit and "WatchdogSec=" in unit and "StateDirectory=fieldgate" in unit
    with Workdir("fg-unit-") as wd:
        # Point the unit at the freshly built daemon so verify can check the command lines.
        path = os.path.join(wd, "fieldgate.service")
        with open(path, "w") as f:
            f.write(unit.replace("/usr/sbin/fieldgated", os.path.join(BIN, "fieldgated")))
        r = subprocess.run(["systemd-analyze", "verify", "--man=no", path], capture_output=True, text=True, timeout=60)
        problems = [l for l in (r.stdout + r.stderr).splitlines() if "fieldgate.service" in l]
        assert r.returncode == 0 and not problems, "systemd-analyze verify:\n" + r.stdout + r.stderr
        r = subprocess.run(["systemd-analyze", "security", "--offline=true", path], capture_output=True, text=True,
                           timeout=60)
        m = re.search(r"Overall exposure level for fieldgate.service: ([0-9.]+)", r.stdout + r.stderr)
        assert m, r.stdout + r.stderr
        exposure = float(m.group(1))
        assert exposure <= max_exposure, "exposure %.1f > %.1f:\n%s" % (exposure, max_exposure, r.stdout)
        print("exposure", exposure)
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
