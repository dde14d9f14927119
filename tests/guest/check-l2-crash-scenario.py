#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A scenario that fails inside the nested test host after a guest crash
there runs once more, and only once; one that passes, or that expects the
worker to end otherwise, does not.

    check-l2-crash-scenario.py RUN_SCENARIO_PY [run-scenario arguments...]

Always on the nested path (--path nested), where the watch works. The
scenario is boot; once the guest is up, a host step in L1 writes the
worker's triple-fault line and a guest oops line to L1's console, as the
worker would relay them. Three runs:
  - the boot expects a result the guest never reports: two boots, one
    "RERUN:", "on the second run too", status 78 (L2_CRASHED);
  - nothing else expected: one boot, status 0;
  - the same failing run expecting the worker's status 11 (a scenario that
    crashes on purpose): one boot, status 1.
"""

import os
import shlex
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixturelib import L1_RERUN_ENV, L2_CRASHED, check_verdict  # noqa: E402

P = "check-l2-crash-scenario"
CRASH_LINES = ["vireo-worker: vCPU 1 triple-faulted after 0 exits",
               "[    2.685905] BUG: unable to handle page fault for address: ffffffffff5fd0f0"]
STEPS = ["--host-step", "wait VIREO-GUEST-INIT 120",
         "--host-step", "exec crash /bin/sh -c " + shlex.quote("printf '%s\\n' " + " ".join(shlex.quote(x) for x in CRASH_LINES)
                                                               + " > /dev/console")]
NEVER = ["--expect", "never_reported=1"]


def run(base, extra):
    env = dict(os.environ)
    env.pop(L1_RERUN_ENV, None)
    cmd = [sys.executable] + base + ["--path", "nested", "--scenario", "boot", "--timeout", "150"] + STEPS + extra
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, timeout=550)
    out = p.stdout.decode(errors="replace")
    print(out, flush=True)
    return p.returncode, out.count("harness: scenario boot:"), out.count("RERUN: a guest crashed"), out


def main():
    base = sys.argv[1:]
    errors = []
    for name, extra, want in [("failing after a crash", NEVER, (L2_CRASHED, 2, 1)),
                              ("passing after a crash", [], (0, 1, 0)),
                              ("failing, expecting status 11", NEVER + ["--expect-exit", "11"], (1, 1, 0))]:
        rc, boots, reruns, out = run(base, extra)
        if (rc, boots, reruns) != want:
            errors.append(f"{name}: status {rc}, {boots} boots, {reruns} reruns; wanted {want[0]}, {want[1]}, {want[2]}")
        if want[0] == L2_CRASHED:
            if "a guest crashed inside the nested test host on the second run too" not in out:
                errors.append(f"{name}: the second run did not say it failed for the same reason")
            if f"harness:   {CRASH_LINES[1]}" not in out:
                errors.append(f"{name}: the crash lines seen were not shown")
    return check_verdict(P, errors, "")


if __name__ == "__main__":
    sys.exit(main())
