#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Boot the stock Debian kernel under vireo-worker, run one guest scenario, check it.

    run-scenario.py --fixtures DIR --worker PATH --scenario NAME
        [--cpus 2] [--memory 512M] [--boot bzimage|pvh] [--on-reboot exit|restart]
        [--host-script FILE|NAME] [--host-step STEP]... [--ctl-client CMD]
        [--host-request powerbutton-after-ready]
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

Host script (--host-script FILE, or NAME for tests/guest/scenarios/NAME.host;
--host-step STEP adds one step): what the host does while the guest runs,
one step per line, words split like the shell, '#' comments:

  wait REGEX [TIMEOUT]        a guest console line matches (after the line the
                              previous wait matched); TIMEOUT in s, default none
  run NAME COMMAND...         control command (vireo-worker-ctl SOCKET COMMAND);
                              the reply is recorded as NAME; fails unless "ok..."
  try NAME COMMAND...         the same, whatever the reply
  exec NAME PROGRAM [ARG...]  run PROGRAM next to the worker (in L1 on the
                              nested path, carried there with its libraries);
                              its output is recorded as NAME; fails unless it
                              exits 0. PROGRAM without a slash is looked up in
                              the --exec-dir folders, then in $PATH
  poll NAME TIMEOUT REGEX COMMAND...
                              COMMAND every second until its reply matches
  sleep SECONDS
  wait-exit TIMEOUT           the worker exits within TIMEOUT s (e.g. after a
                              shutdown request; else it is turned off)
  restart STATUS TIMEOUT [ARG...]
                              the worker exits with STATUS within TIMEOUT s,
                              then a second one starts with the same command
                              line plus ARG... (e.g. --restore @RUN@/saved
                              after a "save"); the step ends once its control
                              socket answers, later steps talk to it, and its
                              console goes on in the same log. The test's exit
                              status (--expect-exit) is the last worker's
  check NAME REGEX            after the run: reply NAME matches
  check-same NAME1 NAME2 FIELD
                              after the run: the same number in both replies
  check-greater NAME1 NAME2 FIELD
                              after the run: the number in FIELD=N of reply
                              NAME1 is greater than in reply NAME2
  check-pattern FILE SEED WIDTH HEIGHT [X Y W H SEED2]
                              after the run: the PNG FILE (@OUT@/NAME.png) is
                              WIDTH x HEIGHT and holds exactly vireo-fbtool's
                              pattern SEED, with pattern SEED2 in the rectangle
                              (fbpattern.py)

In a command, @OUT@ stands for a folder the worker and the clients may
write to: the --out folder directly, L1's /vireo/out in the nested host
(sent back into --out when L1 ends). @RUN@, in commands and in --worker-arg,
is a folder for the worker's sockets (e.g. --worker-arg=--console=@RUN@/console).

Steps run in order; the first that fails stops the script, turns the VM off
("turn-off") and fails the test, naming the step. REGEX is a POSIX ERE: in the
nested host, busybox awk and grep match them (no \\d, no (?...)). Directly,
the steps run in a thread of this harness; nested, in a shell script inside
L1 whose "VIREO-HOST-STEP" lines are printed once the worker has exited.
--host-request NAME is a built-in two-step script (see HOST_REQUESTS).

