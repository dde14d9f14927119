#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A scenario whose guest goes quiet for good and times out is run once more
inside the nested test host, and only there, and only once.

    check-l2-quiet.py RUN_SCENARIO_PY [run-scenario arguments...]

The guest runs the scenario stubborn (it says VIREO-READY, then sleeps for
ever) with a 75 s timeout and a quiet limit of 30 s (VIREO_L2_QUIET_S).
Nested: two boots, one "RERUN:" line, then "on the second run too" and
exit status 76 (L2_QUIET), each run stopped once the guest had been quiet
for the limit rather than at the timeout. On a KVM that runs the guest directly: one
boot, no rerun, exit status 1.
"""

import os
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixturelib import L1_RERUN_ENV, L2_QUIET, check_verdict  # noqa: E402


def main():
    env = dict(os.environ, VIREO_L2_QUIET_S="30")
    env.pop(L1_RERUN_ENV, None)
    p = subprocess.run([sys.executable] + sys.argv[1:] + ["--scenario", "stubborn", "--timeout", "75"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, timeout=400)
    out = p.stdout.decode(errors="replace")
    print(out)
    nested = "using nested test host" in out
    boots, reruns = out.count("harness: scenario stubborn:"), out.count("RERUN: the guest went quiet")
    want = (2, 1) if nested else (1, 0)
    errors = []
    want_rc = L2_QUIET if nested else 1
    if p.returncode != want_rc:
        errors.append(f"the quiet guest's test ended with status {p.returncode}, not {want_rc}")
    if (boots, reruns) != want:
        errors.append(f"{'nested' if nested else 'direct'}: {boots} boots and {reruns} reruns, not {want[0]} and {want[1]}")
    if nested and "on the second run too" not in out:
        errors.append("the second quiet run did not say it failed for the same reason")
    # Stopped once quiet for the limit, not at the timeout: the rerun must
    # fit in the time meson gives the test.
    early = out.count("TIMEOUT: the guest has said nothing for 30 s")
    if nested and early != 2:
        errors.append(f"{early} of the 2 quiet runs were stopped at the quiet limit, not at the 75 s timeout")
    return check_verdict("check-l2-quiet", errors, f" ({'nested: run twice' if nested else 'direct: run once'})")


if __name__ == "__main__":
    sys.exit(main())
