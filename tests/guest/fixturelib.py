# SPDX-License-Identifier: GPL-2.0-or-later
"""Shared helpers for the real-guest test scripts in tests/guest/.

Standard library only (Python 3.11). Used by build-fixtures.py,
nested-host.py and run-scenario.py.
"""

import hashlib
import os
import re
import shlex
import select
import signal
import shutil
import stat
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


class FixtureError(Exception):
    """An error with a message that names what failed and why."""


# A harness returns this when the nested test host's own kernel died before
# the job reported: nothing was learned about Vireo. run_main runs the
# harness once more (once only: a second crash fails the test).
L1_CRASHED = 75
L1_RERUN_ENV = "VIREO_L1_RERUN"
# ... or when the guest (L2) went quiet for good inside the nested test host
# while its job ran, and the test timed out: seen with QEMU itself as L2's
# VMM (guest-harness-selfcheck) as with Vireo's worker, at the same point of
# the same scenario, about once in a hundred nested boots (a wakeup that
# L1's KVM on QEMU's emulated AMD-V loses). Also run once more, saying so;
# a second hang fails the test.
L2_QUIET = 76
L2_QUIET_S = int(os.environ.get("VIREO_L2_QUIET_S", "150"))
# ... or when a test that failed inside the nested test host had seen a
# guest crash there: a triple fault, or a kernel oops on the guest's console
# (the guest's own, relayed: L1's kernel lines start the line). Seen in about
# one run in ten of /vireod/vireoctl, at random points of the boot, several
# times before the worker had seen a single exit (so before any of its device
# code ran for that boot); never with the kernel placed by hand at 84
# places of a 256 MiB VM. tests/guest/README.md has the numbers. Run once
# more, saying so; a second crash fails.
L2_CRASHED = 78
_L2_OOPS = (r"\[\s*\d+\.\d+\] (BUG: |Oops|general protection fault|Kernel panic|kernel BUG|"
            r"invalid opcode: |stack guard page)")
L2_CRASH_RE = re.compile(r"vireo-worker: vCPU \d+ triple-faulted|." + _L2_OOPS)
# Where the worker's serial console is the job's own output (run-scenario,
# run-viewer-guest), the guest's lines start the line like L1's: an L1
# crash is told apart by L1 ending without the job's status, checked first.
L2_CRASH_AT_START_RE = re.compile(r"vireo-worker: vCPU \d+ triple-faulted|(^|.)" + _L2_OOPS)


def l2_crash_line(line, at_start=False):
    """True when a line of a nested job's output shows a guest crash. A
    scenario's own report (VIREO-...) of what it found in dmesg is a check
    of the scenario's, and its failure must stand: it never counts."""
    return "VIREO-" not in line and bool((L2_CRASH_AT_START_RE if at_start else L2_CRASH_RE).search(line))


class L2CrashWatch:
    """Watches a nested job's console (on_line, for run_l1) for guest
    crashes; verdict() turns a failed job that had seen one into L2_CRASHED.
    at_start: the guest's console lines start the line (see above)."""

    def __init__(self, prefix, at_start=False):
        self.prefix = prefix
        self.at_start = at_start
        self.lines = []

    def on_line(self, text, t=None):
        if l2_crash_line(text, self.at_start) and len(self.lines) < 3:
            self.lines.append(text.strip())

    def verdict(self, job_rc):
        if job_rc == 0 or not self.lines:
            return job_rc
        print(f"{self.prefix}: the test failed after a guest crashed in the nested test host:", flush=True)
        for c in self.lines:
            print(f"{self.prefix}:   {c}", flush=True)
        return L2_CRASHED


def worker_logs_on_failure_sh(pattern):
    """Shell lines for a nested job, after "rc=$?": when the test failed, the
    end of each worker log matching the glob, indented so that the guest's
    own kernel lines in it are not taken for L1's."""
    return [f'if [ $rc != 0 ]; then for f in {pattern}; do [ -f "$f" ] || continue; '
            'echo "== the last of $f:"; tail -n 60 "$f" | sed "s/^/  /"; done; fi']


