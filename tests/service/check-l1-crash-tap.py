#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""rerun-on-l1-crash.py runs a TAP test once more only when it failed after
the emulated host's kernel crashed, only once, and passes on one plan.

    check-l1-crash-tap.py WRAPPER

The "tests" are shell scripts that print TAP and count their runs in a file.
"""

import os
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "guest"))
from fixturelib import check_verdict  # noqa: E402

MARK = ("vireo-emuhost: the emulated host (QEMU, exit status 0) ended before the worker did "
        "(L1 reset or powered off: a crash inside it)")
PASS = "echo 1..2; echo 'ok 1 /t/a'; echo 'ok 2 /t/b'"
CRASH = f"echo 1..2; echo 'ok 1 /t/a'; echo '{MARK}' >&2; echo 'not ok 2 /t/b'; exit 1"
LOCKUP = ("echo 1..2; echo 'ok 1 /t/a'; echo '# [L1] [   28.585645] watchdog: BUG: soft lockup - CPU#1 stuck "
          "for 26s! [vireo-worker:101]'; echo 'Bail out! state of emu is Stopping'; exit 133")
FAIL = "echo 1..2; echo 'ok 1 /t/a'; echo 'not ok 2 /t/b'; exit 1"
# A subtest that provokes the words on purpose and passes.
PASS_MARKED = f"echo 1..2; echo 'ok 1 /t/a'; echo '# {MARK}'; echo 'ok 2 /t/b'"

# (name, first run, second run, wanted status, runs, reruns said, "second run too" said)
CASES = [
    ("failed after an L1 crash, then passed", CRASH, PASS, 0, 2, 1, 0),
    ("failed after an L1 crash twice", CRASH, CRASH, 1, 2, 1, 1),
    ("failed after an L1 lockup, then passed", LOCKUP, PASS, 0, 2, 1, 0),
    ("failed without a crash", FAIL, PASS, 1, 1, 0, 0),
    ("passed with the words in its output", PASS_MARKED, CRASH, 0, 1, 0, 0),
]


def check(wrapper, tmp, case):
    name, first, second, want_rc, want_runs, want_reruns, want_too = case
    count = os.path.join(tmp, name.replace(" ", "-"))
    script = os.path.join(tmp, "t.sh")
    with open(script, "w") as f:
        f.write(f'echo x >> "{count}"\nif [ "$(wc -l < "{count}")" = 1 ]; then {first}; else {second}; fi\n')
    env = dict(os.environ)
    env.pop("VIREO_L1_RERUN", None)
    p = subprocess.run([sys.executable, wrapper, "/bin/sh", script], capture_output=True, env=env, timeout=60)
    out, err = p.stdout.decode(), p.stderr.decode()
    runs = len(open(count).read().splitlines())
    got = (p.returncode, runs, err.count("RERUN:"), err.count("crashed on the second run too"))
    errors = []
    if got != (want_rc, want_runs, want_reruns, want_too):
        errors.append(f"{name}: status {got[0]}, {got[1]} runs, {got[2]} reruns said, {got[3]} second-crash "
                      f"lines; wanted {want_rc}, {want_runs}, {want_reruns}, {want_too}")
    plans = out.count("1..2")
    last_ok = "ok 2 /t/b" in out.splitlines()
    if plans != 1:
        errors.append(f"{name}: {plans} TAP plans on stdout, not 1")
    if last_ok != (want_rc == 0):
        errors.append(f"{name}: stdout is not the last run's TAP:\n{out}")
    if "[run 1] ok 1 /t/a" not in err:
        errors.append(f"{name}: the first run's output was not copied to stderr")
    return errors


def main():
    wrapper = sys.argv[1]
    errors = []
    with tempfile.TemporaryDirectory(prefix="l1-crash-tap-") as tmp:
        for case in CASES:
            errors += check(wrapper, tmp, case)
    return check_verdict("check-l1-crash-tap", errors, f" ({len(CASES)} cases)")


if __name__ == "__main__":
    sys.exit(main())
