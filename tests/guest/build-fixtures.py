#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Build the real-guest test fixtures into OUTDIR (cached, idempotent).

    build-fixtures.py OUTDIR [--refresh]

From the Debian packages linux-image-cloud-amd64 (its current ABI package,
linux-image-6.1.0-NN-cloud-amd64), busybox-static and hyperv-daemons (with
the packages it depends on for its shared libraries), fetched with
`apt-get download` (nothing is installed), this produces in OUTDIR:

  vmlinuz            the bzImage
  vmlinux            the ELF kernel unpacked from the bzImage payload (PVH boot)
  kernel-release     e.g. 6.1.0-56-cloud-amd64
  kernel-version     the full version string of the bzImage header
  kernel.config      the kernel configuration
  busybox            busybox (static)
  guest-modules/     modules for the L2 guest, uncompressed, load.list in order
  l1-modules/        irqbypass, kvm, kvm-amd for the nested test host (L1)
  guest-userland/    hv_kvp_daemon, its helper scripts, libraries and loader
                     (root/ is the tree, files.list the stamp)
  guest.cpio.gz      the L2 initramfs: busybox, modules, userland, /init, /scenarios
  manifest.json      what was built from what (the cache stamp)

A rerun with nothing changed only checks the manifest (well under a second).
--refresh looks the kernel package up again (a newer ABI may have appeared).
"""

import argparse
import glob
import gzip
import io
import json
import lzma
import bz2
import os
import re
import shutil
import struct
import subprocess
import sys
import time
import zlib

sys.dont_write_bytecode = True     # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixturelib import (HERE, Cpio, FixtureError, run_main, add_busybox, cmos_helper_elf, elf_interp,  # noqa: E402
                        elf_needed, elf_notes, module_info, need_tool, run, sha256_bytes, sha256_file)

FORMAT = 4
KERNEL_META = "linux-image-cloud-amd64"
BUSYBOX_PKG = "busybox-static"

# Modules insmod'ed by the L2 guest init, in this order (dependencies are
# added before their users automatically, from each module's .modinfo).
#  hv_vmbus, hv_utils: the Hyper-V VMBus driver and integration services
#  hyperv_fb, hid_hyperv, hyperv_keyboard: synthetic video, mouse, keyboard
#  button:  ACPI power button (CONFIG_ACPI_BUTTON=m) -> input events
#  evdev:   /dev/input/event* for busybox acpid
#  nvram:   /dev/nvram and /proc/driver/nvram (CMOS checksum status); the
#           reboot scenario counts boots with /bin/vireo-cmos (no CONFIG_DEVPORT)
#  dummy:   dummy0, a non-loopback interface without a NIC: hv_kvp_daemon
#           reports the addresses of non-loopback interfaces only
GUEST_MODULES = ["hv_vmbus", "hv_utils", "hyperv_fb", "hid_hyperv", "hyperv_keyboard",
                 "button", "evdev", "nvram", "dummy"]
# Modules the L1 host loads: /dev/kvm on emulated AMD-V, and virtio-serial
# for the files a job sends back (nested-host.py --out).
L1_MODULES = ["irqbypass", "kvm", "kvm_amd", "virtio_pci", "virtio_console"]

# The KVP daemon (userspace half of hv_utils' KVP) and the scripts it runs.
# Debian ships no hv_set_ifconfig (only needed for IP injection).
KVP_PKG = "hyperv-daemons"
KVP_FILES = ["usr/sbin/hv_kvp_daemon", "usr/libexec/hypervkvpd/hv_get_dhcp_info",
             "usr/libexec/hypervkvpd/hv_get_dns_info"]
# Where the guest's dynamic loader looks without /etc/ld.so.cache (Debian's multiarch ld.so).
LIB_DIRS = ["lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu", "lib", "usr/lib"]
# Plain poweroff/reboot/halt signal PID 1, which only busybox init answers:
# these are scripts in the guest (see orderly_shutdown in guest-lib.sh).
SHUTDOWN_APPLETS = ["sbin/poweroff", "sbin/reboot", "sbin/halt"]

SOURCES = ["build-fixtures.py", "fixturelib.py", "guest-init.sh", "guest-lib.sh"]

P = "fixtures"


def say(msg):
    print(f"{P}: {msg}", flush=True)


def norm(name):
    return name.replace("-", "_")


# --------------------------------------------------------------------------
# packages

def resolve_kernel_package(debdir):
    """linux-image-cloud-amd64 -> linux-image-6.1.0-NN-cloud-amd64."""
    if shutil.which("apt-cache"):
        p = subprocess.run(["apt-cache", "depends", KERNEL_META], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
        if p.returncode == 0:
            for line in p.stdout.decode().splitlines():
                m = re.match(r"\s*Depends:\s*(linux-image-\d\S*-cloud-amd64)\s*$", line)
                if m:
                    return m.group(1)
    # fall back: download the metapackage and read its Depends field
    deb = download(KERNEL_META, debdir)
    need_tool("dpkg-deb", "dpkg")
    dep = run(["dpkg-deb", "-f", deb, "Depends"], f"reading the Depends of {deb}").stdout.decode()
    m = re.search(r"(linux-image-\d\S*-cloud-amd64)", dep)
    if not m:
        raise FixtureError(f"{KERNEL_META}: cannot find the kernel package in its Depends: '{dep.strip()}'")
    return m.group(1)


def cached_deb(pkg, debdir):
    found = sorted(glob.glob(os.path.join(debdir, glob.escape(pkg) + "_*.deb")), key=os.path.getmtime)
    return found[-1] if found else None


def download(pkg, debdir):
    deb = cached_deb(pkg, debdir)
    if deb:
        say(f"cached {os.path.basename(deb)}")
        return deb
    need_tool("apt-get", "apt")
    say(f"downloading {pkg} (apt-get download)")
    p = subprocess.run(["apt-get", "download", pkg], cwd=debdir, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    err = "\n".join(l for l in p.stderr.decode(errors="replace").splitlines()
                    if "unsandboxed" not in l)   # apt's warning when run as root
    if p.returncode != 0:
        raise FixtureError(f"apt-get download {pkg} failed (status {p.returncode}): {err.strip()}\n"
                           f"  (is the Debian archive reachable? try 'apt-get update')")
    deb = cached_deb(pkg, debdir)
    if not deb:
        raise FixtureError(f"apt-get download {pkg} succeeded but no {pkg}_*.deb appeared in {debdir}")
    return deb


def extract_deb(deb, dest):
    need_tool("dpkg-deb", "dpkg")
    shutil.rmtree(dest, ignore_errors=True)
    os.makedirs(dest)
    run(["dpkg-deb", "-x", deb, dest], f"extracting {deb}")


# --------------------------------------------------------------------------
# bzImage -> vmlinux

def decompress_payload(payload, what):
    """Decompress a bzImage payload; returns (data, method)."""
    magic = payload[:6]
    if magic[:2] == b"\x1f\x8b":
        d = zlib.decompressobj(31)
        return d.decompress(payload), "gzip"
    if magic == b"\xfd7zXZ\x00":
        return lzma.LZMADecompressor(lzma.FORMAT_XZ).decompress(payload), "xz"
    if magic[:3] == b"\x5d\x00\x00":
        return lzma.LZMADecompressor(lzma.FORMAT_ALONE).decompress(payload), "lzma"
    if magic[:3] == b"BZh":
        return bz2.BZ2Decompressor().decompress(payload), "bzip2"
    tools = {
        b"\x28\xb5\x2f\xfd": ("zstd", "zstd", ["zstd", "-d", "-c", "-q"]),
        b"\x02\x21\x4c\x18": ("lz4", "lz4", ["lz4", "-d", "-c", "-q"]),
        b"\x89\x4c\x5a\x4f": ("lzo", "lzop", ["lzop", "-d", "-c", "-q"]),
    }
    for m, (method, package, cmd) in tools.items():
        if magic[:4] == m:
            need_tool(cmd[0], package)
            p = subprocess.run(cmd, input=payload, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            # lz4 and zstd may complain about the 4-byte size trailer after the
            # stream: accept the output when it is a complete ELF (checked by the caller)
            if not p.stdout:
                raise FixtureError(f"{what}: {cmd[0]} could not decompress the {method} payload: "
                                   f"{p.stderr.decode(errors='replace').strip()}")
            return p.stdout, method
    raise FixtureError(f"{what}: unknown compression of the kernel payload (magic {magic.hex()})")


def extract_vmlinux(bzimage_path):
    with open(bzimage_path, "rb") as f:
        img = f.read()
    what = f"extracting vmlinux from {bzimage_path}"
    if len(img) < 0x270 or img[0x202:0x206] != b"HdrS":
        raise FixtureError(f"{what}: not a bzImage (no 'HdrS' setup header at 0x202)")
    version, = struct.unpack_from("<H", img, 0x206)
    if version < 0x208:
        raise FixtureError(f"{what}: boot protocol {version >> 8}.{version & 0xff} has no payload fields (needs 2.08)")
    setup_sects = img[0x1f1] or 4
    pm_start = (setup_sects + 1) * 512
    payload_offset, payload_length = struct.unpack_from("<II", img, 0x248)
    start = pm_start + payload_offset
    payload = img[start:start + payload_length]
    if len(payload) != payload_length or payload_length < 8:
        raise FixtureError(f"{what}: payload ({payload_length} bytes at {start:#x}) runs past the end of the file")
    # the last 4 bytes of the payload hold the decompressed size
    expected_size, = struct.unpack_from("<I", payload, payload_length - 4)
    data, method = decompress_payload(payload[:-4], what)
    if len(data) > expected_size and data[:4] == b"\x7fELF":
        data = data[:expected_size]
    if len(data) != expected_size:
        raise FixtureError(f"{what}: {method} payload decompressed to {len(data)} bytes, "
                           f"the header trailer says {expected_size}")
    if data[:4] != b"\x7fELF":
        raise FixtureError(f"{what}: the decompressed payload is not an ELF file")
    pvh = None
    for name, ntype, desc in elf_notes(data):
        if name == "Xen" and ntype == 18:
            pvh = int.from_bytes(desc, "little")
    if pvh is None:
        raise FixtureError(f"{what}: the ELF has no Xen PVH entry note (name 'Xen', type 18); "
                           f"was the kernel built without CONFIG_PVH?")
    # kernel version string: pointer at 0x20e, relative to 0x200
    kv_off, = struct.unpack_from("<H", img, 0x20e)
    kversion = ""
    if kv_off:
        s = img[kv_off + 0x200:kv_off + 0x200 + 256]
        kversion = s.split(b"\0", 1)[0].decode(errors="replace")
    return data, method, pvh, kversion


# --------------------------------------------------------------------------
# modules

def decompress_module(path):
    with open(path, "rb") as f:
        data = f.read()
    if path.endswith(".ko"):
        return data
    if path.endswith(".ko.xz"):
        return lzma.decompress(data)
    if path.endswith(".ko.gz"):
        return gzip.decompress(data)
    if path.endswith(".ko.zst"):
        need_tool("zstd", "zstd")
        return run(["zstd", "-d", "-c", "-q", path], f"decompressing {path}").stdout
    raise FixtureError(f"{path}: unknown module compression")


def module_closure(moddir, wanted, what):
    """Modules WANTED plus their dependencies, in load order: [(name, data)]."""
    index = {}
    for root, _dirs, files in os.walk(moddir):
        for fn in files:
            m = re.match(r"(.+)\.ko(\.xz|\.gz|\.zst)?$", fn)
            if m:
                index.setdefault(norm(m.group(1)), os.path.join(root, fn))
    if not index:
        raise FixtureError(f"{what}: no kernel modules under {moddir}")
    builtin = set()
    bfile = os.path.join(os.path.dirname(moddir), "modules.builtin")
    if os.path.exists(bfile):
        with open(bfile) as f:
            builtin = {norm(os.path.basename(l.strip()).split(".ko")[0]) for l in f if l.strip()}
    order, datas, visiting = [], {}, set()

    def visit(name, chain):
        name = norm(name)
        if name in datas or name in builtin:
            return
        if name in visiting:
            raise FixtureError(f"{what}: module dependency loop: {' -> '.join(chain + [name])}")
        if name not in index:
            raise FixtureError(f"{what}: module '{name}' is not in the kernel package"
                               + (f" (needed by {chain[-1]})" if chain else ""))
        visiting.add(name)
        data = decompress_module(index[name])
        info = module_info(data)
        deps = [d for d in info.get("depends", "").split(",") if d]
        for d in deps:
            visit(d, chain + [name])
        visiting.discard(name)
        datas[name] = (data, deps, os.path.relpath(index[name], moddir))
        order.append(name)

    for w in wanted:
        visit(w, [])
    return [(n, datas[n][0], datas[n][1], datas[n][2]) for n in order]


def write_modules(dest, mods):
    tmp = dest + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    for name, data, _deps, _src in mods:
        with open(os.path.join(tmp, name + ".ko"), "wb") as f:
            f.write(data)
    with open(os.path.join(tmp, "load.list"), "w") as f:
        for name, *_ in mods:
            f.write(name + "\n")
    shutil.rmtree(dest, ignore_errors=True)
    os.rename(tmp, dest)


# --------------------------------------------------------------------------
# guest userland: hv_kvp_daemon with the libraries of its Depends packages

def tree_resolve(root, rel, what):
    """Follow symlinks of ROOT/REL inside ROOT (absolute targets are
    relative to ROOT); the path of the regular file, relative to ROOT."""
    for _ in range(40):
        p = os.path.join(root, rel)
        if not os.path.islink(p):
            if not os.path.isfile(p):
                raise FixtureError(f"{what}: /{rel} is not a regular file in the packages")
            return rel
        t = os.readlink(p)
        rel = os.path.normpath(t.lstrip("/") if t.startswith("/") else os.path.join(os.path.dirname(rel), t))
        if rel.startswith(".."):
            raise FixtureError(f"{what}: the symlink /{rel} points out of the package tree")
    raise FixtureError(f"{what}: symlink loop at /{rel}")


def deb_depends(deb):
    """Package names of the Depends field of DEB (first alternative of each)."""
    need_tool("dpkg-deb", "dpkg")
    dep = run(["dpkg-deb", "-f", deb, "Depends"], f"reading the Depends of {deb}").stdout.decode()
    names = []
    for item in dep.split(","):
        name = item.split("|")[0].strip().split(" ")[0].split(":")[0].strip()
        if name:
            names.append(name)
    return names


def build_userland(debdir, work, dest):
    """Unpack KVP_PKG and its Depends; copy KVP_FILES and the shared libraries
    they need (DT_NEEDED, resolved in the Depends packages) into DEST/root.
    Returns the manifest fields."""
    kdeb = download(KVP_PKG, debdir)
    deps = deb_depends(kdeb)
    ddebs = [download(d, debdir) for d in deps]
    uroot = os.path.join(work, "userland")
    pkgroot = os.path.join(uroot, "pkg")
    extract_deb(kdeb, pkgroot)
    deproots = []
    for d in ddebs:
        r = os.path.join(uroot, os.path.basename(d))
        extract_deb(d, r)
        deproots.append(r)
    out = os.path.join(dest + ".tmp", "root")
    shutil.rmtree(dest + ".tmp", ignore_errors=True)
    os.makedirs(out)
    entries = {}      # guest path -> (kind, source or link target)

    def copy(src, rel):
        os.makedirs(os.path.dirname(os.path.join(out, rel)), exist_ok=True)
        shutil.copyfile(src, os.path.join(out, rel))
        os.chmod(os.path.join(out, rel), os.stat(src).st_mode & 0o777)
        entries[rel] = "file"

    def find_lib(soname, needed_by):
        for r in deproots:
            for d in LIB_DIRS:
                if os.path.lexists(os.path.join(r, d, soname)):
                    rel = tree_resolve(r, os.path.join(d, soname), f"{soname} (needed by {needed_by})")
                    return r, d, rel
        raise FixtureError(f"{needed_by} needs {soname}, which none of the packages {KVP_PKG} depends on "
                           f"({', '.join(deps) or 'none'}) has in {', '.join('/' + d for d in LIB_DIRS)}")

    todo = []
    for f in KVP_FILES:
        src = os.path.join(pkgroot, f)
        if not os.path.isfile(src):
            raise FixtureError(f"{kdeb}: no /{f} inside (has the package changed?)")
        copy(src, f)
        todo.append((src, f))
    interps = set()
    libs = []
    while todo:
        src, rel = todo.pop()
        with open(src, "rb") as fh:
            data = fh.read()
        if data[:4] != b"\x7fELF":
            continue
        interp = elf_interp(data)
        if interp:
            interps.add(interp)
        for so in elf_needed(data):
            r, d, real = find_lib(so, "/" + rel)
            guest = os.path.join(d, so)
            if guest not in entries:
                copy(os.path.join(r, real), guest)
                libs.append(guest)
                todo.append((os.path.join(r, real), guest))
    for interp in sorted(interps):
        rel = interp.lstrip("/")
        if rel in entries:
            continue
        for r in deproots:
            if os.path.lexists(os.path.join(r, rel)):
                real = tree_resolve(r, rel, f"the loader {interp}")
                break
        else:
            raise FixtureError(f"the loader {interp} is in none of {', '.join(deps)}")
        if real not in entries:
            copy(os.path.join(r, real), real)
            libs.append(real)
        if real != rel:
            link = os.path.relpath(real, os.path.dirname(rel))
            os.makedirs(os.path.dirname(os.path.join(out, rel)), exist_ok=True)
            os.symlink(link, os.path.join(out, rel))
            entries[rel] = "symlink"
    # Cross-check with the fetched loader itself (what ldd does): every
    # library must come from our tree, none may be missing.
    ld = [os.path.join(out, p) for p, k in entries.items() if k == "file" and "ld-linux" in p]
    if ld:
        libpath = ":".join(os.path.join(out, d) for d in LIB_DIRS)
        daemon = os.path.join(out, KVP_FILES[0])
        try:
            p = subprocess.run([ld[0], "--inhibit-cache", "--library-path", libpath, "--list", daemon],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            text = p.stdout.decode(errors="replace")
            bad = [l.strip() for l in text.splitlines()
                   if "not found" in l or ("=>" in l and out not in l)]
            if p.returncode != 0 or bad:
                raise FixtureError(f"the loader of {os.path.basename(ld[0])} does not resolve "
                                   f"{KVP_FILES[0]} from the fixture tree: {'; '.join(bad) or text.strip()}")
        except OSError as e:
            say(f"note: cannot run {ld[0]} here to cross-check the libraries ({e.strerror})")
    with open(os.path.join(dest + ".tmp", "files.list"), "w") as fh:
        for rel in sorted(entries):
            fh.write(f"{entries[rel]} {rel}\n")
    shutil.rmtree(dest, ignore_errors=True)
    os.rename(dest + ".tmp", dest)
    return {"kvp_deb": os.path.basename(kdeb), "kvp_lib_debs": [os.path.basename(d) for d in ddebs],
            "guest_userland": sorted(entries)}


def add_userland(c, udir):
    root = os.path.join(udir, "root")
    with open(os.path.join(udir, "files.list")) as fh:
        for line in fh:
            kind, rel = line.split()
            if kind == "symlink":
                c.symlink(rel, os.readlink(os.path.join(root, rel)))
            else:
                c.file(rel, os.path.join(root, rel))


# --------------------------------------------------------------------------
# guest initramfs

# orderly_poweroff() and friends run these; "-f" keeps busybox's behaviour.
SHUTDOWN_SCRIPT = """#!/bin/sh
# {name}: our /init is no init: busybox {name} would signal PID 1 in vain
for a; do
	case "$a" in -*f*) exec /bin/busybox {name} "$@" ;; esac