# QEMU's microvm with KVM: the peer VMM the benchmarks and crash-compare.py
# boot the demo kernel with, and the firmware files it loads.
QEMU_MICROVM_DATA = ["qboot.rom", "bios-microvm.bin", "linuxboot_dma.bin", "kvmvapic.bin"]


def qemu_microvm_args(memory, cpus, kernel, initrd, cmdline, serial):
    """QEMU's arguments after the program name, one shell-quoted string."""
    return (f"-M microvm,x-option-roms=off,rtc=on,acpi=on,pit=on,pic=on,isa-serial=on,memory-backend=ram "
            f"-object memory-backend-memfd,id=ram,size={memory} -accel kvm -cpu host -smp {cpus} "
            f"-m {memory} -L /usr/share/qemu -nodefaults -no-user-config -display none -serial {serial} "
            f"-no-reboot -kernel {kernel} -initrd {initrd} -append {shlex.quote(cmdline)}")


def qemu_microvm_carry():
    """nested-host.py --file arguments that carry QEMU's microvm firmware."""
    args = []
    for f in QEMU_MICROVM_DATA:
        p = os.path.join("/usr/share/qemu", f)
        if os.path.exists(p):
            # Debian's firmware names are symlinks: carry the real file under the name QEMU asks for.
            args += ["--file", f"{os.path.realpath(p)}:{p}"]
    return args


def run_main(prog, main, status=1):
    """Exit with main()'s status; a FixtureError or OSError becomes one
    "PROG: FAILED: ..." line and `status`, not a traceback. L1_CRASHED
    re-executes the program once, saying so."""
    try:
        rc = main()
        # (why, in the rerun's words; what failed the second time)
        why = {L1_CRASHED: ("the nested test host's kernel (L1, under QEMU TCG) crashed before the test reported",
                            "the nested test host's kernel crashed on the second run too"),
               L2_QUIET: (f"the guest went quiet for good (at least {L2_QUIET_S} s) inside the nested test host "
                          f"while its job ran, as nested guests do about once in a hundred boots there, also "
                          f"under QEMU as their VMM",
                          "the guest went quiet for good inside the nested test host on the second run too"),
               L2_CRASHED: ("a guest crashed inside the nested test host while the test ran, as nested guests "
                            "there do on rare runs (see tests/guest/README.md)",
                            "a guest crashed inside the nested test host on the second run too")}.get(rc)
        if why:
            if os.environ.get(L1_RERUN_ENV):
                print(f"{prog}: FAILED: {why[1]}", file=sys.stderr, flush=True)
                sys.exit(rc)
            print(f"{prog}: RERUN: {why[0]}. Running the test once more ({L1_RERUN_ENV}=1); "
                  f"a second time fails it.", file=sys.stderr, flush=True)
            sys.stdout.flush()
            os.environ[L1_RERUN_ENV] = "1"
            os.execv(sys.executable, [sys.executable] + sys.argv)
        sys.exit(rc)
    except FixtureError as e:
        print(f"{prog}: FAILED: {e}", file=sys.stderr, flush=True)
    except OSError as e:
        print(f"{prog}: FAILED: {e.filename or ''}: {e.strerror}", file=sys.stderr, flush=True)
    sys.exit(status)


def check_verdict(prog, errors, passed):
    """The end of a check script: a "PROG: FAILED: ..." line per error, or
    "PROG: PASSED..." (passed follows PASSED: " (...)" or ": ..."); its exit status."""
    for e in errors:
        print(f"{prog}: FAILED: {e}", flush=True)
    if not errors:
        print(f"{prog}: PASSED{passed}", flush=True)
    return 1 if errors else 0


def say(prefix, msg):
    print(f"{prefix}: {msg}", flush=True)


