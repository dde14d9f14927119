#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Run the manager's GUI test (test-app-gui) in a real X server.

    run-gui.py --test EXE --vireod EXE --console-client EXE --shots DIR [--where here|guest]
               [--worker EXE --fixtures DIR] [--path auto|direct|nested]
               [--log FILE] [--timeout S] -- [TEST ARGS]

--where here: Xvfb on this machine, the test beside it with a vireod of
its own; VMs start if this host's vireod can start them (else the test
checks that Start is refused with vireod's message).

--where guest: where VMs really start. On a hardware KVM that is here
too; otherwise inside the nested test host (tests/guest/nested-host.py),
which gets the test, vireod, vireo-worker, dbus-daemon, Xvfb with xkbcomp
and the XKB data, xdotool, fonts, the C.UTF-8 locale, the symbolic icons,
GTK's SVG loader, the MIME database and settings schemas, and the demo
guest; the test must then start the VM
(VIREO_GUI_NEED_GUEST=1). Screenshots come back through /vireo/out.

VIREO_GUI_EXPECT_EMULATED=1|0 tells the test whether vireod runs its VMs
inside an emulated host here (the manager must then say "emulated host:
slow"), by vireod's rule: only --where here on a KVM that cannot run a
stock guest, with QEMU installed.

Exit status: the test's; 125 when the display or the nested host failed.
"""

import argparse
import glob
import importlib.util
import os
import shlex
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
GUEST = os.path.join(os.path.dirname(HERE), "guest")
sys.dont_write_bytecode = True
sys.path.insert(0, GUEST)
from fixturelib import L1_CRASHED, FixtureError, L2CrashWatch, choose_kvm_path, ldd_closure, run_main, worker_logs_on_failure_sh  # noqa: E402

P = "run-gui"
SCREEN = "1280x900x24"
# The test's folder in L1 (its VMs' logs are under run/vireo/ID/).
L1_GUI_HOME = "/tmp/gui-home"
# The session both places give the test: an X11 GTK with no GL (the nested
# host has none), the test accessibility backend, English strings.
GTK_ENV = {
    "GDK_BACKEND": "x11",
    "GSK_RENDERER": "cairo",
    "GDK_DEBUG": "gl-disable,vulkan-disable",
    "GTK_A11Y": "test",
    "LC_ALL": "C.UTF-8",
    "LANGUAGE": "C",
    "NO_AT_BRIDGE": "1",
    "GSETTINGS_BACKEND": "memory",
}
PIXBUF_DIR = "/usr/lib/x86_64-linux-gnu/gdk-pixbuf-2.0/2.10.0"


def say(msg):
    # stderr: the test's TAP has stdout to itself
    print(f"{P}: {msg}", file=sys.stderr, flush=True)


def need(tool, package):
    path = shutil.which(tool)
    if not path:
        raise FixtureError(f"{tool} is not installed (Debian package {package}, scripts/setup-debian.sh)")
    return path


def start_xvfb():
    """Xvfb on a free display; (process, display)."""
    xvfb = need("Xvfb", "xvfb")
    r, w = os.pipe()
    proc = subprocess.Popen([xvfb, "-displayfd", str(w), "-screen", "0", SCREEN, "-nolisten", "tcp",
                             "-noreset"], pass_fds=(w,), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    os.close(w)
    with os.fdopen(r) as f:
        num = f.readline().strip()
    if not num:
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        proc.kill()
        raise FixtureError(f"Xvfb did not start: {err.strip()}")
    return proc, ":" + num


def turn_off_leftovers(home):
    """VMs a failed test left running (workers outlive vireod by design)."""
    import socket
    for ctl in glob.glob(os.path.join(home, "run", "vireo", "*", "control")):
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(10)
                s.connect(ctl)
                s.sendall(b"turn-off\n")
                reply = s.recv(256).decode(errors="replace").strip()
            say(f"turned off a VM the test left running ({ctl}): {reply}")
        except OSError as e:
            say(f"{ctl}: {e}")


def expect_emulated(a):
    """Whether this run's vireod must put its VMs inside an emulated host:
    here on a KVM that cannot run a stock kernel, with QEMU there (vireod's
    rule, and its VIREO_HOST_PATH override); never where VMs really start
    (a hardware KVM, the nested test host). The test checks the manager
    shows what this says, so vireod deciding otherwise fails it."""
    force = os.environ.get("VIREO_HOST_PATH", "")
    qemu = shutil.which("qemu-system-x86_64") is not None
    if force == "native":
        return False
    if force == "emulated":
        return qemu
    return a.where == "here" and choose_kvm_path("auto")[0] == "nested" and qemu


def run_here(a, rest):
    need("xdotool", "xdotool")
    need("dbus-daemon", "dbus-daemon")
    home = tempfile.mkdtemp(prefix="vireo-gui-")
    try:
        return run_here_in(a, rest, home)
    finally:
        turn_off_leftovers(home)
        shutil.rmtree(home, ignore_errors=True)


def run_here_in(a, rest, home):
    proc, display = start_xvfb()
    say(f"Xvfb on {display}; the test with its own vireod ({a.vireod})")
    env = dict(os.environ)
    env.update(GTK_ENV)
    env.setdefault("VIREO_GUI_TIMEOUT_S", str(a.step_timeout))
    env.update({"DISPLAY": display, "VIREOD": a.vireod, "XDOTOOL": shutil.which("xdotool"),
                "CONSOLE_CLIENT": a.console_client, "VIREO_SCREENSHOT_DIR": a.shots, "VIREO_GUI_HOME": home,
                "VIREO_GUI_EXPECT_EMULATED": "1" if expect_emulated(a) else "0"})
    if a.schemas:
        env["GSETTINGS_SCHEMA_DIR"] = a.schemas
    if a.where == "guest":
        env["VIREO_GUI_NEED_GUEST"] = "1"
        env["VIREO_WORKER"] = a.worker
        env["VIREO_DEMO_DIR"] = os.path.abspath(a.fixtures)
    env.pop("WAYLAND_DISPLAY", None)
    try:
        return subprocess.call([a.test] + rest, env=env, timeout=a.timeout)
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()


def tree(src, dest, pattern="**/*"):
    """Every regular file under src matching pattern, as (src, dest) specs."""
    out = []
    for p in glob.glob(os.path.join(src, pattern), recursive=True):
        if os.path.isfile(p):
            out.append(f"{p}:{os.path.join(dest, os.path.relpath(p, src))}")
    if not out:
        raise FixtureError(f"nothing to carry under {src} ({pattern})")
    return out


def load_nested_host():
    spec = importlib.util.spec_from_file_location("nested_host", os.path.join(GUEST, "nested-host.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def pixbuf_loaders_cache(tmp):
    """A loaders.cache naming only the SVG loader, at its host path."""
    svg = os.path.join(PIXBUF_DIR, "loaders", "libpixbufloader-svg.so")
    if not os.path.exists(svg):
        raise FixtureError(f"{svg} is missing (Debian package librsvg2-common)")
    query = glob.glob("/usr/lib/x86_64-linux-gnu/gdk-pixbuf-2.0/gdk-pixbuf-query-loaders") or \
        [shutil.which("gdk-pixbuf-query-loaders") or ""]
    if not query[0]:
        raise FixtureError("gdk-pixbuf-query-loaders is missing (Debian package libgdk-pixbuf-2.0-dev or -bin)")
    out = subprocess.run([query[0], svg], check=True, capture_output=True, text=True).stdout
    path = os.path.join(tmp, "loaders.cache")
    with open(path, "w") as f:
        f.write(out)
    return svg, path


# What meson's test environment says about sanitizers and GLib goes into L1
# too, so that a warning is as fatal there as here. Not LeakSanitizer: its
# exact stacks (fast_unwind_on_malloc=0, which GTK's caches need to be told
# apart) make every malloc of the test, vireod and the worker slow enough
# under TCG that the guest never draws; app-gui runs the same manager
# leak-checked on this host.
SANITIZER_VARS = ("ASAN_OPTIONS", "UBSAN_OPTIONS", "G_DEBUG", "MALLOC_CHECK_", "MALLOC_PERTURB_")


def sanitizer_env(env):
    for k in SANITIZER_VARS:
        v = os.environ.get(k)
        if v is None:
            continue
        if k == "ASAN_OPTIONS":
            v = ":".join([o for o in v.split(":") if o and not o.startswith(("fast_unwind", "detect_leaks"))] +
                         ["detect_leaks=0"])
            say("LeakSanitizer is off in the nested host (too slow under TCG): app-gui checks the manager's "
                "leaks on this host")
        env[k] = v


def run_nested(a, rest, why):
    say(f"inside the nested test host ({why})")
    nh = load_nested_host()
    watch = L2CrashWatch(P)
    demo = os.path.abspath(a.fixtures)
    for f in ("vmlinuz", "guest.cpio.gz"):
        if not os.path.exists(os.path.join(demo, f)):
            raise FixtureError(f"{demo}/{f} is missing (build-fixtures.py did not make it)")
    tmp = tempfile.mkdtemp(prefix="run-gui-")
    try:
        svg, cache = pixbuf_loaders_cache(tmp)
        exes = [f"{a.test}:/vireo/bin/{os.path.basename(a.test)}", f"{a.vireod}:/vireo/bin/vireod",
                f"{a.console_client}:/vireo/bin/vireo-console-client",
                f"{a.worker}:/vireo/bin/vireo-worker",
                f"{need('Xvfb', 'xvfb')}:/usr/bin/Xvfb", f"{need('xkbcomp', 'x11-xkb-utils')}:/usr/bin/xkbcomp",
                f"{need('xdotool', 'xdotool')}:/usr/bin/xdotool",
                f"{need('dbus-daemon', 'dbus-daemon')}:/usr/bin/dbus-daemon"]
        # A loader is a library, not a program: its own libraries by hand.
        files = [f"{lib}:{lib}" for lib in [svg] + ldd_closure(svg)]
        files += [f"{demo}/vmlinuz:/vireo/demo/vmlinuz", f"{demo}/guest.cpio.gz:/vireo/demo/guest.cpio.gz",
                 f"{cache}:{PIXBUF_DIR}/loaders.cache",
                 "/usr/share/glib-2.0/schemas/gschemas.compiled:/usr/share/glib-2.0/schemas/gschemas.compiled",
                 "/usr/share/icons/Adwaita/index.theme:/usr/share/icons/Adwaita/index.theme",
                 "/usr/share/icons/hicolor/index.theme:/usr/share/icons/hicolor/index.theme"]
        files += [f"{os.path.join(a.schemas, 'gschemas.compiled')}:/vireo/schemas/gschemas.compiled"]
        files += tree("/usr/share/X11/xkb", "/usr/share/X11/xkb")
        files += tree("/usr/share/icons/Adwaita/scalable", "/usr/share/icons/Adwaita/scalable", "**/*-symbolic.svg")
        files += tree("/etc/fonts", "/etc/fonts")
        files += tree("/usr/lib/locale/C.utf8", "/usr/lib/locale/C.utf8")
        # gdk-pixbuf tells an SVG by its MIME type: the shared MIME database.
        files += tree("/usr/share/mime", "/usr/share/mime", "*")
        fonts = glob.glob("/usr/share/fonts/truetype/dejavu/DejaVuSans*.ttf")
        if not fonts:
            raise FixtureError("no DejaVu fonts (Debian package fonts-dejavu-core)")
        files += [f"{f}:{f}" for f in fonts]
        env = dict(GTK_ENV)
        env.update({"DISPLAY": ":1", "VIREOD": "/vireo/bin/vireod", "VIREO_WORKER": "/vireo/bin/vireo-worker",
                    "VIREO_DEMO_DIR": "/vireo/demo", "XDOTOOL": "/usr/bin/xdotool",
                    "CONSOLE_CLIENT": "/vireo/bin/vireo-console-client",
                    "VIREO_SCREENSHOT_DIR": "/vireo/out/screenshots", "GSETTINGS_SCHEMA_DIR": "/vireo/schemas",
                    "XDG_DATA_DIRS": "/usr/share", "VIREO_GUI_NEED_GUEST": "1", "VIREO_GUI_EXPECT_EMULATED": "0",
                    "VIREO_GUI_TIMEOUT_S": str(a.step_timeout), "VIREO_GUI_HOME": L1_GUI_HOME})
        sanitizer_env(env)
        test = "/vireo/bin/" + os.path.basename(a.test)
        job = "\n".join(
            ["#!/bin/sh", "export HOME=/root PATH=/vireo/bin:/usr/bin:/bin:/sbin"] +
            [f"export {k}={shlex.quote(v)}" for k, v in sorted(env.items())] +
            ["mkdir -p /etc /run/user/0 /tmp/.X11-unix /var/lib/xkb /var/cache/fontconfig && chmod 700 /run/user/0",
             "chmod 1777 /tmp/.X11-unix",
             "[ -s /etc/machine-id ] || echo 0123456789abcdef0123456789abcdef > /etc/machine-id",
             "echo 'root:x:0:0:root:/root:/bin/sh' > /etc/passwd",
             f"/usr/bin/Xvfb :1 -screen 0 {SCREEN} -nolisten tcp -noreset > /tmp/xvfb.log 2>&1 &",
             "i=0; while [ ! -S /tmp/.X11-unix/X1 ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done",
             "[ -S /tmp/.X11-unix/X1 ] || { echo 'run-gui: Xvfb did not start:'; cat /tmp/xvfb.log; exit 125; }",
             f"{shlex.quote(test)} " + " ".join(shlex.quote(x) for x in rest),
             "rc=$?", "[ $rc = 0 ] || tail -20 /tmp/xvfb.log"] +
            worker_logs_on_failure_sh(f"{L1_GUI_HOME}/run/vireo/*/worker.log") + ["exit $rc"]) + "\n"
        carry = nh.expand_carry(exes, files)
        initrd = nh.build_l1_initramfs(demo, carry, job)
        try:
            res = nh.run_l1(demo, initrd, a.timeout, log=a.log, cpus=a.l1_cpus, outdir=os.path.dirname(a.shots),
                            on_line=watch.on_line)
        finally:
            os.unlink(initrd)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    say(nh.describe(res))
    for f in res.out_files:
        say(f"came back: {f}")
    if res.timed_out:
        return 124
    if res.l1_crashed:
        say(res.crash_report())
        return L1_CRASHED
    if res.job_rc is None:
        say("L1 ended without the test's exit status")
        return 125
    return watch.verdict(res.job_rc)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--test", required=True)
    ap.add_argument("--vireod", required=True)
    ap.add_argument("--console-client", required=True, help="tests/console's vireo-console-client")
    ap.add_argument("--shots", required=True, help="screenshots go here (a folder named screenshots)")
    ap.add_argument("--schemas", help="the folder with the manager's compiled settings schema")
    ap.add_argument("--where", choices=["here", "guest"], default="here")
    ap.add_argument("--worker")
    ap.add_argument("--fixtures")
    ap.add_argument("--path", choices=["auto", "direct", "nested"], default="auto")
    ap.add_argument("--timeout", type=float, default=1500)
    ap.add_argument("--step-timeout", type=int, default=240)
    ap.add_argument("--l1-cpus", type=int, default=2)
    ap.add_argument("--log")
    ap.add_argument("rest", nargs="*")
    a = ap.parse_args()
    a.test, a.vireod = os.path.abspath(a.test), os.path.abspath(a.vireod)
    a.console_client = os.path.abspath(a.console_client)
    a.shots = os.path.abspath(a.shots)
    if os.path.basename(a.shots) != "screenshots":
        raise FixtureError("--shots must name a folder called screenshots (the nested host sends it back by that name)")
    os.makedirs(a.shots, exist_ok=True)
    if a.where == "here":
        return run_here(a, a.rest)
    if not a.worker or not a.fixtures:
        raise FixtureError("--where guest needs --worker and --fixtures")
    a.worker = os.path.abspath(a.worker)
    subprocess.run([sys.executable, os.path.join(GUEST, "build-fixtures.py"), a.fixtures], check=True)
    path, why = choose_kvm_path(a.path)
    if path == "direct":
        say(f"on /dev/kvm directly ({why})")
        return run_here(a, a.rest)
    return run_nested(a, a.rest, why)


if __name__ == "__main__":
    run_main(P, main, 125)