done
. /lib/vireo.sh
orderly_shutdown {name}
"""

def scenario_files():
    return sorted(glob.glob(os.path.join(HERE, "scenarios", "*.sh")))


def build_guest_cpio(outdir, dest, tools):
    buf = io.BytesIO()
    c = Cpio(buf)
    for d in ("dev", "proc", "sys", "tmp", "run", "etc", "root", "var/log", "var/lib/hyperv", "mnt"):
        c.dir(d)
    c.chardev("dev/console", 5, 1)
    c.chardev("dev/null", 1, 3, 0o666)
    c.chardev("dev/ttyS0", 4, 64)
    add_busybox(c, os.path.join(outdir, "busybox"), skip=SHUTDOWN_APPLETS)
    for a in SHUTDOWN_APPLETS:
        c.data(a, SHUTDOWN_SCRIPT.format(name=os.path.basename(a)).encode(), mode=0o755)
    # The KVP helper scripts say #!/bin/bash; what they use, busybox sh has.
    c.data("bin/bash", b"#!/bin/sh\nexec /bin/sh \"$@\"\n", mode=0o755)
    add_userland(c, os.path.join(outdir, "guest-userland"))
    c.file("init", os.path.join(HERE, "guest-init.sh"), mode=0o755)
    c.file("lib/vireo.sh", os.path.join(HERE, "guest-lib.sh"), mode=0o644)
    c.data("bin/vireo-cmos", cmos_helper_elf(), mode=0o755)
    for t in tools:
        c.file("bin/" + os.path.basename(t), t, mode=0o755)
    md = os.path.join(outdir, "guest-modules")
    for fn in sorted(os.listdir(md)):
        c.file("modules/" + fn, os.path.join(md, fn), mode=0o644)
    scen = scenario_files()
    if not scen:
        raise FixtureError(f"no scenario scripts in {os.path.join(HERE, 'scenarios')}")
    for s in scen:
        c.file("scenarios/" + os.path.basename(s), s, mode=0o755)
    c.trailer()
    tmp = dest + ".tmp"
    with open(tmp, "wb") as f:
        # mtime=0: the archive is reproducible, its hash only changes with its content
        with gzip.GzipFile(filename="", mode="wb", fileobj=f, mtime=0, compresslevel=6) as g:
            g.write(buf.getvalue())
    os.rename(tmp, dest)


# --------------------------------------------------------------------------

def sources_key(tools):
    parts = []
    for t in tools:
        with open(t, "rb") as f:
            parts.append(b"tool:" + os.path.basename(t).encode() + b"\0" + f.read())
    for s in SOURCES:
        with open(os.path.join(HERE, s), "rb") as f:
            parts.append(s.encode() + b"\0" + f.read())
    for s in scenario_files():
        with open(s, "rb") as f:
            parts.append(os.path.basename(s).encode() + b"\0" + f.read())
    return sha256_bytes(b"\0\0".join(parts) + str(FORMAT).encode())


def kernel_key():
    with open(os.path.join(HERE, "build-fixtures.py"), "rb") as f:
        me = f.read()
    with open(os.path.join(HERE, "fixturelib.py"), "rb") as f:
        lib = f.read()
    return sha256_bytes(me + lib)


KERNEL_OUTPUTS = ["vmlinuz", "vmlinux", "kernel-release", "kernel-version", "kernel.config", "busybox",
                  "guest-modules/load.list", "l1-modules/load.list"]
USERLAND_OUTPUTS = ["guest-userland/files.list"]
OUTPUTS = KERNEL_OUTPUTS + USERLAND_OUTPUTS + ["guest.cpio.gz"]


def stat_sig(path):
    st = os.stat(path)
    return [st.st_size, st.st_mtime_ns]


def load_manifest(path):
    try:
        with open(path) as f:
            m = json.load(f)
        return m if m.get("format") == FORMAT else None
    except (OSError, ValueError):
        return None


def outputs_intact(outdir, m):
    sigs = m.get("outputs", {})
    for o in OUTPUTS:
        p = os.path.join(outdir, o)
        if o not in sigs or not os.path.exists(p) or stat_sig(p) != sigs[o]:
            return False
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("outdir")
    ap.add_argument("--guest-tool", action="append", default=[], metavar="PATH",
                    help="a static program of tests/guest/tools for the guest's /bin")
    ap.add_argument("--refresh", action="store_true",
                    help="look the kernel package up again and rebuild everything")
    args = ap.parse_args()
    outdir = os.path.abspath(args.outdir)
    t0 = time.monotonic()
    os.makedirs(outdir, exist_ok=True)
    mpath = os.path.join(outdir, "manifest.json")
    m = load_manifest(mpath)
    tools = [os.path.abspath(t) for t in args.guest_tool]
    # Callers that do not know the tools (run-scenario.py, the demo, the
    # benchmark) keep the ones meson passed last time.
    if not tools and m and all(os.path.exists(t) for t in m.get("guest_tools", [])):
        tools = m.get("guest_tools", [])
    for t in tools:
        if not os.access(t, os.X_OK):
            raise FixtureError(f"--guest-tool {t}: not an executable file (meson compile builds it)")
    skey = sources_key(tools)
    kkey = kernel_key()

    if m and not args.refresh and m.get("sources_key") == skey and outputs_intact(outdir, m):
        say(f"cached: kernel {m['kernel_release']}, guest.cpio.gz, l1-modules in {outdir} "
            f"({time.monotonic() - t0:.2f} s)")
        return 0

    debdir = os.path.join(outdir, "debs")
    os.makedirs(debdir, exist_ok=True)
    work = os.path.join(outdir, ".work")

    kernel_ok = (m and not args.refresh and m.get("kernel_key") == kkey
                 and all(os.path.exists(os.path.join(outdir, o)) for o in KERNEL_OUTPUTS))
    if kernel_ok:
        say(f"cached kernel {m['kernel_release']}, modules and busybox")
        new = dict(m)
    else:
        new = {"format": FORMAT}
        if m and not args.refresh and m.get("kernel_package"):
            kpkg = m["kernel_package"]
        else:
            say(f"resolving {KERNEL_META}")
            kpkg = resolve_kernel_package(debdir)
        say(f"kernel package: {kpkg}")
        kdeb = download(kpkg, debdir)
        bdeb = download(BUSYBOX_PKG, debdir)
        new.update(kernel_package=kpkg, kernel_deb=os.path.basename(kdeb),
                   busybox_deb=os.path.basename(bdeb))

        say(f"unpacking {os.path.basename(kdeb)}")
        kroot = os.path.join(work, "kernel")
        extract_deb(kdeb, kroot)
        vmlinuz = glob.glob(os.path.join(kroot, "boot", "vmlinuz-*"))
        if len(vmlinuz) != 1:
            raise FixtureError(f"{kdeb}: expected one boot/vmlinuz-*, found {len(vmlinuz)}")
        release = os.path.basename(vmlinuz[0])[len("vmlinuz-"):]
        moddir = os.path.join(kroot, "lib", "modules", release, "kernel")
        if not os.path.isdir(moddir):
            raise FixtureError(f"{kdeb}: no lib/modules/{release}/kernel directory")

        say("extracting vmlinux from the bzImage payload")
        vmlinux, method, pvh, kversion = extract_vmlinux(vmlinuz[0])
        say(f"vmlinux: {len(vmlinux) >> 20} MiB ELF ({method} payload), PVH entry {pvh:#x}")
        with open(os.path.join(outdir, "vmlinux.tmp"), "wb") as f:
            f.write(vmlinux)
        os.rename(os.path.join(outdir, "vmlinux.tmp"), os.path.join(outdir, "vmlinux"))
        shutil.copyfile(vmlinuz[0], os.path.join(outdir, "vmlinuz.tmp"))
        os.rename(os.path.join(outdir, "vmlinuz.tmp"), os.path.join(outdir, "vmlinuz"))
        cfg = glob.glob(os.path.join(kroot, "boot", "config-*"))
        if cfg:
            shutil.copyfile(cfg[0], os.path.join(outdir, "kernel.config"))
        else:
            open(os.path.join(outdir, "kernel.config"), "w").close()
        with open(os.path.join(outdir, "kernel-release"), "w") as f:
            f.write(release + "\n")
        with open(os.path.join(outdir, "kernel-version"), "w") as f:
            f.write(kversion + "\n")

        say(f"collecting guest modules: {', '.join(GUEST_MODULES)} (+ dependencies)")
        gm = module_closure(moddir, GUEST_MODULES, "guest modules")
        write_modules(os.path.join(outdir, "guest-modules"), gm)
        say(f"collecting L1 modules: {', '.join(L1_MODULES)} (+ dependencies)")
        lm = module_closure(moddir, L1_MODULES, "L1 modules")
        write_modules(os.path.join(outdir, "l1-modules"), lm)
        for label, mods in (("guest", gm), ("L1", lm)):
            for name, data, deps, src in mods:
                say(f"  {label} module {name} ({src}, {len(data) >> 10} KiB)"
                    + (f" depends on {', '.join(deps)}" if deps else ""))

        say(f"unpacking {os.path.basename(bdeb)}")
        broot = os.path.join(work, "busybox")
        extract_deb(bdeb, broot)
        bb = os.path.join(broot, "bin", "busybox")
        if not os.path.exists(bb):
            raise FixtureError(f"{bdeb}: no bin/busybox inside")
        with open(bb, "rb") as f:
            head = f.read(65536)
        if elf_interp(head):
            raise FixtureError(f"{bdeb}: bin/busybox is dynamically linked; the initramfs needs busybox-static")
        shutil.copyfile(bb, os.path.join(outdir, "busybox"))
        os.chmod(os.path.join(outdir, "busybox"), 0o755)
        shutil.rmtree(work, ignore_errors=True)

        new.update(kernel_key=kkey, kernel_release=release, kernel_version=kversion,
                   payload_compression=method, pvh_entry=f"{pvh:#x}",
                   guest_modules=[n for n, *_ in gm], l1_modules=[n for n, *_ in lm])

    userland_ok = (m and not args.refresh and m.get("userland_key") == kkey
                   and all(os.path.exists(os.path.join(outdir, o)) for o in USERLAND_OUTPUTS))
    if userland_ok:
        say(f"cached guest userland ({m['kvp_deb']})")
        for k in ("kvp_deb", "kvp_lib_debs", "guest_userland", "userland_key"):
            new[k] = m[k]
    else:
        say(f"collecting the guest userland: {KVP_PKG} ({', '.join('/' + f for f in KVP_FILES)}) and its libraries")
        new.update(build_userland(debdir, work, os.path.join(outdir, "guest-userland")))
        new["userland_key"] = kkey
        shutil.rmtree(work, ignore_errors=True)
        for rel in new["guest_userland"]:
            say(f"  guest /{rel}")

    say("building guest.cpio.gz (busybox, modules, userland, /init, scenarios)")
    build_guest_cpio(outdir, os.path.join(outdir, "guest.cpio.gz"), tools)
    new["sources_key"] = skey
    new["guest_tools"] = tools
    new["scenarios"] = [os.path.basename(s)[:-3] for s in scenario_files()]
    new["outputs"] = {o: stat_sig(os.path.join(outdir, o)) for o in OUTPUTS}
    new["guest_cpio_sha256"] = sha256_file(os.path.join(outdir, "guest.cpio.gz"))
    tmp = mpath + ".tmp"
    with open(tmp, "w") as f:
        json.dump(new, f, indent=1, sort_keys=True)
        f.write("\n")
    os.rename(tmp, mpath)
    say(f"done: kernel {new['kernel_release']} in {outdir} ({time.monotonic() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    run_main(P, main)
