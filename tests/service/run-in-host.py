#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Run a test program that needs a KVM able to run stock guests.

    run-in-host.py --fixtures DIR --exe TEST [--exe PROG]... [--env NAME=VALUE]...
                   [--path auto|direct|nested] [--timeout S] [--log FILE] -- [TEST ARGS]

Directly when /dev/kvm is a hardware KVM; otherwise inside the nested test
host (tests/guest/nested-host.py), carrying the test, the programs it runs
(--exe, with their libraries) and the demo guest of the fixtures. In --env
values, @BIN@ is where the programs are (their folder here, /vireo/bin in
L1) and @DEMO@ the demo guest's folder. The test's own exit status is ours.
"""

import argparse
import importlib.util
import os
import shlex
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
GUEST = os.path.join(os.path.dirname(HERE), "guest")
sys.dont_write_bytecode = True
sys.path.insert(0, GUEST)
from fixturelib import L1_CRASHED, FixtureError, L2CrashWatch, choose_kvm_path, run_main, worker_logs_on_failure_sh  # noqa: E402

P = "run-in-host"


def load_nested_host():
    spec = importlib.util.spec_from_file_location("nested_host", os.path.join(GUEST, "nested-host.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--exe", action="append", required=True, help="the test first, then what it runs")
    ap.add_argument("--env", action="append", default=[])
    ap.add_argument("--path", choices=["auto", "direct", "nested"], default="auto")
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("--log")
    ap.add_argument("--l1-cpus", type=int, default=2)
    ap.add_argument("rest", nargs="*")
    a = ap.parse_args()
    subprocess.run([sys.executable, os.path.join(GUEST, "build-fixtures.py"), a.fixtures], check=True)
    demo = os.path.abspath(a.fixtures)
    for f in ("vmlinuz", "guest.cpio.gz"):
        if not os.path.exists(os.path.join(demo, f)):
            raise FixtureError(f"{demo}/{f} is missing (build-fixtures.py did not make it)")
    path, why = choose_kvm_path(a.path)
    exes = [os.path.abspath(e) for e in a.exe]
    if path == "direct":
        print(f"{P}: on /dev/kvm directly ({why})", flush=True)
        env = dict(os.environ)
        for kv in a.env:
            k, _, v = kv.partition("=")
            env[k] = v.replace("@DEMO@", demo).replace("@BIN@", os.path.dirname(exes[0]))
        return subprocess.call([exes[0]] + a.rest, env=env, timeout=a.timeout)

    print(f"{P}: inside the nested test host ({why})", flush=True)
    nh = load_nested_host()
    # Every program at /vireo/bin/NAME; dbus-daemon at its own path (GTestDBus
    # looks it up in $PATH).
    carry_exes = [f"{e}:/vireo/bin/{os.path.basename(e)}" for e in exes]
    for tool in ("dbus-daemon",):
        for d in ("/usr/bin", "/bin"):
            if os.path.exists(os.path.join(d, tool)):
                carry_exes.append(f"{d}/{tool}:/usr/bin/{tool}")
                break
        else:
            raise FixtureError(f"{tool} is not installed (Debian package dbus-daemon)")
    files = [f"{demo}/vmlinuz:/vireo/demo/vmlinuz", f"{demo}/guest.cpio.gz:/vireo/demo/guest.cpio.gz"]
    exports = []
    for kv in a.env:
        k, _, v = kv.partition("=")
        exports.append(f"export {k}={shlex.quote(v.replace('@DEMO@', '/vireo/demo').replace('@BIN@', '/vireo/bin'))}")
    test = "/vireo/bin/" + os.path.basename(exes[0])
    job = "\n".join(["#!/bin/sh", "export HOME=/root PATH=/vireo/bin:/usr/bin:/bin:/sbin",
                     # dbus-daemon wants a machine id and somewhere to put sockets
                     "mkdir -p /etc /run/user/0 && chmod 700 /run/user/0",
                     "[ -s /etc/machine-id ] || echo 0123456789abcdef0123456789abcdef > /etc/machine-id",
                     "echo 'root:x:0:0:root:/root:/bin/sh' > /etc/passwd"] + exports +
                    [f"{shlex.quote(test)} " + " ".join(shlex.quote(x) for x in a.rest), "rc=$?"] +
                    worker_logs_on_failure_sh("/tmp/*/run/vireo/*/worker.log") + ["exit $rc"]) + "\n"
    carry = nh.expand_carry(carry_exes, files)
    initrd = nh.build_l1_initramfs(os.path.abspath(a.fixtures), carry, job)
    watch = L2CrashWatch(P)

    try:
        res = nh.run_l1(os.path.abspath(a.fixtures), initrd, a.timeout, log=a.log, cpus=a.l1_cpus,
                        on_line=watch.on_line)
    finally:
        os.unlink(initrd)
    print(f"{P}: {nh.describe(res)}", flush=True)
    if res.timed_out:
        return 124
    if res.l1_crashed:
        print(f"{P}: {res.crash_report()}", flush=True)
        return L1_CRASHED
    if res.job_rc is None:
        print(f"{P}: L1 ended without the test's exit status", flush=True)
        return 125
    return watch.verdict(res.job_rc)


if __name__ == "__main__":
    run_main(P, main, 125)