def choose_kvm_path(forced="auto"):
    """("direct" | "nested", why): where a stock guest can run from this host."""
    if forced in ("direct", "nested"):
        return forced, f"forced with --path {forced}"
    if os.path.isdir("/sys/module/kvm_pvm"):
        return "nested", "this /dev/kvm is PVM (kvm_pvm), which cannot run a stock kernel"
    if not os.path.exists("/dev/kvm"):
        return "nested", "there is no /dev/kvm"
    try:
        os.close(os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC))
    except OSError as e:
        return "nested", f"/dev/kvm: {e.strerror}"
    return "direct", "hardware KVM"


def stream_lines(proc, deadline, on_line, give_up=None):
    """Feed each line of proc.stdout (decoded) to on_line until end of file,
    the process ending, give_up(now) returning true, or the monotonic
    deadline. A last unterminated line is fed too. Returns True on timeout."""
    fd = proc.stdout.fileno()
    buf = b""
    timed_out = False
    try:
        while True:
            now = time.monotonic()
            if now >= deadline:
                timed_out = True
                break
            if give_up and give_up(now):
                break
            r, _, _ = select.select([fd], [], [], min(1.0, deadline - now))
            if not r:
                if proc.poll() is not None:
                    break
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            buf += chunk
            while b"\n" in buf:
                raw, buf = buf.split(b"\n", 1)
                on_line(raw.decode(errors="replace"))
    finally:
        if buf:
            on_line(buf.decode(errors="replace"))
    return timed_out


def stop_process_group(proc):
    """SIGTERM the process group of proc, SIGKILL it if it lingers 5 s."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=5)
    except (subprocess.TimeoutExpired, ProcessLookupError):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


def sha256_file(path, bufsize=1 << 20):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(bufsize)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


def sha256_bytes(data):
    return hashlib.sha256(data).hexdigest()


def need_tool(tool, package):
    """Return the path of TOOL or raise naming the Debian package to install."""
    path = shutil.which(tool)
    if not path:
        raise FixtureError(f"the command '{tool}' is missing: install the Debian package "
                           f"'{package}' (apt-get install {package})")
    return path


def run(cmd, what, cwd=None, capture=True, env=None):
    """Run CMD; on failure raise a FixtureError naming WHAT and the command's stderr."""
    try:
        p = subprocess.run(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE if capture else None,
                           stderr=subprocess.PIPE if capture else None)
    except FileNotFoundError as e:
        raise FixtureError(f"{what}: cannot run {cmd[0]}: {e.strerror}") from e
    if p.returncode != 0:
        err = (p.stderr or b"").decode(errors="replace").strip()
        out = (p.stdout or b"").decode(errors="replace").strip()
        detail = err or out or "(no output)"
        raise FixtureError(f"{what}: '{' '.join(cmd)}' exited with status {p.returncode}: {detail}")
    return p


# --------------------------------------------------------------------------
# cpio "newc" archives, written without root: device nodes are records.

