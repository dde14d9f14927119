#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Run a job inside the nested test host (L1): QEMU/TCG with emulated AMD-V.

    nested-host.py --fixtures DIR [--exe PATH[:DEST]]... [--file PATH[:DEST]]...
                   (--job SCRIPT | --command 'shell command') [--timeout S] [--log FILE]

L1 boots the fixtures' Debian kernel (vmlinuz) with an initramfs holding
busybox, irqbypass/kvm/kvm-amd, tests/guest/l1-init.sh as /init, the files it
is asked to carry and /job.sh. Files the job leaves in /vireo/out come back
to --out DIR (a tar stream on a virtio-serial port). --exe also carries every shared library ldd
lists for the program and its dynamic loader, at their host paths. /init loads
the modules, checks /dev/kvm, runs /job.sh, prints "VIREO-L1-EXIT rc=N" and
powers L1 off. L1's console is streamed to stdout and to the log file.

Exit status: the job's, 124 when the timeout killed QEMU, 125 when L1 failed
(no /dev/kvm, no exit line), 75 when L1's own kernel crashed before the job
reported (the program then runs itself once more).

Carried files land at DEST (default: /vireo/bin/NAME for --exe,
/vireo/NAME for --file). The initramfs is cached in DIR/l1/ by the content
hash of everything in it.
"""

import argparse
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True     # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixturelib import (HERE, L1_CRASHED, Cpio, FixtureError, run_main, add_busybox, elf_interp,  # noqa: E402
                        ldd_closure, need_tool, sha256_bytes, sha256_file, stop_process_group,
                        stream_lines)

P = "nested-host"
# loglevel=1: L1 kernel messages would interleave mid-line with the guest console it relays.
L1_CMDLINE = "console=ttyS0 quiet loglevel=1 panic=-1"
KEEP_ARCHIVES = 4
# The first line of a crash report from L1's kernel (printk lines carry a
# "[ seconds]" stamp; the guest's console, relayed by the job, is not matched
# because a crash only counts when L1 also ended without the job's status).
L1_CRASH_RE = re.compile(r"^\[\s*\d+\.\d+\] (BUG: |Oops|general protection fault|Kernel panic|"
                         r"kernel BUG|watchdog: |.*double fault|.*stack segment|invalid opcode: )")
L1_CRASH_LINES = 40
# L1's /init writes its pulse every 5 s (l1-init.sh); silence this long
# while QEMU runs means L1's kernel hangs.
L1_PULSE_S = float(os.environ.get("VIREO_L1_PULSE_S", "90"))


def qemu_opt(value):
    """A value inside a QEMU -option a=b,c=d list: commas are doubled."""
    return str(value).replace(",", ",,")


def say(msg):
    print(f"{P}: {msg}", flush=True)


class HashCache:
    """sha256 of files, remembered by (path, size, mtime)."""

    def __init__(self, path):
        self.path = path
        try:
            with open(path) as f:
                self.d = json.load(f)
        except (OSError, ValueError):
            self.d = {}
        self.dirty = False

    def get(self, path):
        st = os.stat(path)
        key = os.path.realpath(path)
        sig = [st.st_size, st.st_mtime_ns]
        e = self.d.get(key)
        if e and e[0] == sig:
            return e[1]
        h = sha256_file(path)
        self.d[key] = [sig, h]
        self.dirty = True
        return h

    def save(self):
        if self.dirty:
            tmp = self.path + ".tmp"
            with open(tmp, "w") as f:
                json.dump(self.d, f)
            os.rename(tmp, self.path)


def expand_carry(exes, files):
    """[(src, dest)] for executables (+ libraries + loader) and plain files."""
    out = {}

    def add(src, dest):
        if not os.path.exists(src):
            raise FixtureError(f"cannot carry '{src}' into L1: no such file")
        if not os.path.isfile(src):
            raise FixtureError(f"cannot carry '{src}' into L1: not a regular file")
        if dest in out and os.path.realpath(out[dest]) != os.path.realpath(src):
            raise FixtureError(f"two files want the L1 path {dest}: {out[dest]} and {src}")
        out[dest] = src

    for spec in exes:
        src, _, dest = spec.partition(":")
        dest = dest or "/vireo/bin/" + os.path.basename(src)
        add(src, dest)
        with open(src, "rb") as f:
            head = f.read(65536)
        if head[:4] == b"\x7fELF":
            interp = elf_interp(head)
            if interp:
                add(interp, interp)
                for lib in ldd_closure(src):
                    add(lib, lib)
        elif not head.startswith(b"#!"):
            raise FixtureError(f"--exe {src}: neither an ELF program nor a script")
    for spec in files:
        src, _, dest = spec.partition(":")
        dest = dest or "/vireo/" + os.path.basename(src)
        add(src, dest)
    return sorted((src, dest) for dest, src in out.items())


def l1_base_inputs(fixtures):
    bb = os.path.join(fixtures, "busybox")
    md = os.path.join(fixtures, "l1-modules")
    init = os.path.join(HERE, "l1-init.sh")
    for p in (bb, os.path.join(md, "load.list"), init):
        if not os.path.exists(p):
            raise FixtureError(f"{p} is missing: run tests/guest/build-fixtures.py {fixtures} first")
    return bb, md, init


def build_l1_initramfs(fixtures, carry, job_text, forwards=()):
    """Write the L1 initramfs for one run and return its path (delete it after).

    It is two concatenated cpio archives: the cached content (busybox, the
    modules, /init, the carried files; keyed by content hash in DIR/l1/) and
    a small one holding /job.sh.
    """
    l1dir = os.path.join(fixtures, "l1")
    os.makedirs(l1dir, exist_ok=True)
    hc = HashCache(os.path.join(l1dir, "hashes.json"))
    bb, md, init = l1_base_inputs(fixtures)
    parts = [b"l1-initramfs-v3", hc.get(bb).encode(), hc.get(init).encode(),
             hc.get(os.path.join(HERE, "fixturelib.py")).encode()]
    for fn in sorted(os.listdir(md)):
        parts.append(fn.encode() + b"=" + hc.get(os.path.join(md, fn)).encode())
    for src, dest in carry:
        parts.append(dest.encode() + b"=" + hc.get(src).encode())
    key = sha256_bytes(b"\n".join(parts))[:20]
    hc.save()
    content = os.path.join(l1dir, f"l1-{key}.cpio")
    if os.path.exists(content):
        os.utime(content)
        say(f"cached L1 initramfs {os.path.basename(content)}")
    else:
        size = sum(os.path.getsize(s) for s, _ in carry)
        say(f"building the L1 initramfs ({len(carry)} carried files, {size >> 20} MiB)")
        tmp = content + f".tmp{os.getpid()}"
        with open(tmp, "wb") as f:
            c = Cpio(f)
            for d in ("dev", "proc", "sys", "tmp", "run", "root", "etc", "var/tmp", "vireo"):
                c.dir(d)
            c.chardev("dev/console", 5, 1)
            c.chardev("dev/null", 1, 3, 0o666)
            add_busybox(c, bb)
            c.file("init", init, mode=0o755)
            for fn in sorted(os.listdir(md)):
                c.file("l1-modules/" + fn, os.path.join(md, fn), mode=0o644)
            for src, dest in carry:
                c.file(dest, src)
            c.trailer()
        os.rename(tmp, content)
    # housekeeping: the few most recent content archives; run files left by crashes
    now = time.time()
    olds = sorted((p for p in os.listdir(l1dir) if p.startswith("l1-") and p.endswith(".cpio")),
                  key=lambda p: os.path.getmtime(os.path.join(l1dir, p)), reverse=True)
    stale = olds[KEEP_ARCHIVES:] + [p for p in os.listdir(l1dir) if p.startswith("run-")
                                     and now - os.path.getmtime(os.path.join(l1dir, p)) > 86400]
    for p in stale:
        try:
            os.unlink(os.path.join(l1dir, p))
        except OSError:
            pass
    fd, path = tempfile.mkstemp(prefix="run-", suffix=".cpio", dir=l1dir)
    with os.fdopen(fd, "wb") as out:
        with open(content, "rb") as f:
            shutil.copyfileobj(f, out, 1 << 20)
        c = Cpio(out)
        c.data("job.sh", job_text.encode(), mode=0o755)
        if forwards:
            # l1-init.sh starts a vireo-l1-forward for each line: NAME L1_SOCKET
            c.data("vireo/forward.list", "".join(f"{f.name} {f.l1_path}\n" for f in forwards).encode())
        c.trailer()
    return path


class L1Result:
    def __init__(self):
        self.job_rc = None          # from VIREO-L1-EXIT
        self.timed_out = False
        self.qemu_rc = None
        self.phase = "L1 boot"
        self.t = {}                 # marker -> host seconds since QEMU start
        self.failures = []          # VIREO-L1-FAIL lines
        self.tail = []              # last console lines
        self.out_files = []         # what came back through the outbox
        self.crash = []             # L1 kernel's crash report: its first lines
        self.stopped = False        # give_up() stopped QEMU
        self.stalled = None         # seconds L1's pulse had been silent when QEMU was stopped

    @property
    def l1_reset(self):
        """L1 reset itself without a word: QEMU runs it with -no-reboot, so a
        reset ends QEMU with status 0, and /init's own power-off always
        comes after the exit line. Seen once, under load, with L1's kernel
        printing nothing (a triple fault of its own)."""
        return (self.job_rc is None and not self.timed_out and not self.stopped and not self.crash
                and not self.stalled and self.qemu_rc == 0)

    @property
    def l1_crashed(self):
        """L1's kernel died before the job reported (not the job's doing)."""
        return self.job_rc is None and not self.timed_out and (bool(self.crash) or self.l1_reset
                                                               or self.stalled is not None)

    def crash_report(self):
        if self.stalled is not None and not self.crash:
            return (f"L1 hung while the {self.phase} ran: its pulse (a line every 5 s from its /init, on a port "
                    f"of its own) had stopped for {self.stalled:.0f} s, so QEMU was stopped; the console's last "
                    f"line: {self.tail[-1] if self.tail else '(none)'}")
        if not self.crash:
            return (f"L1 reset itself with no crash report while the {self.phase} ran "
                    "(QEMU, run with -no-reboot, ended on the reset with status 0)")
        return "\n".join(["L1's kernel crashed; its report begins:"] + [f"  | {x}" for x in self.crash])

    @property
    def rc(self):
        if self.timed_out:
            return 124
        if self.job_rc is None:
            return 125
        return self.job_rc


class Forwarder:
    """A Unix socket in L1 (l1_path) reachable on the host at host_path.

    The host end: host_path is a listening socket; each client it accepts
    becomes a connection to l1_path inside L1, multiplexed with the others
    on one virtio-serial port named vireo.fwd.NAME (frames of l1-forward.c:
    le32 id, u8 op, 3 zero bytes, le32 length, data; op 1 open, 2 data,
    3 close). L1's /init runs vireo-l1-forward on the port for each line of
    /vireo/forward.list (written by build_l1_initramfs). A connection L1
    refuses (nothing listens at l1_path yet) hangs up at once, as a socket
    with no server would. File descriptors do not cross.
    """
    DATA_MAX = 64 * 1024

    def __init__(self, name, l1_path, host_path):
        if not name.replace("-", "").replace("_", "").isalnum():
            raise FixtureError(f"forward name '{name}': letters, digits, - and _ only")
        self.name, self.l1_path, self.host_path = name, l1_path, host_path
        self.qemu_path = host_path + ".qemu"
        self.clients = {}            # id -> socket
        self.next_id = 1
        self.lock = threading.Lock()
        self.stopping = False
        self.threads = []
        for p in (host_path, self.qemu_path):
            if os.path.exists(p):
                os.unlink(p)

    def qemu_args(self, i):
        return ["-chardev", f"socket,id=fwd{i},path={qemu_opt(self.qemu_path)},server=on,wait=off",
                "-device", f"virtserialport,chardev=fwd{i},name=vireo.fwd.{self.name}"]

    def start(self):
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(self.host_path)
        self.listener.listen(16)
        self.qemu = None
        end = time.monotonic() + 30
        while self.qemu is None:
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(self.qemu_path)
                self.qemu = s
            except OSError:
                s.close()
                if time.monotonic() > end:
                    raise FixtureError(f"forward {self.name}: QEMU's socket {self.qemu_path} never came")
                time.sleep(0.05)
        for fn in (self._accept, self._from_l1):
            t = threading.Thread(target=fn, daemon=True)
            t.start()
            self.threads.append(t)

    def _send(self, cid, op, data=b""):
        with self.lock:
            try:
                self.qemu.sendall(struct.pack("<IB3xI", cid, op, len(data)) + data)
            except OSError:
                pass

    def _accept(self):
        while not self.stopping:
            try:
                c, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                cid = self.next_id
                self.next_id += 1
                self.clients[cid] = c
            self._send(cid, 1)
            threading.Thread(target=self._from_client, args=(cid, c), daemon=True).start()

    def _from_client(self, cid, c):
        while True:
            try:
                data = c.recv(self.DATA_MAX)
            except OSError:
                data = b""
            if not data:
                break
            self._send(cid, 2, data)
        with self.lock:
            known = self.clients.pop(cid, None) is not None
        if known:
            self._send(cid, 3)
        c.close()

    def _recv_exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.qemu.recv(n - len(buf))
            if not chunk:
                raise EOFError
            buf += chunk
        return buf

    def _from_l1(self):
        try:
            while True:
                cid, op, length = struct.unpack("<IB3xI", self._recv_exact(12))
                if length > self.DATA_MAX:
                    say(f"forward {self.name}: a frame of {length} bytes from L1: stopping")
                    return
                data = self._recv_exact(length) if length else b""
                with self.lock:
                    c = self.clients.get(cid)
                    if op == 3:
                        self.clients.pop(cid, None)
                if c is None:
                    continue
                if op == 2:
                    try:
                        c.sendall(data)
                    except OSError:
                        pass
                elif op == 3:
                    try:
                        c.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
        except (EOFError, OSError):
            return

    def stop(self):
        self.stopping = True
        for s in [self.listener, self.qemu] + list(self.clients.values()):
            try:
                s.close()
            except (OSError, AttributeError):
                pass
        for p in (self.host_path, self.qemu_path):
            try:
                os.unlink(p)
            except OSError:
                pass


def run_l1(fixtures, initrd, timeout, log=None, on_line=None, echo=True, memory=3072, cpus=1,
           qemu="qemu-system-x86_64", outdir=None, forwards=(), give_up=None):
    """Boot L1 with INITRD; stream its console. on_line(text, t) sees each line.

    give_up(now): called about once a second with time.monotonic(); true
    stops QEMU there (the result is then neither timed out nor reported).

    outdir: what the job leaves in L1's /vireo/out comes back there (a tar
    stream on a virtio-serial port named vireo.out, unpacked after L1 ends).
    """
    need_tool(qemu, "qemu-system-x86")
    kernel = os.path.join(fixtures, "vmlinuz")
    cmd = [qemu, "-M", "q35", "-accel", "tcg", "-cpu", "EPYC,+svm,+npt", "-m", str(memory),
           "-smp", str(cpus), "-nographic", "-nic", "none", "-vga", "none", "-no-reboot", "-kernel", kernel, "-initrd", initrd,
           "-append", L1_CMDLINE]
    fd, pulse = tempfile.mkstemp(prefix="vireo-l1-pulse-")
    os.close(fd)
    cmd += ["-device", "virtio-serial-pci", "-chardev", f"file,id=vpulse,path={qemu_opt(pulse)}",
            "-device", "virtserialport,chardev=vpulse,name=vireo.pulse"]
    outbox = None
    if outdir:
        os.makedirs(outdir, exist_ok=True)
        fd, outbox = tempfile.mkstemp(prefix="outbox-", suffix=".tar", dir=outdir)
        os.close(fd)
        cmd += ["-chardev", f"file,id=vout,path={qemu_opt(outbox)}",
                "-device", "virtserialport,chardev=vout,name=vireo.out"]
    for i, f in enumerate(forwards):
        cmd += f.qemu_args(i)
    res = L1Result()
    logf = open(log, "w") if log else None
    t0 = time.monotonic()
    deadline = t0 + timeout
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    for f in forwards:
        f.start()
    if logf:
        logf.write(f"# {' '.join(cmd)}\n")
    exit_seen = []

    def line_out(text):
        text = text.replace("\r", "")
        t = time.monotonic() - t0
        if logf:
            logf.write(f"[{t:8.3f}] {text}\n")
            logf.flush()
        if echo:
            print(text, flush=True)
        res.tail.append(text)
        del res.tail[:-200]
        for marker, phase in (("VIREO-L1-INIT", "L1 module load"), ("VIREO-L1-JOB-START", "job"),
                              ("VIREO-L1-EXIT", "L1 power off")):
            if marker in text and marker not in res.t:
                res.t[marker] = t
                res.phase = phase
        if "VIREO-L1-FAIL" in text:
            res.failures.append(text[text.index("VIREO-L1-FAIL"):])
        if res.crash and len(res.crash) < L1_CRASH_LINES:
            res.crash.append(text)
        elif not res.crash and L1_CRASH_RE.match(text):
            res.crash.append(text)
        if "VIREO-L1-EXIT rc=" in text:
            try:
                res.job_rc = int(text.split("VIREO-L1-EXIT rc=", 1)[1].split()[0])
            except ValueError:
                pass
        if on_line:
            on_line(text, t)

    beat = {"size": 0, "t": None}

    def stop_early(now):
        # L1 printed its exit line but did not power off: not the job's fault.
        if res.job_rc is not None and not exit_seen:
            exit_seen.append(now)
        if exit_seen:
            return now - exit_seen[0] > 15
        size = os.path.getsize(pulse)
        if size != beat["size"]:
            beat["size"], beat["t"] = size, now
        elif beat["t"] is not None and now - beat["t"] >= L1_PULSE_S:
            res.stalled = now - beat["t"]
            return True
        res.stopped = bool(give_up and give_up(now))
        return res.stopped

    try:
        res.timed_out = stream_lines(proc, deadline, line_out, stop_early)
    finally:
        if proc.poll() is None:
            stop_process_group(proc)
            if res.timed_out or res.stalled is not None:
                msg = (f"TIMEOUT: L1 did not finish within {timeout:.0f} s (phase: {res.phase}); "
                       f"killed QEMU (pid {proc.pid})" if res.timed_out else
                       f"L1's pulse stopped {res.stalled:.0f} s ago (phase: {res.phase}): L1 hangs; "
                       f"stopped QEMU (pid {proc.pid})")
                say(msg)
                if logf:
                    logf.write(f"# {msg}\n")
        res.qemu_rc = proc.returncode
        res.t["end"] = time.monotonic() - t0
        os.unlink(pulse)
        for f in forwards:
            f.stop()
        if logf:
            logf.close()
        if outbox:
            res.out_files = unpack_outbox(outbox, outdir)
    return res


def unpack_outbox(tar_path, outdir):
    """The files L1 sent back, unpacked into outdir (names inside it only)."""
    import tarfile
    names = []
    try:
        if os.path.getsize(tar_path) > 0:
            with tarfile.open(tar_path) as t:
                for m in t.getmembers():
                    if m.isfile():
                        names.append(m.name)
                t.extractall(outdir, filter="data")
    except (OSError, tarfile.TarError) as e:
        say(f"the files L1 sent back ({tar_path}) could not be unpacked: {e}")
    finally:
        os.unlink(tar_path)
    return names


def describe(res):
    t = res.t
    parts = []
    if "VIREO-L1-INIT" in t:
        parts.append(f"L1 /init at {t['VIREO-L1-INIT']:.1f} s")
    if "VIREO-L1-JOB-START" in t:
        parts.append(f"job start {t['VIREO-L1-JOB-START']:.1f} s")
    if "VIREO-L1-EXIT" in t:
        parts.append(f"job end {t['VIREO-L1-EXIT']:.1f} s")
    parts.append(f"QEMU exit {t.get('end', 0):.1f} s")
    return ", ".join(parts)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--fixtures", required=True, help="fixtures directory (build-fixtures.py)")
    ap.add_argument("--exe", action="append", default=[], metavar="PATH[:DEST]",
                    help="carry a program and its shared libraries (repeatable)")
    ap.add_argument("--file", action="append", default=[], metavar="PATH[:DEST]",
                    help="carry a file (repeatable)")
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--job", help="shell script to run in L1 as /job.sh")
    g.add_argument("--command", help="shell command to run in L1")
    ap.add_argument("--timeout", type=float, default=300, help="seconds before QEMU is killed (300)")
    ap.add_argument("--log", help="also write L1's console, time-stamped, to this file")
    ap.add_argument("--l1-memory", type=int, default=3072, help="L1 RAM in MiB (3072)")
    ap.add_argument("--l1-cpus", type=int, default=1, help="L1 vCPUs (1)")
    ap.add_argument("--out", help="files the job leaves in L1's /vireo/out come back here")
    ap.add_argument("--forward", action="append", default=[], metavar="NAME:L1_SOCKET:HOST_SOCKET",
                    help="a Unix socket in L1 reachable at HOST_SOCKET here (needs vireo-l1-forward in --exe)")
    args = ap.parse_args()
    fixtures = os.path.abspath(args.fixtures)
    if args.job:
        with open(args.job) as f:
            job = f.read()
    else:
        job = "#!/bin/sh\n" + args.command + "\n"
    forwards = []
    for spec in args.forward:
        parts = spec.split(":")
        if len(parts) != 3:
            ap.error(f"--forward {spec}: use NAME:L1_SOCKET:HOST_SOCKET")
        forwards.append(Forwarder(*parts))
    carry = expand_carry(args.exe, args.file)
    initrd = build_l1_initramfs(fixtures, carry, job, forwards)
    say(f"booting L1 (QEMU TCG, emulated AMD-V), timeout {args.timeout:.0f} s")
    try:
        res = run_l1(fixtures, initrd, args.timeout, log=args.log, memory=args.l1_memory, cpus=args.l1_cpus,
                     outdir=args.out, forwards=forwards)
    finally:
        os.unlink(initrd)
    say(describe(res))
    for f in res.failures:
        say(f"L1 failure: {f}")
    if res.timed_out:
        return 124
    if res.l1_crashed:
        say(res.crash_report())
        return L1_CRASHED
    if res.job_rc is None:
        say(f"L1 ended without a VIREO-L1-EXIT line (QEMU status {res.qemu_rc}, phase: {res.phase})")
        return 125
    say(f"job exit status {res.job_rc}")
    return res.job_rc


if __name__ == "__main__":
    run_main(P, main, 125)
