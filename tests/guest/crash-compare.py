#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Boot the demo kernel in the nested test host with vireo-worker and with
QEMU (microvm, -accel kvm) as the VMM, in turns, and count the early boots
that crash or hang under each.

    crash-compare.py --fixtures DIR --worker PATH [--pairs N] [--no-load] [--log FILE]

A boot is "ok" once the guest's console prints its first line (its kernel
is past the early boot where the crashes without a single exit fall), and
is then killed; "crashed" when the VMM ended first (the worker's
triple-fault line, QEMU's exit on the reset with -no-reboot); "hung" when
neither came within 40 s. By default L1 runs a fork loop and a memory
churn beside the boots: the guest crashes seen in the vireod tests came
with such company, and alone in L1 they were not seen. Both VMMs get the
same L1, the same load and alternate boots, so their counts compare.
Not part of the test suite: it settles whose the crashes are
(tests/guest/README.md, "crashes").
"""

import argparse
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
from fixturelib import qemu_microvm_args, qemu_microvm_carry  # noqa: E402

CMDLINE = "console=ttyS0 vireo.scenario=demo"

JOB = r"""
export HOME=/root PATH=/vireo/bin:/usr/bin:/bin:/sbin
if [ "$LOAD" = 1 ]; then
  ( while :; do /bin/true; done ) &
  ( while :; do head -c 50000000 /dev/zero | cat > /dev/null; done ) &
fi
K=/vireo/demo/vmlinuz; I=/vireo/demo/guest.cpio.gz
boot() {
  label=$1; shift
  rm -f /tmp/s.txt; "$@" > /tmp/w.txt 2>&1 &
  pid=$!; r=hung; n=0
  while [ $n -lt 160 ]; do
    sleep 0.25; n=$((n+1))
    if grep -q "Linux version" /tmp/s.txt 2>/dev/null; then r=ok; break; fi
    if ! kill -0 $pid 2>/dev/null; then r=crashed; break; fi
  done
  kill $pid 2>/dev/null
  k=0; while kill -0 $pid 2>/dev/null && [ $k -lt 20 ]; do sleep 0.25; k=$((k+1)); done
  kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
  echo "COMPARE $label $i $r $(grep -v 'by a signal\|terminating on signal' /tmp/w.txt | head -2 | tr '\n' ' ' | cut -c1-200)"
}
i=0
while [ $i -lt $PAIRS ]; do
  i=$((i+1))
  boot worker vireo-worker --kernel $K --initrd $I --memory 256M --cpus 1 --cmdline "$C" --serial /tmp/s.txt
  boot qemu qemu-system-x86_64 @QEMU_ARGS@
done
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--worker", required=True)
    ap.add_argument("--pairs", type=int, default=40)
    ap.add_argument("--no-load", action="store_true")
    ap.add_argument("--log")
    a = ap.parse_args()
    qemu = shutil.which("qemu-system-x86_64")
    if not qemu:
        sys.exit("crash-compare: qemu-system-x86_64 not found (Debian package qemu-system-x86)")
    fx = os.path.abspath(a.fixtures)
    qemu_args = qemu_microvm_args("256M", 1, "$K", "$I", CMDLINE, "file:/tmp/s.txt")
    job = (f"PAIRS={a.pairs} LOAD={0 if a.no_load else 1} C='{CMDLINE}'\n") + JOB.replace("@QEMU_ARGS@", qemu_args)
    cmd = [sys.executable, os.path.join(HERE, "nested-host.py"), "--fixtures", fx,
           "--exe", os.path.abspath(a.worker), "--exe", qemu,
           "--file", f"{fx}/vmlinuz:/vireo/demo/vmlinuz", "--file", f"{fx}/guest.cpio.gz:/vireo/demo/guest.cpio.gz",
           "--command", job, "--timeout", str(120 + a.pairs * 100), "--l1-cpus", "2"] + qemu_microvm_carry()
    if a.log:
        cmd += ["--log", a.log]
    counts = {}
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace") as p:
        for line in p.stdout:
            m = re.search(r"COMPARE (\w+) (\d+) (\w+)(.*)", line)
            if m:
                print(line.rstrip(), flush=True)
                key = (m.group(1), m.group(3))
                counts[key] = counts.get(key, 0) + 1
            elif line.startswith("nested-host:"):
                print(line.rstrip(), flush=True)
    for vmm in ("worker", "qemu"):
        n = sum(v for (w, _), v in counts.items() if w == vmm)
        parts = ", ".join(f"{r} {counts.get((vmm, r), 0)}" for r in ("ok", "crashed", "hung"))
        print(f"crash-compare: {vmm}: {n} boots: {parts}", flush=True)
    return 0 if counts else 1


if __name__ == "__main__":
    sys.exit(main())