class Cpio:
    """Builds an uncompressed newc cpio archive in memory-friendly chunks."""

    def __init__(self, out):
        self.out = out          # a binary file object
        self.ino = 300000
        self.names = set()
        self.dirs = set()

    def _hdr(self, name, mode, size, nlink=1, rdev=(0, 0), mtime=0):
        self.ino += 1
        nameb = name.encode() + b"\0"
        fields = [self.ino, mode, 0, 0, nlink, mtime, size, 0, 0, rdev[0], rdev[1], len(nameb), 0]
        h = b"070701" + b"".join(b"%08X" % v for v in fields)
        self.out.write(h + nameb)
        pad = (-(len(h) + len(nameb))) % 4
        self.out.write(b"\0" * pad)

    def _pad(self, size):
        self.out.write(b"\0" * ((-size) % 4))

    def _parents(self, name):
        parts = name.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            d = "/".join(parts[:i])
            if d and d not in self.dirs:
                self.dir(d)

    def _check(self, name):
        name = name.strip("/")
        if name in self.names:
            raise FixtureError(f"cpio: duplicate entry '{name}'")
        self.names.add(name)
        return name

    def dir(self, name, mode=0o755):
        name = name.strip("/")
        if name in self.dirs:
            return
        self._parents(name)
        self._check(name)
        self.dirs.add(name)
        self._hdr(name, stat.S_IFDIR | mode, 0, nlink=2)

    def data(self, name, data, mode=0o644):
        name = name.strip("/")
        self._parents(name)
        self._check(name)
        self._hdr(name, stat.S_IFREG | mode, len(data))
        self.out.write(data)
        self._pad(len(data))

    def file(self, name, src, mode=None):
        """Copy the regular file SRC (symlinks followed) as NAME."""
        name = name.strip("/")
        try:
            st = os.stat(src)
        except OSError as e:
            raise FixtureError(f"cpio: cannot add '{src}' as /{name}: {e.strerror}") from e
        if mode is None:
            mode = 0o755 if st.st_mode & 0o111 else 0o644
        self._parents(name)
        self._check(name)
        self._hdr(name, stat.S_IFREG | mode, st.st_size)
        copied = 0
        with open(src, "rb") as f:
            while True:
                b = f.read(1 << 20)
                if not b:
                    break
                self.out.write(b)
                copied += len(b)
        if copied != st.st_size:
            raise FixtureError(f"cpio: '{src}' changed size while being copied")
        self._pad(copied)

    def symlink(self, name, target):
        name = name.strip("/")
        self._parents(name)
        self._check(name)
        t = target.encode()
        self._hdr(name, stat.S_IFLNK | 0o777, len(t))
        self.out.write(t)
        self._pad(len(t))

    def chardev(self, name, major, minor, mode=0o600):
        name = name.strip("/")
        self._parents(name)
        self._check(name)
        self._hdr(name, stat.S_IFCHR | mode, 0, rdev=(major, minor))

    def trailer(self):
        self._hdr("TRAILER!!!", 0, 0)
        # pad the archive to 512 bytes like GNU cpio does
        pos = self.out.tell()
        self.out.write(b"\0" * ((-pos) % 512))


def busybox_applets(busybox):
    """Applet paths (e.g. 'usr/bin/awk') of a static busybox binary."""
    p = run([busybox, "--list-full"], f"listing the applets of {busybox}")
    out = []
    for line in p.stdout.decode().split():
        line = line.strip("/")
        if line and line not in ("bin/busybox", "linuxrc"):
            out.append(line)
    return out


def add_busybox(cpio, busybox, skip=()):
    """busybox and a symlink per applet, except the applet paths in SKIP."""
    cpio.file("bin/busybox", busybox, mode=0o755)
    for a in busybox_applets(busybox):
        if a in skip:
            continue
        depth = a.count("/")
        cpio.symlink(a, "../" * depth + "bin/busybox")


# --------------------------------------------------------------------------
# ELF helpers (64-bit little endian only: what the kernel package ships)

def elf_sections(data):
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return None
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3a)
    if shoff == 0 or shnum == 0:
        return {}
    secs = []
    for i in range(shnum):
        off = shoff + i * shentsize
        name, typ, flags, addr, offset, size = struct.unpack_from("<IIQQQQ", data, off)
        secs.append((name, offset, size))
    stroff = secs[shstrndx][1]
    res = {}
    for name, offset, size in secs:
        end = data.index(b"\0", stroff + name)
        res[data[stroff + name:end].decode(errors="replace")] = (offset, size)
    return res


def module_info(data):
    """The .modinfo key=value pairs of a kernel module image."""
    secs = elf_sections(data)
    if not secs or ".modinfo" not in secs:
        return {}
    off, size = secs[".modinfo"]
    info = {}
    for item in data[off:off + size].split(b"\0"):
        if b"=" in item:
            k, v = item.split(b"=", 1)
            info.setdefault(k.decode(errors="replace"), v.decode(errors="replace"))
    return info


