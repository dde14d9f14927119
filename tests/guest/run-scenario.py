#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Boot the stock Debian kernel under vireo-worker, run one guest scenario, check it.

    run-scenario.py --fixtures DIR --worker PATH --scenario NAME
        [--cpus 2] [--memory 512M] [--boot bzimage|pvh] [--on-reboot exit|restart]
        [--host-request powerbutton-after-ready] [--ctl-client CMD]
        [--expect KEY=VALUE | KEY>=N | KEY<=N | KEY!=VALUE]... [--expect-exit N]
        [--expect-boots N] [--allow-fail REGEX]... [--path auto|direct|nested]
        [--timeout S] [--log FILE] [--json FILE] [--peer-qemu SCRIPT]

The path is chosen here: the worker runs directly on /dev/kvm when that is a
hardware KVM, else inside the nested test host (nested-host.py: QEMU/TCG with
emulated AMD-V); the choice is printed. The guest reports on its serial
console ("VIREO-RESULT key=value", see guest-init.sh); a key reported more
than once (one per boot) is compared as the comma-joined list, e.g.
boot_count=0,1. Derived keys: boots (number of times the guest reached
/init). The test fails, naming what failed and printing the console tail,
when the worker's exit status differs from --expect-exit (default 0), when
an expectation fails, when the guest printed a VIREO-FAIL line not matched
by --allow-fail, when a scenario ended with rc != 0, or on timeout.

