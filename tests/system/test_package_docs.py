"""The man pages the packages ship: fieldgate.ini(5) names every key of the shipped configuration
(conf/fieldgate.ini) in its section, and every page formats without a warning from man."""
import os
import re
import shutil
import subprocess

from fgharness import SOURCE

PAGES = ("docs/fieldgated.8", "docs/fieldgatectl.1", "docs/fieldgate.ini.5")


def shipped_keys():
    """{section kind: keys} from conf/fieldgate.ini, commented-out keys included."""
    keys, section = {}, None
    for line in open(os.path.join(SOURCE, "conf", "fieldgate.ini")):
        line = line.strip()
        m = re.match(r"^;?\[(\w+)(\.[^\]]*)?\]$", line)
        if m:
            section = m.group(1)
            continue
        m = re.match(r"^;?([a-z_0-9]+)\s*=", line)
        if m and section and section != "model":
            keys.setdefault(section, set()).add(m.group(1))
    return keys


def main():
    page = open(os.path.join(SOURCE, "docs", "fieldgate.ini.5")).read()
    parts = re.split(r"^\.SH ", page, flags=re.M)
    sections = {}
    for part in parts:
        m = re.match(r"\[(\w+)(\.NAME)?\]", part)
        if m:
            sections[m.group(1)] = part
    missing = []
    for section, keys in shipped_keys().items():
        assert section in sections, "fieldgate.ini(5) has no [%s] section" % section
        for key in keys:
            if not re.search(r"\\fB%s\\fR|\.BR? .*\b%s\b" % (key, key), sections[section]):
                missing.append("[%s] %s" % (section, key))
    assert not missing, "keys of conf/fieldgate.ini missing from docs/fieldgate.ini.5: %s" % missing
    if shutil.which("man"):
        for p in PAGES:
            r = subprocess.run(["man", "--warnings", "-l", "-E", "UTF-8", os.path.join(SOURCE, p)],
                               capture_output=True, text=True, timeout=60, env=dict(os.environ, MANWIDTH="80"))
            assert r.returncode == 0 and not r.stderr.strip(), "%s: %s" % (p, r.stderr)
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
