#!/usr/bin/env python3
"""make lint: the module graph of DESIGN.md, enforced on the sources.

Reads the arrows (FG_MODULE_DEPS_<m>) from cmake/modules.cmake and fails when
- a file of module m (src/m/, include/fieldgate/m/) includes "fieldgate/x/..." for a module x that
  is neither m nor one m points to;
- a C library's header is included outside the module that owns it (CLIB_OWNER below);
- another module includes a public header of m that includes one of m's C library headers (the C
  library would leak into the other module's compile).
Prints one line per violation, `FILE:LINE: ...`, and exits 1 if there is any.
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The C libraries' headers and the module(s) that may include them.
CLIB_OWNER = {
    "sqlite3.h": {"store"},
    "MQTTAsync.h": {"mqtt"},
    "MQTTClient.h": {"mqtt"},
    "json/json.h": {"enos", "daemon"},
    "modbus.h": {"modbus"},
    "modbus/modbus.h": {"modbus"},
    "systemd/sd-daemon.h": {"daemon"},
    "systemd/sd-event.h": {"daemon"},
}
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def arrows():
    text = open(os.path.join(ROOT, "cmake", "modules.cmake")).read()
    modules = re.search(r"set\(FG_MODULES ([^)]*)\)", text).group(1).split()
    deps = {m: set() for m in modules}
    for m, rest in re.findall(r"set\(FG_MODULE_DEPS_(\w+) ([^)]*)\)", text):
        deps[m] = {d for d in rest.replace('"', "").split() if d}
    return modules, deps


def files_of(module):
    for base in (os.path.join(ROOT, "src", module), os.path.join(ROOT, "include", "fieldgate", module)):
        for dirpath, _, names in os.walk(base):
            for n in sorted(names):
                if n.endswith((".cpp", ".hpp", ".h")):
                    yield os.path.join(dirpath, n)


def includes(path):
    with open(path, errors="replace") as f:
        for i, line in enumerate(f, 1):
            m = INCLUDE.match(line)
            if m:
                yield i, m.group(1), m.group(2)


def main():
    modules, deps = arrows()
    problems = []
    # Public headers that pull in a C library: (module, header path under include/).
    clib_headers = {}
    for m in modules:
        for path in files_of(m):
            if not path.startswith(os.path.join(ROOT, "include")):
                continue
            for _, kind, inc in includes(path):
                if kind == "<" and inc in CLIB_OWNER:
                    clib_headers[os.path.relpath(path, os.path.join(ROOT, "include"))] = (m, inc)
    for m in modules:
        allowed = deps[m] | {m}
        for path in files_of(m):
            rel = os.path.relpath(path, ROOT)
            for line, kind, inc in includes(path):
                where = "%s:%d" % (rel, line)
                if kind == '"' and inc.startswith("fieldgate/"):
                    other = inc.split("/")[1]
                    if other in modules and other not in allowed:
                        problems.append("%s: module %s includes %s, against the arrows (%s uses %s)"
                                        % (where, m, inc, m, ", ".join(sorted(deps[m])) or "nothing"))
                    owner = clib_headers.get(inc)
                    if owner and owner[0] != m:
                        problems.append("%s: module %s includes %s, which exposes %s's C library header <%s>"
                                        % (where, m, inc, owner[0], owner[1]))
                if kind == "<" and inc in CLIB_OWNER and m not in CLIB_OWNER[inc]:
                    problems.append("%s: module %s includes <%s>, which belongs to %s"
                                    % (where, m, inc, " and ".join(sorted(CLIB_OWNER[inc]))))
    for p in problems:
        print(p)
    print("module graph: %d modules, %d violations" % (len(modules), len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
