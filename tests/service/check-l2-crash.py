#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A test that fails inside the nested test host after a guest crashed there
is run once more, and only there, and only once; a test that passes is not.

    check-l2-crash.py HARNESS [ARG]... (one ARG is @TEST@, the test program)

The "test" is /bin/sh. It leaves a worker log holding the worker's
triple-fault line and a guest oops line where the harness's job looks for
the logs of a failed test (XDG_RUNTIME_DIR/vireo/ID/worker.log under /tmp,
or the manager test's VIREO_GUI_HOME) and exits 1; or prints the triple-fault
line itself and exits 0. Nested: the failing one boots L1 twice, says "RERUN:"
once, then "on the second run too", and ends with status 78 (L2_CRASHED);
the passing one boots once and ends 0. On a KVM that runs guests directly:
no rerun, status 1 and 0.
"""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "guest"))
from fixturelib import L1_RERUN_ENV, L2_CRASHED, check_verdict  # noqa: E402

TRIPLE = "vireo-worker: vCPU 0 triple-faulted after 0 exits"
OOPS = "[    2.685905] BUG: stack guard page was hit at 00000000215aff91"
CRASH = ('d="${VIREO_GUI_HOME:-/tmp/l2-crash-check}/run/vireo/x" && mkdir -p "$d" && '
         f"printf '%s\\n' '{TRIPLE}' 'vireo-worker: VM x: the last of its serial console:' '{OOPS}' "
         '> "$d/worker.log"; ')


def run(harness, rc):
    env = dict(os.environ)
    env.pop(L1_RERUN_ENV, None)
    cmd = [sys.executable] + [("/bin/sh" if x == "@TEST@" else x) for x in harness]
    # The passing test prints the crash itself; the failing one leaves it to
    # the job, which must show the log.
    say = f"echo '# {TRIPLE}'; " if rc == 0 else ""
    p = subprocess.run(cmd + ["--", "-c", CRASH + say + f"exit {rc}"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, timeout=600)
    out = p.stdout.decode(errors="replace")
    print(out)
    return p.returncode, out


def main():
    harness = sys.argv[1:]
    if "@TEST@" not in harness:
        print("check-l2-crash: FAILED: no @TEST@ among the harness's arguments", flush=True)
        return 2
    errors = []
    rc, out = run(harness, 1)
    nested = "inside the nested test host" in out
    boots, reruns = out.count("inside the nested test host ("), out.count("RERUN: a guest crashed")
    want = (L2_CRASHED, 2, 1) if nested else (1, 0, 0)
    if (rc, boots, reruns) != want:
        errors.append(f"failing test after a crash: status {rc}, {boots} L1 boots, {reruns} reruns; "
                      f"wanted {want[0]}, {want[1]}, {want[2]}")
    if nested and "a guest crashed inside the nested test host on the second run too" not in out:
        errors.append("the second crashed run did not say it failed for the same reason")
    if nested and f"  {OOPS}" not in out:
        errors.append("the job did not show the failed test's worker log (the guest's oops in it)")
    rc, out = run(harness, 0)
    reruns = out.count("RERUN:")
    if rc != 0 or reruns:
        errors.append(f"passing test that printed a crash: status {rc} and {reruns} reruns, not 0 and 0")
    return check_verdict("check-l2-crash", errors,
                         f" ({'nested: the failing test run twice' if nested else 'direct: run once'})")


if __name__ == "__main__":
    sys.exit(main())