--peer-qemu tests/bench/peer-qemu.sh runs the QEMU stand-in instead of the
worker (to validate this harness and as the benchmark peer); it implies
--allow-fail 'insmod (hv_|hyperv_|hid_hyperv)' (QEMU is not Hyper-V).
"""

import argparse
import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True     # no __pycache__ in the source tree
sys.path.insert(0, HERE)
from fixturelib import L1_CRASHED, L2_QUIET, L2_QUIET_S, FixtureError, L2CrashWatch, choose_kvm_path, run_main, stop_process_group, stream_lines  # noqa: E402
import fbpattern  # noqa: E402

P = "harness"

EXIT_NAMES = {0: "guest powered off", 10: "guest rebooted", 11: "triple fault",
              12: "KVM could not run the guest", 13: "turned off by the host",
              14: "saved", 1: "worker could not start", 2: "bad usage", 124: "timeout",
              125: "nested host failure"}

# --host-request NAME: a host script
HOST_REQUESTS = {
    "powerbutton-after-ready": "wait 'VIREO-READY powerbutton'\nrun request power-button\n",
}
CTL_TIMEOUT = 15        # seconds for one control command
RESTART_TIMEOUT = 60    # seconds for a restarted worker to answer
EXEC_TIMEOUT = 60       # seconds for one exec step

# Console lines after which nothing good can come: stop at once instead of
# waiting for the timeout (QEMU stops the VM and stays up on these).
FATAL_PATTERNS = ["KVM internal error"]

ANSI = re.compile(r"\x1b(\[[0-9;?]*[A-Za-z]|c)")
RESULT_RE = re.compile(r"VIREO-RESULT ([A-Za-z0-9_.-]+)=(.*)$")
EXPECT_RE = re.compile(r"^([A-Za-z0-9_.-]+)(>=|<=|!=|=)(.*)$")
STEP_RE = re.compile(r"VIREO-HOST-STEP n=(\d+) status=(\w+) rc=(-?\d+) t=([0-9.]+) reply=(.*)$")


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
        self.steps = {}             # step number -> StepRecord
        self.guest_lines = []       # what "wait" steps match (direct path)
        self.finished = False       # the worker has exited (direct path)
        self.exits = []             # exit status of each worker (direct path)
        self.restart_argv = None    # extra arguments a restart step asks for (direct path)
        self.cond = threading.Condition()
        self.guest_uptime_at_init = []
        self.hidden = 0
        self.last_line_t = None     # when the console last said anything (seconds since t0)

    def mark(self, name, t):
        self.marks.setdefault(name, t)

    def feed(self, text, t, host=False):
        if not host:
            self.last_line_t = t
        with self.cond:
            self._feed(text, t, host)
            self.cond.notify_all()

    def finish(self):
        with self.cond:
            self.finished = True
            self.cond.notify_all()

    def _feed(self, text, t, host):
        text = ANSI.sub("", text.replace("\r", ""))
        if "TCG doesn't support requested feature" in text:
            self.hidden += 1
            return
        print(text, flush=True)
        self.tail.append(text)
        del self.tail[:-300]
        if not host:
            self.guest_lines.append(text)
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
        elif line.startswith("VIREO-HOST-STEP"):
            m = STEP_RE.match(line)
            if m:
                self.steps[int(m.group(1))] = StepRecord(m.group(2), int(m.group(3)),
                                                         float(m.group(4)), m.group(5))
        elif line.startswith("VIREO-READY"):
            self.mark("ready", t)


# --------------------------------------------------------------------------
# host scripts

class StepRecord:
    def __init__(self, status, rc, t, reply):
        self.status, self.rc, self.t, self.reply = status, rc, t, reply


class Step:
    ACTIONS = ("wait", "run", "try", "poll", "sleep", "wait-exit", "exec", "restart")

    def __init__(self, n, where, text, words):
        self.n, self.where, self.text = n, where, text
        self.kind = words[0]
        self.name = self.command = self.regex = None
        self.timeout = 0.0
        a = words[1:]

        def bad(msg):
            raise FixtureError(f"host script {where}: '{text}': {msg}")

        def seconds(w):
            try:
                v = float(w)
            except ValueError:
                bad(f"'{w}' is not a number of seconds")
            if v < 0:
                bad(f"'{w}': negative")
            return v

        if self.kind == "wait":
            if len(a) not in (1, 2):
                bad("use: wait REGEX [TIMEOUT]")
            self.regex = a[0]
            self.timeout = seconds(a[1]) if len(a) == 2 else 0.0
        elif self.kind in ("run", "try"):
            if len(a) < 2:
                bad(f"use: {self.kind} NAME COMMAND...")
            self.name, self.command = a[0], " ".join(a[1:])
        elif self.kind == "exec":
            if len(a) < 2:
                bad("use: exec NAME PROGRAM [ARG...]")
            self.name, self.argv = a[0], a[1:]
            self.command = " ".join(shlex.quote(w) for w in self.argv)
        elif self.kind == "poll":
            if len(a) < 4:
                bad("use: poll NAME TIMEOUT REGEX COMMAND...")
            self.name, self.timeout, self.regex, self.command = a[0], seconds(a[1]), a[2], " ".join(a[3:])
        elif self.kind == "restart":
            if len(a) < 2:
                bad("use: restart STATUS TIMEOUT [ARG...]")
            try:
                self.status = int(a[0])
            except ValueError:
                bad(f"'{a[0]}' is not an exit status")
            self.timeout = seconds(a[1])
            self.argv = a[2:]
            self.command = " ".join(shlex.quote(w) for w in self.argv)
        elif self.kind in ("sleep", "wait-exit"):
            if len(a) != 1:
                bad(f"use: {self.kind} SECONDS")
            self.timeout = seconds(a[0])
        elif self.kind == "check":
            if len(a) != 2:
                bad("use: check NAME REGEX")
            self.name, self.regex = a
        elif self.kind in ("check-greater", "check-same"):
            if len(a) != 3:
                bad(f"use: {self.kind} NAME1 NAME2 FIELD")
            self.name, self.name2, self.field = a
        elif self.kind == "check-pattern":
            if len(a) not in (4, 9):
                bad("use: check-pattern FILE SEED WIDTH HEIGHT [X Y W H SEED2]")
            self.file = a[0]
            try:
                self.pattern = [int(w, 0) for w in a[1:]]
            except ValueError:
                bad("SEED, WIDTH, HEIGHT and the rectangle are numbers")
        else:
            bad(f"unknown step '{self.kind}' (wait, run, try, exec, poll, sleep, wait-exit, restart, check, "
                "check-greater, "
                "check-same, check-pattern)")
        if self.command and "\n" in self.command:
            bad("a command is one line")
        if self.regex is not None:
            # the nested path matches with busybox awk/grep -E (POSIX ERE)
            for nope in ("\\d", "(?", "*?", "+?"):
                if nope in self.regex:
                    bad(f"'{nope}' is not POSIX ERE (busybox awk/grep match these in the nested host)")
            try:
                re.compile(self.regex)
            except re.error as e:
                bad(f"bad regular expression: {e}")

    def describe(self):
        return f"host step {self.n} ({self.where}: {self.text})"


def parse_host_script(text, src, first_n=1):
    steps = []
    lines = text.splitlines()
    for lineno, line in enumerate(lines, 1):
        where = f"{src}:{lineno}" if len(lines) > 1 else src
        try:
            words = shlex.split(line, comments=True)
        except ValueError as e:
            raise FixtureError(f"host script {where}: {e}")
        if words:
            steps.append(Step(first_n + len(steps), where, line.strip(), words))
    return steps


def host_script_steps(args):
    steps = []
    if args.host_request:
        steps += parse_host_script(HOST_REQUESTS[args.host_request], f"--host-request {args.host_request}")
    for spec in args.host_script:
        path = spec
        if not os.path.exists(path) and os.sep not in spec:
            path = os.path.join(HERE, "scenarios", spec if spec.endswith(".host") else spec + ".host")
        try:
            with open(path) as f:
                text = f.read()
        except OSError as e:
            raise FixtureError(f"--host-script {spec}: {path}: {e.strerror}")
        shown = spec if path == spec else os.path.relpath(path, HERE)
        steps += parse_host_script(text, shown, len(steps) + 1)
    for i, st in enumerate(args.host_step):
        steps += parse_host_script(st, f"--host-step #{i + 1}", len(steps) + 1)
    names = {}
    for st in steps:
        if st.kind in ("run", "try", "poll", "exec"):
            if st.name in names:
                raise FixtureError(f"{st.describe()}: the name '{st.name}' is already used by "
                                   f"{names[st.name].describe()}")
            names[st.name] = st
    for st in steps:
        if st.kind in ("check", "check-greater", "check-same"):
            for nm in ([st.name] if st.kind == "check" else [st.name, st.name2]):
                if nm not in names:
                    raise FixtureError(f"{st.describe()}: no run, try or poll step records '{nm}'")
    return steps


def one_line(text):
    return " ".join(text.split("\n")).strip()


class DirectSteps(threading.Thread):
    """Runs the action steps of a host script next to the worker (direct path)."""

    def __init__(self, steps, con, ctl, control, t0):
        super().__init__(daemon=True)
        self.steps = [s for s in steps if s.kind in Step.ACTIONS]
        self.con, self.ctl, self.control, self.t0 = con, ctl, control, t0
        self.cursor = 0

    def record(self, st, ok, rc, reply):
        self.con.feed(f"VIREO-HOST-STEP n={st.n} status={'ok' if ok else 'failed'} rc={rc} "
                      f"t={time.monotonic() - self.t0:.1f} reply={one_line(reply)}",
                      time.monotonic() - self.t0, host=True)

    def command(self, command):
        try:
            p = subprocess.run(self.ctl + [self.control, command], stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=CTL_TIMEOUT)
            return p.returncode, one_line(p.stdout.decode(errors="replace"))
        except subprocess.TimeoutExpired:
            return 124, f"no reply within {CTL_TIMEOUT} s"
        except OSError as e:
            return 127, f"{self.ctl[0]}: {e.strerror}"

    def gone(self):
        with self.con.cond:
            return self.con.finished

    def pause(self, seconds):
        with self.con.cond:
            self.con.cond.wait_for(lambda: self.con.finished, timeout=seconds)

    def do(self, st):
        """(ok, rc, reply) of one step."""
        if st.kind == "wait":
            rx = re.compile(st.regex)
            end = time.monotonic() + st.timeout if st.timeout else None
            with self.con.cond:
                while True:
                    lines = self.con.guest_lines
                    for i in range(self.cursor, len(lines)):
                        if rx.search(lines[i]):
                            self.cursor = i + 1
                            return True, 0, lines[i]
                    self.cursor = len(lines)
                    if self.con.finished:
                        return False, 1, "the worker exited before a console line matched"
                    left = None if end is None else end - time.monotonic()
                    if left is not None and left <= 0:
                        return False, 1, f"no console line matched within {st.timeout:g} s"
                    self.con.cond.wait(timeout=left)
        if st.kind == "sleep":
            self.pause(st.timeout)
            return True, 0, ""
        if st.kind == "wait-exit":
            with self.con.cond:
                if self.con.cond.wait_for(lambda: self.con.finished, timeout=st.timeout):
                    return True, 0, "the worker exited"
            return False, 1, f"the worker still ran {st.timeout:g} s later"
        if st.kind == "restart":
            return self.restart(st)
        if self.gone():
            return False, 1, "the worker had exited"
        if st.kind in ("run", "try"):
            rc, out = self.command(st.command)
            return (rc == 0 or st.kind == "try"), rc, out
        if st.kind == "exec":
            try:
                p = subprocess.run(st.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, timeout=EXEC_TIMEOUT)
                return p.returncode == 0, p.returncode, one_line(p.stdout.decode(errors="replace"))
            except subprocess.TimeoutExpired:
                return False, 124, f"{st.argv[0]} did not finish within {EXEC_TIMEOUT} s"
            except OSError as e:
                return False, 127, f"{st.argv[0]}: {e.strerror}"
        # poll
        rx = re.compile(st.regex)
        end = time.monotonic() + st.timeout
        while True:
            rc, out = self.command(st.command)
            if rx.search(out):
                return True, rc, out
            if self.gone():
                return False, rc, f"the worker exited; last reply: {out}"
            if time.monotonic() >= end:
                return False, rc, f"no reply matched within {st.timeout:g} s; last reply: {out}"
            self.pause(1.0)

    def restart(self, st):
        """The worker exits with st.status; run_direct starts the next one."""
        with self.con.cond:
            if not self.con.cond.wait_for(lambda: self.con.finished, timeout=st.timeout):
                return False, 1, f"the worker still ran {st.timeout:g} s later"
            rc = self.con.exits[-1] if self.con.exits else None
            if rc != st.status:
                return False, rc if rc is not None else 1, f"the worker exited with status {exit_name(rc)}, not {st.status}"
            self.con.restart_argv = list(st.argv)
            self.con.cond.notify_all()
            if not self.con.cond.wait_for(lambda: self.con.restart_argv is None, timeout=RESTART_TIMEOUT):
                return False, 1, "no new worker started"
        end = time.monotonic() + RESTART_TIMEOUT
        while True:
            if self.gone():
                return False, 1, "the restarted worker exited"
            rc, out = self.command("status")
            if rc == 0:
                return True, 0, out
            if time.monotonic() >= end:
                return False, rc, f"the restarted worker did not answer within {RESTART_TIMEOUT} s: {out}"
            self.pause(0.5)

    def run(self):
        for st in self.steps:
            ok, rc, reply = self.do(st)
            self.record(st, ok, rc, reply)
            if not ok:
                if not self.gone():
                    rc, out = self.command("turn-off")
                    self.con.feed(f"VIREO-HOST-TURN-OFF rc={rc} {out}", time.monotonic() - self.t0, host=True)
                return


# Shell functions for the host steps inside L1 (busybox sh). CTL is defined
# before them; /tmp/l2.log is the guest console, /tmp/worker.rc appears when
# the worker has exited.
L1_STEP_FUNCS = r"""
cur=0
now_cs() { read -r u _ < /proc/uptime; s=${u%.*}; c=${u#*.}; c=${c#0}; echo $((s * 100 + c)); }
rec() { read -r u _ < /proc/uptime; echo "VIREO-HOST-STEP n=$1 status=$2 rc=$3 t=$u reply=$(printf '%s' "$4" | tr '\n' ' ')"; }
gone() { [ -e /tmp/worker.rc ]; }
ctl() { out=$(timeout CTL_TIMEOUT CTL /tmp/vireo-control "$1" 2>&1); rc=$?; }
match() {
	RE="$1" awk -v from="$cur" 'NR > from { sub(/\r$/, ""); if ($0 ~ ENVIRON["RE"]) { print NR " " $0; exit } }' /tmp/l2.log
}
step_wait() {	# N REGEX TIMEOUT_S (0: none)
	end=$(( $(now_cs) + $3 * 100 ))
	while :; do
		g=0; gone && g=1
		hit=$(match "$2")
		if [ -n "$hit" ]; then cur=${hit%% *}; rec $1 ok 0 "${hit#* }"; return 0; fi
		if [ $g = 1 ]; then rec $1 failed 1 "the worker exited before a console line matched"; return 1; fi
		if [ "$3" != 0 ] && [ $(now_cs) -ge $end ]; then rec $1 failed 1 "no console line matched within $3 s"; return 1; fi
		sleep 0.5
	done
}
step_run() {	# N MUST_BE_OK COMMAND
	if gone; then rec $1 failed 1 "the worker had exited"; return 1; fi
	ctl "$3"
	if [ $2 = 1 ] && [ $rc != 0 ]; then rec $1 failed $rc "$out"; return 1; fi
	rec $1 ok $rc "$out"
}
step_exec() {	# N PROGRAM ARG...
	n=$1; shift
	if gone; then rec $n failed 1 "the worker had exited"; return 1; fi
	out=$(timeout EXEC_TIMEOUT "$@" < /dev/null 2>&1); rc=$?
	if [ $rc != 0 ]; then rec $n failed $rc "$out"; return 1; fi
	rec $n ok $rc "$out"
}
step_wait_exit() {	# N TIMEOUT_S
	end=$(( $(now_cs) + $2 * 100 ))
	until gone; do
		if [ $(now_cs) -ge $end ]; then rec $1 failed 1 "the worker still ran $2 s later"; return 1; fi
		sleep 0.5
	done
	rec $1 ok 0 "the worker exited"
}
step_restart() {	# N STATUS TIMEOUT_S: the job starts the next worker on /tmp/restart.go
	end=$(( $(now_cs) + $3 * 100 ))
	until gone; do
		if [ $(now_cs) -ge $end ]; then rec $1 failed 1 "the worker still ran $3 s later"; return 1; fi
		sleep 0.5
	done
	wrc=$(cat /tmp/worker.rc)
	if [ "$wrc" != "$2" ]; then rec $1 failed "$wrc" "the worker exited with status $wrc, not $2"; return 1; fi
	rm -f /tmp/worker.rc
	: > /tmp/restart.go
	end=$(( $(now_cs) + RESTART_TIMEOUT * 100 ))
	while :; do
		if gone; then rec $1 failed 1 "the restarted worker exited (status $(cat /tmp/worker.rc))"; return 1; fi
		ctl status
		if [ $rc = 0 ]; then rec $1 ok 0 "$out"; return 0; fi
		if [ $(now_cs) -ge $end ]; then rec $1 failed $rc "the restarted worker did not answer: $out"; return 1; fi
		sleep 0.5
	done
}
step_poll() {	# N TIMEOUT_S REGEX COMMAND
	if gone; then rec $1 failed 1 "the worker had exited"; return 1; fi
	end=$(( $(now_cs) + $2 * 100 ))
	while :; do
		ctl "$4"
		if printf '%s' "$out" | tr '\n' ' ' | grep -qE -- "$3"; then rec $1 ok $rc "$out"; return 0; fi
		if gone; then rec $1 failed $rc "the worker exited; last reply: $out"; return 1; fi
		if [ $(now_cs) -ge $end ]; then rec $1 failed $rc "no reply matched within $2 s; last reply: $out"; return 1; fi
		sleep 1
	done
}
"""


def l1_steps_script(steps, ctl_l1):
    """The body of the L1 subshell that runs the host steps."""
    funcs = L1_STEP_FUNCS.replace("CTL_TIMEOUT", str(CTL_TIMEOUT)).replace("EXEC_TIMEOUT", str(EXEC_TIMEOUT))
    funcs = funcs.replace("RESTART_TIMEOUT", str(RESTART_TIMEOUT))
    # without a control client the script only waits and sleeps (checked in main)
    funcs = funcs.replace("CTL", " ".join(shlex.quote(a) for a in ctl_l1 or ["false"]))
    q = shlex.quote
    body = []
    for st in steps:
        if st.kind == "wait":
            body.append(f"step_wait {st.n} {q(st.regex)} {int(st.timeout + 0.999)}")
        elif st.kind in ("run", "try"):
            body.append(f"step_run {st.n} {1 if st.kind == 'run' else 0} {q(st.command)}")
        elif st.kind == "exec":
            body.append(f"step_exec {st.n} " + " ".join(q(w) for w in st.l1_argv))
        elif st.kind == "poll":
            body.append(f"step_poll {st.n} {int(st.timeout + 0.999)} {q(st.regex)} {q(st.command)}")
        elif st.kind == "sleep":
            body.append(f"sleep {st.timeout:g} && rec {st.n} ok 0 ''")
        elif st.kind == "wait-exit":
            body.append(f"step_wait_exit {st.n} {int(st.timeout + 0.999)}")
        elif st.kind == "restart":
            body.append(f"step_restart {st.n} {st.status} {int(st.timeout + 0.999)}")
    lines = [funcs, "steps() {"] + [f"\t{b} || return 1" for b in body] + [
        "}",
        "if ! steps && ! gone; then",
        "\tctl turn-off",
        '\techo "VIREO-HOST-TURN-OFF rc=$rc $out"',
        "fi",
    ]
    return "\n".join(lines)


def check_steps(steps, con):
    """Errors of the host script: failed or missing steps, then the checks."""
    errors = []
    replies = {}
    missing = []
    for st in steps:
        if st.kind not in Step.ACTIONS:
            continue
        r = con.steps.get(st.n)
        if r is None:
            missing.append(st)
            continue
        if r.status != "ok":
            errors.append(f"{st.describe()} FAILED (rc={r.rc}): {r.reply}")
        elif st.name:
            replies[st.name] = r.reply
    if missing:
        why = "an earlier step failed" if errors else "the host script stopped (see the console)"
        errors.append(f"{missing[0].describe()} and {len(missing) - 1} more step(s) did not run: {why}"
                      if len(missing) > 1 else f"{missing[0].describe()} did not run: {why}")
    for st in steps:
        if st.kind == "check":
            if st.name not in replies:
                errors.append(f"{st.describe()}: no reply '{st.name}' was recorded")
            elif not re.search(st.regex, replies[st.name]):
                errors.append(f"{st.describe()} FAILED: reply {st.name} is '{replies[st.name]}'")
        elif st.kind in ("check-greater", "check-same"):
            vals = []
            for nm in (st.name, st.name2):
                if nm not in replies:
                    errors.append(f"{st.describe()}: no reply '{nm}' was recorded")
                    break
                m = re.search(r"(?:^|\s)" + re.escape(st.field) + r"=(-?[0-9]+)(?:\s|$)", replies[nm])
                if not m:
                    errors.append(f"{st.describe()} FAILED: reply {nm} has no number {st.field}=N: '{replies[nm]}'")
                    break
                vals.append(int(m.group(1)))
            if len(vals) == 2 and st.kind == "check-greater" and not vals[0] > vals[1]:
                errors.append(f"{st.describe()} FAILED: {st.field} {vals[0]} (in {st.name}) is not greater "
                              f"than {vals[1]} (in {st.name2})")
            if len(vals) == 2 and st.kind == "check-same" and vals[0] != vals[1]:
                errors.append(f"{st.describe()} FAILED: {st.field} {vals[0]} (in {st.name}) is not "
                              f"{vals[1]} (in {st.name2})")
    return errors


def check_pattern_steps(args):
    """Errors of the check-pattern steps: the files are in --out once the run is over."""
    errors = []
    for st in args.steps:
        if st.kind != "check-pattern":
            continue
        path = st.file.replace("@OUT@", args.out)
        if not os.path.isabs(path):
            path = os.path.join(args.out, path)
        seed, width, height = st.pattern[:3]
        rect = tuple(st.pattern[3:]) if len(st.pattern) == 8 else None
        for e in fbpattern.check_pattern(path, seed, width, height, rect):
            errors.append(f"{st.describe()} FAILED: {e}")
    return errors


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

def wait_for_restart(con, runner, deadline):
    """After a worker exited: the arguments a restart step asks for, or None."""
    with con.cond:
        while True:
            if con.restart_argv is not None:
                return con.restart_argv
            if runner is None or not runner.is_alive() or time.monotonic() >= deadline:
                return None
            con.cond.wait(timeout=0.5)


def run_direct(args, con, t0):
    kernel, initrd = guest_files(args)
    tmp = tempfile.mkdtemp(prefix="vireo-scenario-")
    control = os.path.join(tmp, "control") if (args.steps or args.ctl_client_argv) else None
    argv = worker_argv(args, [args.worker], kernel, initrd, control)
    say("worker: " + " ".join(shlex.quote(a) for a in argv))
    con.mark("worker_start", time.monotonic() - t0)

    def start(cmd):
        return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, start_new_session=True)

    proc = start(argv)
    deadline = time.monotonic() + args.timeout
    timed_out = False
    runner = None
    if any(st.kind in Step.ACTIONS for st in args.steps):
        runner = DirectSteps(args.steps, con, args.ctl_client_argv, control, t0)
        runner.start()
    try:
        while True:
            timed_out = stream_lines(proc, deadline, lambda text: con.feed(text, time.monotonic() - t0))
            if timed_out:
                break
            proc.wait()
            with con.cond:
                con.exits.append(proc.returncode)
                con.finished = True
                con.cond.notify_all()
            extra = wait_for_restart(con, runner, deadline)
            if extra is None:
                break
            say("worker (restart): " + " ".join(shlex.quote(a) for a in argv + extra))
            proc = start(argv + extra)
            with con.cond:
                con.finished = False
                con.restart_argv = None
                con.cond.notify_all()
    except Abort as e:
        con.fails.append(f"VIREO-FAIL harness: {e}")
    finally:
        con.finish()
        stop_process_group(proc)
        if runner:
            runner.join(timeout=CTL_TIMEOUT + 5)
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


def nested_job(args, worker_l1, ctl_l1, kernel_l1, initrd_l1):
    control = "/tmp/vireo-control" if (args.steps or ctl_l1) else None
    argv = worker_argv(args, worker_l1, kernel_l1, initrd_l1, control)
    q = " ".join(shlex.quote(a) for a in argv)
    lines = ["#!/bin/sh", "# generated by run-scenario.py", ": > /tmp/l2.log", "rm -f /tmp/worker.rc"]
    actions = [st for st in args.steps if st.kind in Step.ACTIONS]
    if actions:
        lines += [
            "(",
            l1_steps_script(actions, ctl_l1),
            # Not on the console while the guest writes to it: bytes of both
            # would interleave mid-line. Printed once the worker has exited.
            ") > /tmp/host-requests.log 2>&1 &",
            "steps_pid=$!",
        ]
    lines += [
        'read -r up _ < /proc/uptime; echo "VIREO-WORKER-START uptime=$up"',
        f"echo {shlex.quote('worker: ' + q)}",
        f"{{ {q} < /dev/null 2>&1; echo $? > /tmp/worker.rc; }} | tee /tmp/l2.log",
        "rc=$(cat /tmp/worker.rc 2>/dev/null || echo 255)",
    ]
    # Each restart step: the next worker once the step says so (/tmp/restart.go),
    # unless the steps ended first; its console goes on in the same log.
    for k, st in enumerate(a for a in actions if a.kind == "restart"):
        qk = q + "".join(" " + shlex.quote(w) for w in st.argv)
        lines += [
            "while [ ! -e /tmp/restart.go ] && kill -0 $steps_pid 2>/dev/null; do sleep 0.2; done",
            "if [ -e /tmp/restart.go ]; then",
            "\trm -f /tmp/restart.go",
            f'\tread -r up _ < /proc/uptime; echo "VIREO-WORKER-RESTART n={k + 1} uptime=$up"',
            f"\techo {shlex.quote('worker: ' + qk)}",
            f"\t{{ {qk} < /dev/null 2>&1; echo $? > /tmp/worker.rc; }} | tee -a /tmp/l2.log",
            "\trc=$(cat /tmp/worker.rc 2>/dev/null || echo 255)",
            "fi",
        ]
    lines += [
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
    for st in args.steps:
        if st.kind == "exec":
            dest = "/vireo/bin/" + os.path.basename(st.argv[0])
            if f"{st.argv[0]}:{dest}" not in exes:
                exes.append(f"{st.argv[0]}:{dest}")
            st.l1_argv = [dest] + st.argv[1:]
    files += args.carry
    kernel_l1 = "/vireo/guest/" + os.path.basename(kernel)
    initrd_l1 = "/vireo/guest/guest.cpio.gz"
    files += [f"{kernel}:{kernel_l1}", f"{initrd}:{initrd_l1}"]
    if any(st.kind in ("run", "try", "poll", "restart") for st in args.steps) and not ctl_l1:
        raise FixtureError("the host script runs control commands: give --ctl-client "
                           "(or put vireo-worker-ctl next to the worker)")
    job = nested_job(args, [worker_dest], ctl_l1, kernel_l1, initrd_l1)
    carry = nh.expand_carry(exes, files)
    l1rd = nh.build_l1_initramfs(args.fixtures, carry, job)
    say(f"booting L1 (QEMU TCG with emulated AMD-V; timeout {args.timeout:.0f} s)")
    t_l1 = time.monotonic()
    res = None

    def quiet_for_good(now):
        # A guest silent this long never spoke again in any run seen: stop
        # here, so that the rerun still fits in the test's own time.
        return con.last_line_t is not None and now - t0 - con.last_line_t >= L2_QUIET_S

    try:
        res = nh.run_l1(args.fixtures, l1rd, args.timeout, log=args.log, echo=False,
                        on_line=lambda text, t: (con.feed(text, t + (t_l1 - t0)), con.crash_watch.on_line(text)),
                        cpus=args.l1_cpus, memory=args.l1_memory, outdir=args.out, give_up=quiet_for_good)
    except Abort as e:
        con.fails.append(f"VIREO-FAIL harness: {e}")
        return False
    finally:
        os.unlink(l1rd)
    con.l1 = res
    if res.timed_out:
        say(f"TIMEOUT: nothing finished within {args.timeout:.0f} s (phase: {res.phase}); QEMU killed")
        return True
    if res.stopped:
        say(f"TIMEOUT: the guest has said nothing for {L2_QUIET_S} s (phase: {res.phase}); QEMU stopped, "
            f"gone {res.t['end'] + t_l1 - t0:.0f} s in, before the {args.timeout:.0f} s were up")
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
    errors += check_steps(args.steps, con)
    errors += check_pattern_steps(args)
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
    ap.add_argument("--host-request", choices=sorted(HOST_REQUESTS), help="a built-in host script")
    ap.add_argument("--host-script", action="append", default=[], metavar="FILE|NAME",
                    help="host steps (NAME: tests/guest/scenarios/NAME.host); see below")
    ap.add_argument("--host-step", action="append", default=[], metavar="STEP",
                    help="one more host step, after the script's")
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
    ap.add_argument("--out", help="folder for files the host steps make (@OUT@; default: next to "
                                  "--log, LOG.out/, else a new temporary folder)")
    ap.add_argument("--json", help="write results, exit status and timings to this file")
    ap.add_argument("--kernel-log", action="store_true", help="drop 'quiet' from the guest command line")
    ap.add_argument("--cmdline-extra", default="", help="more guest kernel parameters")
    ap.add_argument("--worker-arg", action="append", default=[], help="extra worker argument")
    ap.add_argument("--carry-exe", action="append", default=[], metavar="PATH[:DEST]",
                    help="nested: also carry this program and its libraries into L1")
    ap.add_argument("--exec-dir", action="append", default=[], metavar="DIR",
                    help="where exec steps find their programs before $PATH")
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
        args.allow_fail.append(r"insmod (hv_|hyperv_|hid_hyperv)")
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
    args.steps = host_script_steps(args)
    if any(st.kind in ("run", "try", "poll", "restart") for st in args.steps) and not args.ctl_client_argv:
        ap.error("the host script runs control commands: give --ctl-client "
                 "(or put vireo-worker-ctl next to the worker)")

    if not args.no_build_fixtures:
        p = subprocess.run([sys.executable, os.path.join(HERE, "build-fixtures.py"), args.fixtures])
        if p.returncode != 0:
            say("FAILED: the fixtures could not be built (see above)")
            return 1

    path, why = choose_kvm_path(args.path)
    if not args.out:
        args.out = (os.path.splitext(os.path.abspath(args.log))[0] + ".out" if args.log
                    else tempfile.mkdtemp(prefix="vireo-scenario-out-"))
    args.out = os.path.abspath(args.out)
    os.makedirs(args.out, exist_ok=True)
    for f in os.listdir(args.out):
        if os.path.isfile(os.path.join(args.out, f)):
            os.unlink(os.path.join(args.out, f))
    out_here = "/vireo/out" if path == "nested" else args.out
    run_here = "/tmp" if path == "nested" else tempfile.mkdtemp(prefix="vireo-run-")
    args.worker_arg = [a.replace("@RUN@", run_here) for a in args.worker_arg]
    for st in args.steps:
        if st.command:
            st.command = st.command.replace("@OUT@", out_here).replace("@RUN@", run_here)
        if st.kind == "restart":
            st.argv = [w.replace("@OUT@", out_here).replace("@RUN@", run_here) for w in st.argv]
        if st.kind == "exec":
            st.argv = [w.replace("@OUT@", out_here).replace("@RUN@", run_here) for w in st.argv]
            prog = st.argv[0]
            if os.sep not in prog:
                found = [os.path.join(d, prog) for d in args.exec_dir if os.access(os.path.join(d, prog), os.X_OK)]
                prog = found[0] if found else shutil.which(prog)
                if not prog:
                    raise FixtureError(f"{st.describe()}: no program '{st.argv[0]}' in --exec-dir or $PATH")
            st.argv[0] = os.path.abspath(prog)
    if args.timeout is None:
        args.timeout = 300 if path == "nested" else 120
    if path == "nested":
        say(f"using nested test host ({why})")
    else:
        say(f"using /dev/kvm directly ({why})")
    say(f"scenario {args.scenario}: {args.cpus} CPUs, {args.memory}, "
        f"{'PVH (vmlinux)' if args.boot == 'pvh' else 'bzImage (vmlinuz)'}"
        + (f", on-reboot {args.on_reboot}" if args.on_reboot else "")
        + (f", {len(args.steps)} host steps" if args.steps else ""))

    t0 = time.monotonic()
    con = Console(args, t0)
    con.l1 = None
    con.crash_watch = L2CrashWatch(P, at_start=True)
    if path == "nested":
        timed_out = run_nested(args, con, t0)
    else:
        timed_out = run_direct(args, con, t0)
        shutil.rmtree(run_here, ignore_errors=True)
    total = time.monotonic() - t0

    errors = check(args, con, timed_out)
    tm = timings(con)
    tm["total_s"] = total
    say("timing: " + ", ".join(f"{k} {v:.2f}" for k, v in tm.items()))
    say("results: " + " ".join(f"{k}={','.join(v)}" for k, v in sorted(con.results.items()))
        + f" boots={con.boots} exit={con.worker_rc}")
    if args.json:
        with open(args.json, "w") as f:
            steps = [{"n": st.n, "step": st.text, "where": st.where}
                     | ({"status": r.status, "rc": r.rc, "t": r.t, "reply": r.reply}
                        if (r := con.steps.get(st.n)) else {}) for st in args.steps]
            json.dump({"scenario": args.scenario, "path": path, "results": con.results, "boots": con.boots,
                       "worker_exit": con.worker_rc, "timed_out": timed_out, "timings": tm,
                       "host_steps": steps, "errors": errors}, f, indent=1)
    if errors and con.l1 is not None and con.l1.l1_crashed:
        say(con.l1.crash_report())
        return L1_CRASHED
    quiet = total - con.last_line_t if con.last_line_t is not None else 0
    if errors and path == "nested" and timed_out and quiet >= L2_QUIET_S:
        say(f"the guest said nothing for the last {quiet:.0f} s before the timeout; its console ended with:")
        for line in con.tail[-15:]:
            print(f"  | {line}", flush=True)
        return L2_QUIET
    if errors:
        say(f"FAILED: scenario {args.scenario} ({path}):")
        for e in errors:
            say(f"  - {e}")
        say("guest console tail:")
        for line in con.tail[-40:]:
            print(f"  | {line}", flush=True)
        if args.log:
            say(f"full console log: {args.log}")
        # A scenario that expects the worker to end otherwise (a triple
        # fault, a reboot) provokes what the watch looks for.
        if path == "nested" and args.expect_exit == 0:
            return con.crash_watch.verdict(1)
        return 1
    say(f"PASSED: scenario {args.scenario} ({path}, {total:.1f} s)")
    return 0


if __name__ == "__main__":
    run_main(P, main)
