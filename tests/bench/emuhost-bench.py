#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Start-to-first-frame benchmark: vireo-emuhost against the nested test host.

    emuhost-bench.py --fixtures DIR --emuhost PATH --worker PATH --console-client PATH
                     --cache DIR [--rounds 3] [--cpus 2] [--memory 512M]

The same VM both ways: the fixtures' Debian kernel and initramfs with the
scenario emuhost (it draws vireo-fbtool's pattern on hyperv_fb), the same
vCPUs and RAM, the worker inside QEMU/TCG with emulated AMD-V, a viewer
(vireo-console-client --frames 1) waiting on the console socket.

  ours  vireo-emuhost with the worker's command line, as vireod runs it;
        the viewer connects on this host through vireo-emuhost's relay.
  peer  the nested test host the real-guest tests use (nested-host.py, the
        run-scenario.py path): the worker and the viewer both inside L1.

Each run is timed on this host from launching the program (vireo-emuhost,
or nested-host.py) to the viewer's first frame (the surface's first
DAMAGE): image or initramfs cached (a first untimed run of each makes
sure), L1 boot, the worker, the guest's boot up to hyperv_fb's first
picture. CPU is what the run's processes used (RUSAGE_CHILDREN). Runs
alternate ours/peer; prints "metric ours peer ratio" lines (medians,
ratio = ours / peer).
"""

import argparse
import importlib.util
import os
import resource
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
GUEST = os.path.join(os.path.dirname(HERE), "guest")
sys.dont_write_bytecode = True
sys.path.insert(0, GUEST)

CMDLINE = "console=ttyS0 quiet vireo.scenario=emuhost"
FRAME_TIMEOUT_S = 300


def load_nested_host():
    spec = importlib.util.spec_from_file_location("nested_host", os.path.join(GUEST, "nested-host.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def cpu_children():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_ours(a, kernel, initrd):
    rundir = tempfile.mkdtemp(prefix="emuhost-bench-")
    os.chmod(rundir, 0o700)
    console = os.path.join(rundir, "console")
    cmd = [a.emuhost, "--emuhost-cache", a.cache, "--emuhost-worker", a.worker, "--name", "bench",
           "--kernel", kernel, "--initrd", initrd, "--cmdline", CMDLINE, "--memory", a.memory,
           "--cpus", str(a.cpus), "--serial", "none", "--console", console,
           "--control", os.path.join(rundir, "control")]
    log = open(os.path.join(rundir, "log"), "w")
    cpu0 = cpu_children()
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    first = None
    try:
        while not os.path.exists(console):
            if proc.poll() is not None or time.monotonic() - t0 > FRAME_TIMEOUT_S:
                raise RuntimeError(f"vireo-emuhost ended or took too long (status {proc.returncode})")
            time.sleep(0.02)
        c = subprocess.run([a.console_client, console, "--frames", "1", "--timeout", str(FRAME_TIMEOUT_S)],
                           capture_output=True, text=True)
        if c.returncode != 0:
            raise RuntimeError(f"the viewer failed: {c.stdout}{c.stderr}")
        first = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()
    cpu = cpu_children() - cpu0
    if first is None:
        with open(os.path.join(rundir, "log")) as f:
            sys.stderr.write(f.read()[-3000:])
    return first, cpu


def peer_job(a):
    run = "/tmp/run"
    worker = (f"/vireo/bin/vireo-worker --kernel /vireo/vmlinuz --initrd /vireo/guest.cpio.gz "
              f"--cmdline {shlex.quote(CMDLINE)} --memory {a.memory} --cpus {a.cpus} --serial none "
              f"--console {run}/console --control {run}/control")
    return "\n".join([
        "#!/bin/sh",
        f"mkdir -p {run} && chmod 700 {run}",
        f"{worker} > /tmp/worker.log 2>&1 &",
        "w=$!",
        f"i=0; while [ ! -S {run}/console ] && [ $i -lt 6000 ]; do sleep 0.02; i=$((i + 1)); done",
        f"if /vireo/bin/vireo-console-client {run}/console --frames 1 --timeout {FRAME_TIMEOUT_S} > /tmp/c.out 2>&1; "
        "then echo VIREO-FIRST-FRAME; else echo \"VIREO-BENCH-FAIL $(cat /tmp/c.out /tmp/worker.log | tail -n 5)\"; fi",
        "kill $w; wait $w",
    ]) + "\n"


def run_peer(a, nh, carry):
    seen = {}

    def on_line(text, t):
        if "VIREO-FIRST-FRAME" in text and "first" not in seen:
            seen["first"] = time.monotonic() - seen["t0"]
        if "VIREO-BENCH-FAIL" in text:
            seen["fail"] = text

    cpu0 = cpu_children()
    seen["t0"] = time.monotonic()
    initrd = nh.build_l1_initramfs(os.path.abspath(a.fixtures), carry, peer_job(a))
    try:
        res = nh.run_l1(os.path.abspath(a.fixtures), initrd, FRAME_TIMEOUT_S + 60, on_line=on_line, echo=False,
                        cpus=a.cpus)
    finally:
        os.unlink(initrd)
    cpu = cpu_children() - cpu0
    if "first" not in seen:
        sys.stderr.write("\n".join(res.tail[-20:]) + "\n" + seen.get("fail", "") + "\n")
    return seen.get("first"), cpu


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--emuhost", required=True)
    ap.add_argument("--worker", required=True)
    ap.add_argument("--console-client", required=True)
    ap.add_argument("--cache", required=True, help="vireo-emuhost's image cache")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--cpus", type=int, default=2)
    ap.add_argument("--memory", default="512M")
    ap.add_argument("--guest-tool", action="append", default=[])
    a = ap.parse_args()
    fx = [sys.executable, os.path.join(GUEST, "build-fixtures.py"), a.fixtures]
    for t in a.guest_tool:
        fx += ["--guest-tool", t]
    subprocess.run(fx, check=True)
    kernel = os.path.join(a.fixtures, "vmlinuz")
    initrd = os.path.join(a.fixtures, "guest.cpio.gz")
    nh = load_nested_host()
    carry = nh.expand_carry([a.worker, a.console_client], [kernel, initrd])
    subprocess.run([a.emuhost, "--emuhost-cache", a.cache, "--emuhost-worker", a.worker, "--emuhost-build-only"],
                   check=True, stdout=subprocess.DEVNULL)
    print(f"bench-emuhost: {a.rounds} rounds, ours/peer alternated, {a.cpus} vCPUs, {a.memory}; "
          "a first untimed run of each warms the caches", flush=True)
    ours, peer = [], []
    for r in range(a.rounds + 1):
        o = run_ours(a, kernel, initrd)
        p = run_peer(a, nh, carry)
        if o[0] is None or p[0] is None:
            sys.exit(f"bench-emuhost: round {r}: no first frame (ours {o[0]}, peer {p[0]})")
        print(f"bench-emuhost: round {r}{' (warm-up)' if r == 0 else ''}: ours {o[0]:.2f} s ({o[1]:.1f} s CPU), "
              f"peer {p[0]:.2f} s ({p[1]:.1f} s CPU)", flush=True)
        if r:
            ours.append(o)
            peer.append(p)
    print("metric ours peer ratio")
    for name, i in (("start_to_first_frame_s", 0), ("start_to_first_frame_cpu_s", 1)):
        o = statistics.median(x[i] for x in ours)
        p = statistics.median(x[i] for x in peer)
        print(f"{name} {o:.3f} {p:.3f} {o / p:.2f}")


if __name__ == "__main__":
    main()
