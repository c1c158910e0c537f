"""The Debian package: built by CPack from this build, it installs the layout of DESIGN.md
(daemon, tool, conffile, unit, sysusers, man pages), declares Paho (loaded at run time, so
dpkg-shlibdeps cannot see it) and creates the fieldgate user in its postinst."""
import glob
import os
import subprocess

from fgharness import BIN, Workdir


def main():
    build = os.path.dirname(BIN)
    with Workdir("fg-deb-") as wd:
        r = subprocess.run(["cpack", "-G", "DEB", "-B", wd], cwd=build, capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stdout + r.stderr
        debs = glob.glob(os.path.join(wd, "fieldgate_*.deb"))
        assert len(debs) == 1, os.listdir(wd)
        files = subprocess.run(["dpkg-deb", "-c", debs[0]], capture_output=True, text=True, check=True).stdout
        for path in ("./usr/sbin/fieldgated", "./usr/bin/fieldgatectl", "./etc/fieldgate/fieldgate.ini",
                     "./etc/fieldgate/conf.d/", "./lib/systemd/system/fieldgate.service",
                     "./usr/lib/sysusers.d/fieldgate.conf", "./usr/share/man/man8/fieldgated.8",
                     "./usr/share/man/man1/fieldgatectl.1"):
            assert path in files, "%s missing from the package:\n%s" % (path, files)
        info = subprocess.run(["dpkg-deb", "-I", debs[0]], capture_output=True, text=True, check=True).stdout
        assert "libpaho-mqtt1.3" in info and "libmodbus5" in info and "libsqlite3-0" in info, info
        conffiles = subprocess.run(["dpkg-deb", "-I", debs[0], "conffiles"], capture_output=True, text=True).stdout
        assert "/etc/fieldgate/fieldgate.ini" in conffiles, conffiles
        postinst = subprocess.run(["dpkg-deb", "-I", debs[0], "postinst"], capture_output=True, text=True).stdout
        assert "systemd-sysusers" in postinst and "dialout" in postinst, postinst
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