def elf_notes(data):
    """(name, type, desc) of every note in the PT_NOTE segments of an ELF64 file."""
    if data[:4] != b"\x7fELF" or data[4] != 2:
        raise FixtureError("not a 64-bit ELF file")
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    notes = []
    for i in range(phnum):
        p_type, p_flags, p_offset, p_vaddr, p_paddr, p_filesz = struct.unpack_from(
            "<IIQQQQ", data, phoff + i * phentsize)
        if p_type != 4:     # PT_NOTE
            continue
        pos, end = p_offset, p_offset + p_filesz
        while pos + 12 <= end:
            namesz, descsz, ntype = struct.unpack_from("<III", data, pos)
            pos += 12
            name = data[pos:pos + namesz].rstrip(b"\0").decode(errors="replace")
            pos += (namesz + 3) & ~3
            desc = data[pos:pos + descsz]
            pos += (descsz + 3) & ~3
            notes.append((name, ntype, desc))
    return notes


def elf_needed(data):
    """The DT_NEEDED sonames of an ELF64 image (from .dynamic and .dynstr)."""
    secs = elf_sections(data)
    if secs is None:
        raise FixtureError("not a 64-bit little-endian ELF file")
    if ".dynamic" not in secs:
        return []
    if ".dynstr" not in secs:
        raise FixtureError("the ELF file has .dynamic but no .dynstr section")
    doff, dsize = secs[".dynamic"]
    soff, _ = secs[".dynstr"]
    out = []
    for pos in range(doff, doff + dsize - 15, 16):
        tag, val = struct.unpack_from("<qQ", data, pos)
        if tag == 0:        # DT_NULL
            break
        if tag == 1:        # DT_NEEDED
            end = data.index(b"\0", soff + val)
            out.append(data[soff + val:end].decode())
    return out


def elf_interp(data):
    """The PT_INTERP path of an ELF64 image (its first 64 KiB suffice), or None."""
    if data[:4] != b"\x7fELF" or data[4] != 2:
        return None
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    for i in range(phnum):
        p_type, _f, p_offset, _v, _p, p_filesz = struct.unpack_from("<IIQQQQ", data, phoff + i * phentsize)
        if p_type == 3:
            return data[p_offset:p_offset + p_filesz].rstrip(b"\0").decode()
    return None


