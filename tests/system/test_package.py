"""The Debian packages, built by CPack from this build and installed for real (root, as CI runs):
lintian finds no error and no warning; `dpkg -i` creates the system user fieldgate in dialout, the
conffiles and the enabled unit, and `fieldgated --check-config` accepts the installed
configuration; a reinstall keeps a locally changed conffile; `dpkg --remove` keeps the state and
the configuration; `dpkg --purge` leaves nothing but the system user, as Debian policy does.
Works where systemd is not PID 1 (containers, CI): the maintainer scripts then start nothing.
Exits 77 (skipped) when not root."""
import fcntl
import glob
import os
import pwd
import grp
import re
import shutil
import subprocess
import sys
import time

from fgharness import BIN, SOURCE, Workdir

LOCK = "/run/lock/fieldgate-package-test.lock"
MARK = "/run/lock/fieldgate-package-test.installed"
PACKAGES = ("fieldgate", "fieldgate-tools")
# What the packages install; each must be there after dpkg -i and gone after the purge.
FILES = ("/usr/sbin/fieldgated", "/usr/bin/fieldgatectl", "/etc/fieldgate/fieldgate.ini", "/etc/fieldgate/conf.d",
         "/lib/systemd/system/fieldgate.service", "/usr/lib/sysusers.d/fieldgate.conf",
         "/usr/share/man/man8/fieldgated.8.gz", "/usr/share/man/man1/fieldgatectl.1.gz",
         "/usr/share/man/man5/fieldgate.ini.5.gz", "/usr/share/doc/fieldgate/copyright",
         "/usr/share/doc/fieldgate/changelog.gz", "/usr/bin/fieldgate-modbus-sim", "/usr/bin/fieldgate-cloud-sim",
         "/usr/share/doc/fieldgate-tools/copyright")
WANTS = "/etc/systemd/system/multi-user.target.wants/fieldgate.service"


def run(argv, check=True, timeout=300, env=None):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env)
    if check:
        assert r.returncode == 0, "%s exited %d:\n%s%s" % (" ".join(argv), r.returncode, r.stdout, r.stderr)
    return r


def dpkg(*args):
    """dpkg, waiting (bounded) while another dpkg or apt holds the lock."""
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    deadline = time.monotonic() + 600
    while True:
        r = run(["dpkg"] + list(args), check=False, env=env)
        if r.returncode == 0 or "lock" not in r.stderr or time.monotonic() > deadline:
            assert r.returncode == 0, "dpkg %s exited %d:\n%s%s" % (" ".join(args), r.returncode, r.stdout, r.stderr)
            return r
        time.sleep(2)


def installed(pkg):
    r = run(["dpkg-query", "-W", "-f=${Status}", pkg], check=False)
    return r.returncode == 0 and "installed" in r.stdout and "not-installed" not in r.stdout and \
        "config-files" not in r.stdout


def known(pkg):
    """Installed or only its configuration left (removed, not purged)."""
    r = run(["dpkg-query", "-W", "-f=${Status}", pkg], check=False)
    return r.returncode == 0 and "not-installed" not in r.stdout


def readme_exposure():
    m = re.search(r"offline exposure score ([0-9.]+)", open(os.path.join(SOURCE, "README.md")).read())
    assert m, "README.md no longer states the unit's offline exposure score"
    return float(m.group(1))


