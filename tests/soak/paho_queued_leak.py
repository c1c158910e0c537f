"""Reproduces the 621-byte Paho leak of the ASan broker flap on purpose, with Paho alone.

    python3 tests/soak/paho_queued_leak.py

Builds tests/soak/paho_queued_publish_leak.c with ASan (gcc, libpaho-mqtt-dev), starts a private
mosquitto for each run and runs the program three times:
  1. queued, 2-frame stacks (the soak's malloc_context_size=2): the report of the flap, four
     "Indirect leak" lines inside libpaho-mqtt3a (Paho's heap tracker: the copy, its bookkeeping,
     the tree node, the file name) for one publish's topic and payload copies;
  2. queued, full stacks: the same two copies, allocated in MQTTAsync_send via
     MQTTAsync_sendMessage, i.e. the topic and payload copies of a publish command;
  3. paced (the next publish only after the PUBACK, as fieldgated does), broker killed with
     nothing queued: no leak.
Prints the reports and a verdict; exits 0 when all three show what is described above, 1 when
not (e.g. a Paho that frees a queued publish at MQTTAsync_destroy, as upstream does since #1474),
77 when gcc, the Paho headers or mosquitto are missing. Not a ctest: it checks the installed
Paho, not fieldgated; fieldgated's own stop is judged by the soak's flap under LeakSanitizer.
"""
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import fgharness as h  # noqa: E402

SRC = os.path.join(h.SOURCE, "tests", "soak", "paho_queued_publish_leak.c")
SHORT = "detect_leaks=1:malloc_context_size=2"
FULL = "detect_leaks=1:malloc_context_size=30:fast_unwind_on_malloc=0"


def run(wd, exe, mode, asan_options):
    broker = h.Mosquitto(wd).start()
    try:
        env = dict(os.environ, ASAN_OPTIONS=asan_options)
        p = subprocess.run([exe, broker.uri, str(broker.proc.proc.pid), mode], env=env, capture_output=True,
                           text=True, timeout=60)
    finally:
        broker.stop()  # killed by the program already: only reaped here
    return p.returncode, p.stderr


def leaks(report):
    """(kind, bytes, objects) of each leak record of a LeakSanitizer report."""
    return [(m.group(1), int(m.group(2)), int(m.group(3)))
            for m in re.finditer(r"^(Direct|Indirect) leak of (\d+) byte\(s\) in (\d+) object", report, re.M)]


def main():
    if not shutil.which("gcc") or not os.path.exists("/usr/include/MQTTAsync.h") or not os.path.exists(h.MOSQUITTO):
        print("SKIP: needs gcc, libpaho-mqtt-dev and mosquitto")
        return 77
    problems = []
    with h.Workdir("fg-paho-queued-") as wd:
        exe = os.path.join(wd, "paho_queued_publish_leak")
        subprocess.run(["gcc", "-g", "-fsanitize=address", "-o", exe, SRC, "-lpaho-mqtt3a"], check=True)

        rc, report = run(wd, exe, "queued", SHORT)
        print("== queued, %s: exit %d\n%s" % (SHORT, rc, report))
        found = leaks(report)
        if rc == 0 or not found or any(kind != "Indirect" for kind, _, _ in found) or len(found) != 4:
            problems.append("queued (2 frames): expected four indirect leak records, got %r" % found)

        rc, report = run(wd, exe, "queued", FULL)
        print("== queued, full stacks: exit %d\n%s" % (rc, report))
        # Each record is followed by its stack; the calloc records (the copies themselves) must
        # come from MQTTAsync_send called by MQTTAsync_sendMessage.
        records = re.split(r"\n(?=(?:Direct|Indirect) leak of)", report)
        copies = [r for r in records if "in __interceptor_calloc" in r]
        if rc == 0 or len(copies) != 2 or not all("in MQTTAsync_send " in r and "in MQTTAsync_sendMessage" in r
                                                  for r in copies):
            problems.append("queued (full stacks): expected the two copies from MQTTAsync_send, got %d calloc "
                            "records" % len(copies))

        rc, report = run(wd, exe, "paced", FULL)
        print("== paced, full stacks: exit %d\n%s" % (rc, report))
        if rc != 0 or leaks(report):
            problems.append("paced: expected no leak, exit %d and %r" % (rc, leaks(report)))

    if problems:
        print("NOT REPRODUCED:\n  " + "\n  ".join(problems))
        return 1
    print("REPRODUCED: a publish Paho accepted but had not started at the connection loss is lost at "
          "MQTTAsync_destroy (topic and payload copies of MQTTAsync_send); nothing is lost when none is queued")
    return 0


if __name__ == "__main__":
    sys.exit(main())