def ldd_closure(exe):
    """Shared libraries and the loader that EXE needs, as absolute host paths."""
    need_tool("ldd", "libc-bin")
    p = subprocess.run(["ldd", exe], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    text = p.stdout.decode(errors="replace")
    if p.returncode != 0:
        if "not a dynamic executable" in (text + p.stderr.decode(errors="replace")):
            return []
        raise FixtureError(f"ldd {exe} failed: {p.stderr.decode(errors='replace').strip()}")
    libs = []
    for line in text.splitlines():
        line = line.strip()
        if "=> not found" in line:
            raise FixtureError(f"{exe}: the shared library {line.split()[0]} is not found (ldd)")
        if "=>" in line:
            path = line.split("=>", 1)[1].strip().split(" (")[0].strip()
        else:
            path = line.split(" (")[0].strip()
        if path.startswith("/"):
            libs.append(path)
    return libs


def python_exit(msg, prefix):
    print(f"{prefix}: error: {msg}", file=sys.stderr, flush=True)
    sys.exit(1)


# --------------------------------------------------------------------------
# vireo-cmos: a tiny static x86-64 program for raw CMOS access from the
# guest shell (Debian's kernel has no /dev/port, and /dev/nvram refuses to
# work when the checksum at 0x2e-0x2f does not match, as with QEMU microvm).
#
#   printf '\100' | vireo-cmos | od -An -tu1        read CMOS byte 0x40
#   printf '\100\001' | vireo-cmos                  write 1 to it (echoes it back)
#
# It reads one or two bytes (index [, value]) from stdin with one read(),
# gets ports 0x70-0x71 with ioperm(), writes the value when given, reads the
# byte back and writes it to stdout. Exit status 1 when ioperm or read fail.

def cmos_helper_elf():
    code = bytearray()
    fixups = []     # (position of the rel8 byte, label)
    labels = {}

    def emit(*b):
        code.extend(b)

    def jcc(op, label):
        emit(op, 0)
        fixups.append((len(code) - 1, label))

    emit(0xb8, 0xad, 0, 0, 0)            # mov eax, 173 (SYS_ioperm)
    emit(0xbf, 0x70, 0, 0, 0)            # mov edi, 0x70
    emit(0xbe, 0x02, 0, 0, 0)            # mov esi, 2
    emit(0xba, 0x01, 0, 0, 0)            # mov edx, 1
    emit(0x0f, 0x05)                     # syscall
    emit(0x85, 0xc0)                     # test eax, eax
    jcc(0x75, "fail")                    # jnz fail
    emit(0x48, 0x83, 0xec, 0x10)         # sub rsp, 16
    emit(0x31, 0xc0)                     # xor eax, eax (SYS_read)
    emit(0x31, 0xff)                     # xor edi, edi (stdin)
    emit(0x48, 0x89, 0xe6)               # mov rsi, rsp
    emit(0xba, 0x02, 0, 0, 0)            # mov edx, 2
    emit(0x0f, 0x05)                     # syscall
    emit(0x48, 0x89, 0xc3)               # mov rbx, rax
    emit(0x48, 0x85, 0xdb)               # test rbx, rbx
    jcc(0x7e, "fail")                    # jle fail
    emit(0x8a, 0x04, 0x24)               # mov al, [rsp]
    emit(0xe6, 0x70)                     # out 0x70, al
    emit(0x48, 0x83, 0xfb, 0x02)         # cmp rbx, 2
    jcc(0x7c, "read")                    # jl read
    emit(0x8a, 0x44, 0x24, 0x01)         # mov al, [rsp+1]
    emit(0xe6, 0x71)                     # out 0x71, al
    emit(0x8a, 0x04, 0x24)               # mov al, [rsp]
    emit(0xe6, 0x70)                     # out 0x70, al
    labels["read"] = len(code)
    emit(0xe4, 0x71)                     # in al, 0x71
    emit(0x88, 0x04, 0x24)               # mov [rsp], al
    emit(0xb8, 0x01, 0, 0, 0)            # mov eax, 1 (SYS_write)
    emit(0xbf, 0x01, 0, 0, 0)            # mov edi, 1 (stdout)
    emit(0x48, 0x89, 0xe6)               # mov rsi, rsp
    emit(0xba, 0x01, 0, 0, 0)            # mov edx, 1
    emit(0x0f, 0x05)                     # syscall
    emit(0xb8, 0x3c, 0, 0, 0)            # mov eax, 60 (SYS_exit)
    emit(0x31, 0xff)                     # xor edi, edi
    emit(0x0f, 0x05)                     # syscall
    labels["fail"] = len(code)
    emit(0xb8, 0x3c, 0, 0, 0)            # mov eax, 60 (SYS_exit)
    emit(0xbf, 0x01, 0, 0, 0)            # mov edi, 1
    emit(0x0f, 0x05)                     # syscall
    for pos, label in fixups:
        rel = labels[label] - (pos + 1)
        assert -128 <= rel < 128
        code[pos] = rel & 0xff

    base = 0x400000
    ehsize, phsize = 64, 56
    entry = base + ehsize + phsize
    total = ehsize + phsize + len(code)
    eh = (b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
          + struct.pack("<HHIQQQIHHHHHH", 2, 0x3e, 1, entry, ehsize, 0, 0, ehsize, phsize, 1, 0, 0, 0))
    ph = struct.pack("<IIQQQQQQ", 1, 5, 0, base, base, total, total, 0x1000)   # PT_LOAD, R+X
    return eh + ph + bytes(code)