--peer-qemu tests/bench/peer-qemu.sh runs the QEMU stand-in instead of the
worker (to validate this harness and as the benchmark peer); it implies
--allow-fail 'insmod hv_' (QEMU is not Hyper-V).
"""

import argparse
import importlib.util
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True     # no __pycache__ in the source tree
sys.path.insert(0, HERE)
from fixturelib import FixtureError, choose_kvm_path, stop_process_group, stream_lines  # noqa: E402

P = "harness"

EXIT_NAMES = {0: "guest powered off", 10: "guest rebooted", 11: "triple fault",
              12: "KVM could not run the guest", 13: "turned off by the host",
              1: "worker could not start", 2: "bad usage", 124: "timeout",
              125: "nested host failure"}

# --host-request NAME: (console line the guest prints when ready, control command)
HOST_REQUESTS = {
    "powerbutton-after-ready": ("VIREO-READY powerbutton", "power-button"),
}

# Console lines after which nothing good can come: stop at once instead of
# waiting for the timeout (QEMU stops the VM and stays up on these).
FATAL_PATTERNS = ["KVM internal error"]

ANSI = re.compile(r"\x1b(\[[0-9;?]*[A-Za-z]|c)")
RESULT_RE = re.compile(r"VIREO-RESULT ([A-Za-z0-9_.-]+)=(.*)$")
EXPECT_RE = re.compile(r"^([A-Za-z0-9_.-]+)(>=|<=|!=|=)(.*)$")


def say(msg):
    print(f"{P}: {msg}", flush=True)


def exit_name(rc):
    if rc is None:
        return "no exit status"
    if rc < 0:
        return f"killed by signal {-rc}"
    return f"{rc} ({EXIT_NAMES.get(rc, 'unknown status')})"


class Abort(Exception):
    """Stop the run early (reboot loop)."""


class Console:
    """Parses the guest / L1 console lines."""

    def __init__(self, args, t0):
        self.args = args
        self.t0 = t0
        self.results = {}
        self.fails = []
        self.boots = 0
        self.scenario_rcs = []
        self.marks = {}
        self.tail = []
        self.worker_rc = None
        self.request_sent = False
        self.request_rc = None
        self.request_reply = ""
        self.guest_uptime_at_init = []
        self.hidden = 0

    def mark(self, name, t):
        self.marks.setdefault(name, t)

    def feed(self, text, t):
        text = ANSI.sub("", text.replace("\r", ""))
        if "TCG doesn't support requested feature" in text:
            self.hidden += 1
            return
        print(text, flush=True)
        self.tail.append(text)
        del self.tail[:-300]
        for pat in FATAL_PATTERNS:
            if pat in text:
                self.fails.append(f"VIREO-FAIL console: {text.strip()}")
                raise Abort(f"fatal console line: {text.strip()}")
        if "VIREO-" not in text:
            return
        line = text[text.index("VIREO-"):]
        m = RESULT_RE.match(line)
        if m:
            self.results.setdefault(m.group(1), []).append(m.group(2).strip())
            return
        if line.startswith("VIREO-GUEST-INIT"):
            self.boots += 1
            self.mark("guest_init", t)
            self.marks[f"guest_init_{self.boots}"] = t
            m = re.search(r"uptime=([0-9.]+)", line)
            if m:
                self.guest_uptime_at_init.append(float(m.group(1)))
            if self.boots > self.args.max_boots:
                raise Abort(f"the guest booted {self.boots} times (more than --max-boots "
                            f"{self.args.max_boots}): reboot loop")
        elif line.startswith("VIREO-FAIL"):
            self.fails.append(line)
        elif line.startswith("VIREO-MODULES-LOADED"):
            self.mark("modules_loaded", t)
        elif line.startswith("VIREO-SCENARIO-END"):
            self.mark("scenario_end", t)
            m = re.search(r"rc=(\d+)", line)
            if m:
                self.scenario_rcs.append(int(m.group(1)))
        elif line.startswith("VIREO-WORKER-START"):
            self.mark("worker_start", t)
        elif line.startswith("VIREO-WORKER-EXIT"):
            self.mark("worker_exit", t)
            m = re.search(r"rc=(-?\d+)", line)
            if m:
                self.worker_rc = int(m.group(1))
        elif line.startswith("VIREO-L1-INIT"):
            self.mark("l1_init", t)
        elif line.startswith("VIREO-L1-FAIL"):
            self.fails.append(line)
        elif line.startswith("VIREO-HOST-REQUEST-DONE"):
            self.mark("request_done", t)
            m = re.search(r"rc=(\d+) ?(.*)", line)
            if m:
                self.request_rc = int(m.group(1))
                self.request_reply = m.group(2)
        elif line.startswith("VIREO-HOST-REQUEST"):
            self.request_sent = True
            self.mark("request", t)
        elif line.startswith("VIREO-READY"):
            self.mark("ready", t)


# --------------------------------------------------------------------------


def load_nested_host():
    spec = importlib.util.spec_from_file_location("nested_host", os.path.join(HERE, "nested-host.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def guest_files(args):
    kname = "vmlinux" if args.boot == "pvh" else "vmlinuz"
    kernel = os.path.join(args.fixtures, kname)
    initrd = os.path.join(args.fixtures, "guest.cpio.gz")
    for p in (kernel, initrd):
        if not os.path.exists(p):
            raise FixtureError(f"{p} is missing (build-fixtures.py {args.fixtures} did not make it)")
    return kernel, initrd


def cmdline(args):
    parts = ["console=ttyS0"]
    if not args.kernel_log:
        parts.append("quiet")
    parts += ["panic=-1", f"vireo.scenario={args.scenario}"]
    if args.cmdline_extra:
        parts.append(args.cmdline_extra)
    return " ".join(parts)


def worker_argv(args, worker, kernel, initrd, control):
    argv = list(worker) + ["--kernel", kernel, "--initrd", initrd, "--cmdline", cmdline(args),
                           "--memory", args.memory, "--cpus", str(args.cpus), "--serial", "stdio"]
    if control:
        argv += ["--control", control]
    if args.on_reboot:
        argv += [f"--on-reboot={args.on_reboot}"]
    argv += args.worker_arg
    return argv


# --------------------------------------------------------------------------

def run_direct(args, con, t0):
    kernel, initrd = guest_files(args)
    tmp = tempfile.mkdtemp(prefix="vireo-scenario-")
    control = os.path.join(tmp, "control") if (args.host_request or args.ctl_client) else None
    argv = worker_argv(args, [args.worker], kernel, initrd, control)
    say("worker: " + " ".join(shlex.quote(a) for a in argv))
    request = HOST_REQUESTS.get(args.host_request) if args.host_request else None
    con.mark("worker_start", time.monotonic() - t0)
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + args.timeout
    timed_out = False
    def on_line(text):
        con.feed(text, time.monotonic() - t0)
        if request and not con.request_sent and request[0] in text:
            do_request_direct(args, con, control, request[1], t0)

    try:
        timed_out = stream_lines(proc, deadline, on_line)
    except Abort as e:
        con.fails.append(f"VIREO-FAIL harness: {e}")
    finally:
        stop_process_group(proc)
        try:
            for f in os.listdir(tmp):
                os.unlink(os.path.join(tmp, f))
            os.rmdir(tmp)
        except OSError:
            pass
    con.worker_rc = None if timed_out else proc.returncode
    con.mark("worker_exit", time.monotonic() - t0)
    if timed_out:
        say(f"TIMEOUT: the worker did not finish within {args.timeout:.0f} s; killed it (pid {proc.pid})")
    return timed_out


def do_request_direct(args, con, control, command, t0):
    ctl = args.ctl_client_argv
    con.feed(f"VIREO-HOST-REQUEST {command}", time.monotonic() - t0)
    if not ctl:
        con.feed(f"VIREO-HOST-REQUEST-DONE rc=127 no control client (--ctl-client)", time.monotonic() - t0)
        return
    try:
        p = subprocess.run(ctl + [control, command], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=15)
        out = p.stdout.decode(errors="replace").strip().replace("\n", " ")
        rc = p.returncode
    except subprocess.TimeoutExpired:
        out, rc = "no reply within 15 s", 124
    except OSError as e:
        out, rc = f"{ctl[0]}: {e.strerror}", 127
    con.feed(f"VIREO-HOST-REQUEST-DONE rc={rc} {out}", time.monotonic() - t0)


def nested_job(args, worker_l1, ctl_l1, kernel_l1, initrd_l1):
    control = "/tmp/vireo-control" if (args.host_request or ctl_l1) else None
    argv = worker_argv(args, worker_l1, kernel_l1, initrd_l1, control)
    q = " ".join(shlex.quote(a) for a in argv)
    lines = ["#!/bin/sh", "# generated by run-scenario.py", ": > /tmp/l2.log", "rm -f /tmp/worker.rc"]
    if args.host_request:
        ready, command = HOST_REQUESTS[args.host_request]
        if ctl_l1:
            ctlq = " ".join(shlex.quote(a) for a in ctl_l1 + [control, command])
            act = (f'out=$({ctlq} 2>&1); rc=$?; '
                   f'echo "VIREO-HOST-REQUEST-DONE rc=$rc $(echo $out)"')
        else:
            act = 'echo "VIREO-HOST-REQUEST-DONE rc=127 no control client (--ctl-client)"'
        lines += [
            "(",
            f"  while ! grep -q {shlex.quote(ready)} /tmp/l2.log; do",
            "    [ -e /tmp/worker.rc ] && exit 0",
            "    sleep 0.2",
            "  done",
            f'  echo "VIREO-HOST-REQUEST {command}"',
            f"  {act}",
            # Not on the console while the guest writes to it: bytes of both
            # would interleave mid-line. Printed once the worker has exited.
            ") > /tmp/host-requests.log 2>&1 &",
        ]
    lines += [
        'read -r up _ < /proc/uptime; echo "VIREO-WORKER-START uptime=$up"',
        f"echo {shlex.quote('worker: ' + q)}",
        f"{{ {q} < /dev/null 2>&1; echo $? > /tmp/worker.rc; }} | tee /tmp/l2.log",
        "rc=$(cat /tmp/worker.rc 2>/dev/null || echo 255)",
        "wait",
        "[ -e /tmp/host-requests.log ] && cat /tmp/host-requests.log",
        'read -r up _ < /proc/uptime; echo "VIREO-WORKER-EXIT rc=$rc uptime=$up"',
        "exit $rc",
    ]
    return "\n".join(lines) + "\n"


def run_nested(args, con, t0):
    nh = load_nested_host()
    kernel, initrd = guest_files(args)
    exes, files = [], []
    worker_dest = "/vireo/bin/" + os.path.basename(args.worker)
    exes.append(f"{args.worker}:{worker_dest}")
    ctl_l1 = None
    if args.ctl_client_argv:
        c0 = args.ctl_client_argv[0]
        if os.path.realpath(c0) == os.path.realpath(args.worker):
            ctl_l1 = [worker_dest] + args.ctl_client_argv[1:]
        else:
            d = "/vireo/bin/" + os.path.basename(c0)
            exes.append(f"{c0}:{d}")
            ctl_l1 = [d] + args.ctl_client_argv[1:]
    for e in args.carry_exe:
        exes.append(e if ":" in e else f"{e}:{e}")
    files += args.carry
    kernel_l1 = "/vireo/guest/" + os.path.basename(kernel)
    initrd_l1 = "/vireo/guest/guest.cpio.gz"
    files += [f"{kernel}:{kernel_l1}", f"{initrd}:{initrd_l1}"]
    job = nested_job(args, [worker_dest], ctl_l1, kernel_l1, initrd_l1)
    carry = nh.expand_carry(exes, files)
    l1rd = nh.build_l1_initramfs(args.fixtures, carry, job)
    say(f"booting L1 (QEMU TCG with emulated AMD-V; timeout {args.timeout:.0f} s)")
    t_l1 = time.monotonic()
    res = None
    try:
        res = nh.run_l1(args.fixtures, l1rd, args.timeout, log=args.log, echo=False,
                        on_line=lambda text, t: con.feed(text, t + (t_l1 - t0)),
                        cpus=args.l1_cpus, memory=args.l1_memory)
    except Abort as e:
        con.fails.append(f"VIREO-FAIL harness: {e}")
        return False
    finally:
        os.unlink(l1rd)
    con.l1 = res
    if res.timed_out:
        say(f"TIMEOUT: nothing finished within {args.timeout:.0f} s (phase: {res.phase}); QEMU killed")
        return True
    if res.job_rc is None:
        con.fails.append(f"VIREO-FAIL nested host: L1 ended without reporting the job's status "
                         f"(QEMU status {res.qemu_rc}, phase: {res.phase})")
    elif res.job_rc == 125:
        con.fails.append("VIREO-FAIL nested host: L1 could not provide /dev/kvm")
    if con.worker_rc is None and res.job_rc is not None and res.job_rc != 125:
        con.worker_rc = res.job_rc
    return False


# --------------------------------------------------------------------------

def check(args, con, timed_out):
    errors = []
    if timed_out:
        errors.append(f"timeout after {args.timeout:.0f} s")
    if con.worker_rc is not None and con.worker_rc != args.expect_exit:
        errors.append(f"worker exit status {exit_name(con.worker_rc)}, expected {exit_name(args.expect_exit)}")
    elif con.worker_rc is None and not timed_out:
        errors.append("the worker's exit status is unknown")
    if con.boots == 0:
        errors.append("the guest never reached its /init (no VIREO-GUEST-INIT line)")
    for f in con.fails:
        if not any(re.search(a, f) for a in args.allow_fail):
            errors.append(f"guest/host reported: {f}")
    for i, rc in enumerate(con.scenario_rcs):
        if rc != 0:
            errors.append(f"scenario {args.scenario} ended with rc={rc} (boot {i + 1})")
    if args.host_request:
        ready = HOST_REQUESTS[args.host_request][0]
        if "ready" not in con.marks:
            errors.append(f"the guest never printed '{ready}', so the host request was not sent")
        elif con.request_rc is None:
            errors.append(f"host request '{args.host_request}' was not completed")
        elif con.request_rc != 0:
            errors.append(f"host request '{args.host_request}' failed: rc={con.request_rc} {con.request_reply}")
    values = {k: ",".join(v) for k, v in con.results.items()}
    values["boots"] = str(con.boots)
    if args.expect_boots is not None and con.boots != args.expect_boots:
        errors.append(f"the guest booted {con.boots} time(s), expected {args.expect_boots}")
    for e in args.expect:
        m = EXPECT_RE.match(e)
        key, op, want = m.group(1), m.group(2), m.group(3)
        if key not in values:
            errors.append(f"expected {e}, but the guest reported no '{key}'")
            continue
        got = values[key]
        if op in (">=", "<="):
            try:
                g, w = float(got), float(want)
            except ValueError:
                errors.append(f"expected {e}: '{key}' is '{got}', not a number")
                continue
            ok = g >= w if op == ">=" else g <= w
        elif op == "=":
            ok = got == want
        else:
            ok = got != want
        if not ok:
            errors.append(f"expected {e}, got {key}={got}")
    return errors


def timings(con):
    m = con.marks
    out = {}
    if "l1_init" in m:
        out["l1_to_init_s"] = m["l1_init"]
    ws = m.get("worker_start")
    if ws is not None:
        for k, name in (("guest_init", "worker_to_guest_init_s"), ("modules_loaded", "worker_to_modules_loaded_s"),
                        ("scenario_end", "worker_to_scenario_end_s"), ("worker_exit", "worker_total_s")):
            if k in m:
                out[name] = m[k] - ws
    if con.guest_uptime_at_init:
        out["guest_uptime_at_init_s"] = con.guest_uptime_at_init[0]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--worker", help="vireo-worker (or a program with its command line)")
    ap.add_argument("--scenario", required=True)
    ap.add_argument("--cpus", type=int, default=2)
    ap.add_argument("--memory", default="512M")
    ap.add_argument("--boot", choices=["bzimage", "pvh"], default="bzimage",
                    help="bzimage: --kernel vmlinuz; pvh: --kernel vmlinux (ELF, PVH entry)")
    ap.add_argument("--on-reboot", choices=["exit", "restart"])
    ap.add_argument("--host-request", choices=sorted(HOST_REQUESTS))
    ap.add_argument("--ctl-client", help="control client command (default: vireo-worker-ctl next to the worker)")
    ap.add_argument("--expect", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--expect-exit", type=int, default=0)
    ap.add_argument("--expect-boots", type=int)
    ap.add_argument("--max-boots", type=int, default=3)
    ap.add_argument("--allow-fail", action="append", default=[], metavar="REGEX",
                    help="VIREO-FAIL lines matching this are not errors")
    ap.add_argument("--path", choices=["auto", "direct", "nested"],
                    default=os.environ.get("VIREO_GUEST_PATH", "auto"))
    ap.add_argument("--timeout", type=float, help="seconds (default 300 nested, 120 direct)")
    ap.add_argument("--log", help="console log file (nested: L1 console, time-stamped)")
    ap.add_argument("--json", help="write results, exit status and timings to this file")
    ap.add_argument("--kernel-log", action="store_true", help="drop 'quiet' from the guest command line")
    ap.add_argument("--cmdline-extra", default="", help="more guest kernel parameters")
    ap.add_argument("--worker-arg", action="append", default=[], help="extra worker argument")
    ap.add_argument("--carry-exe", action="append", default=[], metavar="PATH[:DEST]",
                    help="nested: also carry this program and its libraries into L1")
    ap.add_argument("--carry", action="append", default=[], metavar="PATH[:DEST]",
                    help="nested: also carry this file into L1")
    ap.add_argument("--peer-qemu", metavar="SCRIPT", help="use tests/bench/peer-qemu.sh as the VMM")
    ap.add_argument("--l1-cpus", type=int, default=1)
    ap.add_argument("--l1-memory", type=int, default=3072, help="nested host RAM in MiB (3072)")
    ap.add_argument("--no-build-fixtures", action="store_true")
    args = ap.parse_args()

    for e in args.expect:
        if not EXPECT_RE.match(e):
            ap.error(f"--expect {e}: use KEY=VALUE, KEY!=VALUE, KEY>=NUMBER or KEY<=NUMBER")
    args.fixtures = os.path.abspath(args.fixtures)
    for f in (args.log, args.json):
        if f and os.path.dirname(os.path.abspath(f)):
            os.makedirs(os.path.dirname(os.path.abspath(f)), exist_ok=True)
    if args.peer_qemu:
        peer = os.path.abspath(args.peer_qemu)
        args.worker = peer
        args.ctl_client = args.ctl_client or f"{shlex.quote(peer)} --ctl"
        args.allow_fail.append(r"insmod hv_")
        p = subprocess.run([peer, "--print-carry"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if p.returncode != 0:
            raise FixtureError(f"{peer} --print-carry failed: {p.stderr.decode(errors='replace').strip()}")
        for line in p.stdout.decode().splitlines():
            kind, _, path = line.partition(" ")
            if kind == "exe":
                args.carry_exe.append(f"{path}:{path}")
            elif kind == "file":
                args.carry.append(f"{path}:{path}")
    if not args.worker:
        ap.error("--worker (or --peer-qemu) is required")
    args.worker = os.path.abspath(args.worker)
    if not os.access(args.worker, os.X_OK):
        raise FixtureError(f"the worker {args.worker} does not exist or is not executable "
                           f"(was it built? meson compile -C BUILDDIR)")
    if args.ctl_client:
        args.ctl_client_argv = shlex.split(args.ctl_client)
    else:
        default_ctl = os.path.join(os.path.dirname(args.worker), "vireo-worker-ctl")
        args.ctl_client_argv = [default_ctl] if os.access(default_ctl, os.X_OK) else None
    if args.ctl_client_argv:
        c0 = args.ctl_client_argv[0]
        if os.sep in c0:
            args.ctl_client_argv[0] = os.path.abspath(c0)

    if not args.no_build_fixtures:
        p = subprocess.run([sys.executable, os.path.join(HERE, "build-fixtures.py"), args.fixtures])
        if p.returncode != 0:
            say("FAILED: the fixtures could not be built (see above)")
            return 1

    path, why = choose_kvm_path(args.path)
    if args.timeout is None:
        args.timeout = 300 if path == "nested" else 120
    if path == "nested":
        say(f"using nested test host ({why})")
    else:
        say(f"using /dev/kvm directly ({why})")
    say(f"scenario {args.scenario}: {args.cpus} CPUs, {args.memory}, "
        f"{'PVH (vmlinux)' if args.boot == 'pvh' else 'bzImage (vmlinuz)'}"
        + (f", on-reboot {args.on_reboot}" if args.on_reboot else "")
        + (f", host request {args.host_request}" if args.host_request else ""))

    t0 = time.monotonic()
    con = Console(args, t0)
    con.l1 = None
    if path == "nested":
        timed_out = run_nested(args, con, t0)
    else:
        timed_out = run_direct(args, con, t0)
    total = time.monotonic() - t0

    errors = check(args, con, timed_out)
    tm = timings(con)
    tm["total_s"] = total
    say("timing: " + ", ".join(f"{k} {v:.2f}" for k, v in tm.items()))
    say("results: " + " ".join(f"{k}={','.join(v)}" for k, v in sorted(con.results.items()))
        + f" boots={con.boots} exit={con.worker_rc}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"scenario": args.scenario, "path": path, "results": con.results, "boots": con.boots,
                       "worker_exit": con.worker_rc, "timed_out": timed_out, "timings": tm,
                       "errors": errors}, f, indent=1)
    if errors:
        say(f"FAILED: scenario {args.scenario} ({path}):")
        for e in errors:
            say(f"  - {e}")
        say("guest console tail:")
        for line in con.tail[-40:]:
            print(f"  | {line}", flush=True)
        if args.log:
            say(f"full console log: {args.log}")
        return 1
    say(f"PASSED: scenario {args.scenario} ({path}, {total:.1f} s)")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except FixtureError as e:
        print(f"{P}: FAILED: {e}", file=sys.stderr, flush=True)
        sys.exit(1)
    except OSError as e:
        print(f"{P}: FAILED: {e.filename or ''}: {e.strerror}", file=sys.stderr, flush=True)
        sys.exit(1)