def build_packages(wd):
    r = run(["cpack", "-G", "DEB", "-B", wd], check=False, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    debs = {}
    for pkg in PACKAGES:
        found = glob.glob(os.path.join(wd, "%s_*.deb" % pkg))
        assert len(found) == 1, "%s: %s" % (pkg, os.listdir(wd))
        debs[pkg] = found[0]
    return debs


def check_metadata(debs):
    main = debs["fieldgate"]
    info = run(["dpkg-deb", "-I", main]).stdout
    depends = re.search(r"^ Depends: (.*)$", info, re.M).group(1)
    # dpkg-shlibdeps' libraries, Paho and libssl (loaded at run time) with versions, the scripts' helpers.
    for dep in ("libpaho-mqtt1.3 (>= 1.3.0)", "libssl3 (>= 3.0.0)", "libmodbus5", "libsqlite3-0", "libjsoncpp25", "libsystemd0",
                "libc6 (>=", "adduser", "init-system-helpers"):
        assert dep in depends, "%r missing from Depends: %s" % (dep, depends)
    description = info.split(" Description: ", 1)[1]
    assert len([l for l in description.splitlines() if l.startswith("  ")]) >= 5, "short extended description:\n" + info
    conffiles = run(["dpkg-deb", "-I", main, "conffiles"]).stdout.split()
    assert conffiles == ["/etc/fieldgate/fieldgate.ini"], conffiles
    postinst = run(["dpkg-deb", "-I", main, "postinst"]).stdout
    assert "adduser" in postinst and "dialout" in postinst and "deb-systemd-helper" in postinst, postinst
    tools = run(["dpkg-deb", "-c", debs["fieldgate-tools"]]).stdout
    assert "./usr/bin/fieldgate-modbus-sim" in tools and "./usr/bin/fieldgate-cloud-sim" in tools, tools
    assert "fieldgated" not in tools, tools
    for deb in debs.values():
        r = run(["lintian", "--fail-on", "error,warning", deb], check=False, timeout=600)
        problems = [l for l in r.stdout.splitlines() if l[:2] in ("E:", "W:")]
        assert r.returncode == 0 and not problems, "lintian %s:\n%s%s" % (deb, r.stdout, r.stderr)
        print("lintian clean:", os.path.basename(deb))


def check_installed():
    for path in FILES:
        assert os.path.lexists(path), path + " not installed"
    user = pwd.getpwnam("fieldgate")
    assert user.pw_uid < 1000 and user.pw_dir == "/var/lib/fieldgate", user
    assert user.pw_shell in ("/usr/sbin/nologin", "/bin/false"), user
    groups = run(["id", "-nG", "fieldgate"]).stdout.split()
    assert "fieldgate" in groups and "dialout" in groups, groups
    st = os.stat("/etc/fieldgate/fieldgate.ini")
    assert (st.st_uid, grp.getgrgid(st.st_gid).gr_name, st.st_mode & 0o777) == (0, "fieldgate", 0o640), st
    assert os.listdir("/etc/fieldgate/conf.d") == []
    conffiles = run(["dpkg-query", "-W", "-f=${Conffiles}", "fieldgate"]).stdout
    assert "/etc/fieldgate/fieldgate.ini" in conffiles, conffiles
    # The installed configuration is valid, for root and for the daemon's user (group read).
    run(["/usr/sbin/fieldgated", "-c", "/etc/fieldgate/fieldgate.ini", "--check-config"])
    run(["runuser", "-u", "fieldgate", "--", "/usr/sbin/fieldgated", "-c", "/etc/fieldgate/fieldgate.ini",
         "--check-config"])
    run(["/usr/bin/fieldgatectl", "--help"])
    run(["/usr/bin/fieldgate-modbus-sim", "--help"])
    # The unit as installed: enabled for the next boot (no systemd here to start it), valid, hardened.
    assert os.path.islink(WANTS), WANTS + " missing: deb-systemd-helper did not enable the unit"
    unit = "/lib/systemd/system/fieldgate.service"
    r = run(["systemd-analyze", "verify", "--man=no", unit], check=False, timeout=120)
    problems = [l for l in (r.stdout + r.stderr).splitlines() if "fieldgate.service" in l]
    assert r.returncode == 0 and not problems, r.stdout + r.stderr
    r = run(["systemd-analyze", "security", "--offline=true", unit], check=False, timeout=120)
    m = re.search(r"Overall exposure level for fieldgate.service: ([0-9.]+)", r.stdout + r.stderr)
    assert m and float(m.group(1)) <= readme_exposure(), r.stdout + r.stderr
    print("installed unit exposure", m.group(1))
    if shutil.which("man"):
        assert run(["man", "-w", "5", "fieldgate.ini"]).stdout.strip() == "/usr/share/man/man5/fieldgate.ini.5.gz"


def main():
    if os.geteuid() != 0:
        print("SKIPPED: installing a package needs root (CI runs as root)")
        sys.exit(77)
    lock = open(LOCK, "w")
    deadline = time.monotonic() + 900
    while True:  # another worktree's run of this test on the same machine: take turns
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            assert time.monotonic() < deadline, "another package test held %s for 15 min" % LOCK
            time.sleep(1)
    for pkg in PACKAGES:
        if known(pkg):
            # Only a leftover of an interrupted run of this test is cleaned up; a real installation is not ours.
            assert os.path.exists(MARK), "%s is installed on this machine: not touching it" % pkg
            dpkg("--purge", pkg)
    user_existed = run(["getent", "passwd", "fieldgate"], check=False).returncode == 0

    os.chdir(os.path.dirname(BIN))
    with Workdir("fg-deb-") as wd:
        debs = build_packages(wd)
        check_metadata(debs)
        open(MARK, "w").close()
        try:
            dpkg("-i", debs["fieldgate"], debs["fieldgate-tools"])
            assert installed("fieldgate") and installed("fieldgate-tools")
            check_installed()

            # A local change of the conffile survives a reinstall (the upgrade path: postinst configure <old>).
            with open("/etc/fieldgate/fieldgate.ini", "a") as f:
                f.write("; local change\n")
            dpkg("-i", debs["fieldgate"])
            assert open("/etc/fieldgate/fieldgate.ini").read().endswith("; local change\n")
            assert os.stat("/etc/fieldgate/fieldgate.ini").st_mode & 0o777 == 0o640

            # State as the daemon leaves it; remove keeps it (unconfirmed readings) and the configuration.
            os.makedirs("/var/lib/fieldgate", exist_ok=True)
            open("/var/lib/fieldgate/buffer.db", "w").close()
            with open("/etc/fieldgate/conf.d/site.ini", "w") as f:
                f.write("; the administrator's\n")
            dpkg("--remove", "fieldgate-tools", "fieldgate")
            assert not os.path.exists("/usr/sbin/fieldgated")
            assert os.path.exists("/var/lib/fieldgate/buffer.db") and os.path.exists("/etc/fieldgate/fieldgate.ini")
            # As dh_installsystemd does: remove masks the unit (its links are dropped on purge only).
            assert os.path.realpath("/etc/systemd/system/fieldgate.service") == "/dev/null", "unit not masked"

            dpkg("--purge", "fieldgate-tools", "fieldgate")
            assert not known("fieldgate") and not known("fieldgate-tools")
            left = [p for p in FILES + ("/etc/fieldgate", "/var/lib/fieldgate", "/run/fieldgate", WANTS)
                    if os.path.lexists(p)]
            left += glob.glob("/var/lib/systemd/deb-systemd-helper-*/**/fieldgate.service*", recursive=True)
            left += glob.glob("/etc/systemd/system/**/fieldgate.service", recursive=True)
            assert not left, "left after purge: %s" % left
            # Debian keeps system users on purge (files they owned may remain elsewhere).
            assert run(["getent", "passwd", "fieldgate"], check=False).returncode == 0
        finally:
            for pkg in PACKAGES:
                if known(pkg):
                    dpkg("--purge", pkg)
            if not user_existed and run(["getent", "passwd", "fieldgate"], check=False).returncode == 0:
                run(["deluser", "--system", "--quiet", "fieldgate"], check=False)
                run(["delgroup", "--system", "--quiet", "fieldgate"], check=False)
            os.unlink(MARK)
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
