#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Run a TAP test of the emulated host once more when it failed because the
emulated host's own kernel crashed.

    rerun-on-l1-crash.py TEST [ARG]...

The emulated host is QEMU's emulated AMD-V running L1's KVM, the same stack
as the nested test host, and its kernel crashes there on rare runs
(tests/guest/README.md). vireod reports that as the VM's failure, in words
this looks for (CRASH_MARK); nothing about Vireo is learned from such a run.
A test that failed with those words in its output, or with a kernel
crash or lockup line of L1's, runs again, once, with
VIREO_L1_RERUN=1; a second such failure fails. A test that passes, or fails
without them, is never run again.

Only the last run's TAP reaches stdout, so the test harness reads one plan;
every run's output is copied to stderr as it comes, so a run killed by a
timeout still leaves its record.
"""

import os
import re
import selectors
import signal
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "guest"))
from fixturelib import L1_RERUN_ENV  # noqa: E402

P = "rerun-on-l1-crash"
# backend/worker/emuhost_relay.c: QEMU ended with status 0 (it runs L1 with
# -no-reboot) before the agent said the worker had ended.
CRASH_MARK = "(L1 reset or powered off: a crash inside it)"
# ... or L1's kernel said it is in trouble: its console lines reach the VM's
# worker log as "[L1] ...", which the test prints when a step fails. Seen in
# CI: "[L1] [   28.58] watchdog: BUG: soft lockup - CPU#1 stuck for 26s!",
# L1 then answering nothing, and a Turn Off that did not end in 240 s.
L1_KERNEL_RE = re.compile(r"\[L1\] \[\s*\d+\.\d+\] (watchdog: BUG: soft lockup|BUG: |Oops|Kernel panic|"
                          r"general protection fault|kernel BUG|rcu: INFO: rcu_\w+ detected stalls)")


def l1_trouble(line):
    return CRASH_MARK in line or bool(L1_KERNEL_RE.search(line))


def run_once(cmd, env, run_no):
    """Runs the test; returns (status, its stdout, whether CRASH_MARK was seen)."""
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, start_new_session=True)
    sel = selectors.DefaultSelector()
    sel.register(p.stdout, selectors.EVENT_READ, "out")
    sel.register(p.stderr, selectors.EVENT_READ, "err")
    out, tail, seen = [], {"out": b"", "err": b""}, False
    open_streams = 2
    while open_streams:
        for key, _ in sel.select():
            chunk = os.read(key.fileobj.fileno(), 65536)
            if not chunk:
                sel.unregister(key.fileobj)
                open_streams -= 1
                lines, tail[key.data] = ([tail[key.data]] if tail[key.data] else []), b""
            else:
                data = tail[key.data] + chunk
                *lines, tail[key.data] = data.split(b"\n")
            for raw in lines:
                line = raw.decode(errors="replace")
                seen |= l1_trouble(line)
                if key.data == "out":
                    out.append(line)
                sys.stderr.write(f"[run {run_no}] {line}\n")
            sys.stderr.flush()
    rc = p.wait()
    # What a failed run left behind (a QEMU of a hung L1 would take the CPUs
    # from the next run) goes with it.
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    return rc, out, seen


def main():
    cmd = sys.argv[1:]
    if not cmd:
        print(f"{P}: usage: {P} TEST [ARG]...", file=sys.stderr)
        return 2
    env = dict(os.environ)
    rerun = bool(env.get(L1_RERUN_ENV))
    rc, out, seen = run_once(cmd, env, 1)
    if rc != 0 and seen and not rerun:
        print(f"{P}: RERUN: the test failed after the emulated host's own kernel (L1, on QEMU's emulated "
              f"AMD-V) crashed, as it does on rare runs (tests/guest/README.md). Running the test once more "
              f"({L1_RERUN_ENV}=1); a second time fails it.", file=sys.stderr, flush=True)
        env[L1_RERUN_ENV] = "1"
        rc, out, seen = run_once(cmd, env, 2)
        rerun = True
    if rc != 0 and seen and rerun:
        print(f"{P}: FAILED: the emulated host's kernel crashed on the second run too", file=sys.stderr, flush=True)
    sys.stdout.write("".join(line + "\n" for line in out))
    sys.stdout.flush()
    return rc if rc >= 0 else 128 - rc


if __name__ == "__main__":
    sys.exit(main())
