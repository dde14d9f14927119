#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The nested test host reruns a test once when L1's own kernel crashes,
and only then.

    check-l1-crash.py NESTED_HOST_PY FIXTURES

1. A job that crashes L1's kernel (SysRq c) must end with status 75 after
   exactly two boots, naming the crash both times.
2. A job that resets L1 without a word (SysRq b) must end the same way,
   naming the reset both times.
3. A job that hangs L1 (here its pulse stopped with SIGSTOP; the limit is
   15 s, VIREO_L1_PULSE_S) must end the same way, naming the hang both times.
4. A job that fails by itself (exit 3), after saying nothing for longer than
   that limit, must end with 3 after one boot: a test's own failure is never
   retried, and a quiet job is not a hung L1.
"""

import os
import subprocess
import sys

sys.dont_write_bytecode = True     # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixturelib import L1_CRASHED, L1_RERUN_ENV, check_verdict  # noqa: E402


def run(nested_host, fixtures, command):
    env = dict(os.environ, VIREO_L1_PULSE_S="15")
    env.pop(L1_RERUN_ENV, None)
    p = subprocess.run([sys.executable, nested_host, "--fixtures", fixtures, "--timeout", "180",
                        "--command", command], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       env=env, timeout=600)
    out = p.stdout.decode(errors="replace")
    return p.returncode, out, out.count("booting L1")


def main():
    nested_host, fixtures = sys.argv[1], sys.argv[2]
    errors = []
    rc, out, boots = run(nested_host, fixtures, "echo c > /proc/sysrq-trigger; sleep 30; exit 0")
    print(out)
    if rc != L1_CRASHED:
        errors.append(f"a crashing L1 ended with status {rc}, not {L1_CRASHED}")
    if boots != 2:
        errors.append(f"a crashing L1 was booted {boots} time(s), not twice")
    for want in ("RERUN:", "crashed on the second run too", "L1's kernel crashed; its report begins:"):
        if want not in out:
            errors.append(f"a crashing L1's output lacks '{want}'")
    if "sysrq" not in out.lower():
        errors.append("the crash report does not show the SysRq crash that caused it")
    rc, out, boots = run(nested_host, fixtures, "echo b > /proc/sysrq-trigger; sleep 30; exit 0")
    print(out)
    if (rc, boots) != (L1_CRASHED, 2):
        errors.append(f"an L1 that reset itself: status {rc} after {boots} boot(s) (want {L1_CRASHED} after 2)")
    if out.count("L1 reset itself with no crash report") != 2:
        errors.append("an L1 that reset itself was not named so on both runs")
    rc, out, boots = run(nested_host, fixtures, "kill -STOP $(cat /run/vireo-pulse.pid); sleep 300; exit 0")
    print(out)
    if (rc, boots) != (L1_CRASHED, 2):
        errors.append(f"an L1 whose pulse stopped: status {rc} after {boots} boot(s) (want {L1_CRASHED} after 2)")
    if out.count("L1 hung while the job ran: its pulse") != 2:
        errors.append("an L1 whose pulse stopped was not named hung on both runs")
    rc, out, boots = run(nested_host, fixtures, "sleep 25; exit 3")
    print(out)
    if rc != 3 or boots != 1 or "RERUN" in out:
        errors.append(f"a job's own failure: status {rc} after {boots} boot(s) (want 3 after 1, no rerun)")
    return check_verdict("check-l1-crash", errors, ": L1 crashes, resets and hangs are rerun once and reported; "
                         "job failures are not rerun")


if __name__ == "__main__":
    sys.exit(main())
