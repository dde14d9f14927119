#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""vireo-worker's refusals: each bad input gets a non-zero exit and a message
naming the file or value and the cause. The host cases (no /dev/kvm, no
permission, PVM) are staged in private mount namespaces, so they run on any
host; that needs root (unshare, setpriv), and without it they FAIL loudly.

    test-worker-cli.py WORKER
"""
import os
import subprocess
import sys
import tempfile
import unittest

WORKER = None


def run(args, prefix=(), env=None):
    p = subprocess.run(list(prefix) + [WORKER] + args, capture_output=True, text=True, timeout=30, env=env,
                       stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout + p.stderr


def in_namespace(script):
    """Runs `sh -c script` (which ends by running the worker as "$W") in a new mount namespace."""
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh"]


class Files(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        d = cls.tmp.name
        cls.empty = os.path.join(d, "empty")
        open(cls.empty, "w").close()
        cls.junk = os.path.join(d, "junk")
        with open(cls.junk, "wb") as f:
            f.write(b"MZ" + b"\0" * 4096)
        # Smallest thing that passes the format check: the bzImage magic.
        cls.kernel = os.path.join(d, "bzImage")
        with open(cls.kernel, "wb") as f:
            img = bytearray(0x400)
            img[0x202:0x206] = b"HdrS"
            f.write(img)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def refuse(self, args, status, *needles):
        rc, out = run(args)
        self.assertEqual(rc, status, out)
        for n in needles:
            self.assertIn(n, out)

    def test_usage(self):
        self.refuse([], 2, "--kernel is required")
        self.refuse(["--kernel", self.kernel, "stray"], 2, 'unexpected argument "stray"')
        self.refuse(["--kernel", self.kernel, "--on-reboot", "maybe"], 2, "--on-reboot")

    def test_missing_kernel_and_initrd(self):
        missing = os.path.join(self.tmp.name, "no-such-vmlinuz")
        self.refuse(["--kernel", missing], 1, missing, "no such file")
        self.refuse(["--kernel", self.kernel, "--initrd", missing], 1, "initrd " + missing, "no such file")
        self.refuse(["--kernel", self.empty], 1, self.empty, "empty")
        self.refuse(["--kernel", self.tmp.name], 1, self.tmp.name)
        self.refuse(["--kernel", self.junk], 1, self.junk, "neither a bzImage nor an ELF")

    def test_unreadable_kernel(self):
        if os.geteuid() != 0:
            self.fail("needs root to drop to another user (setpriv); run the suite as root")
        secret = os.path.join(self.tmp.name, "secret")
        with open(secret, "wb") as f:
            f.write(b"x" * 1024)
        os.chmod(secret, 0o600)
        os.chmod(self.tmp.name, 0o755)
        rc, out = run(["--kernel", secret], prefix=["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"])
        self.assertEqual(rc, 1, out)
        self.assertIn(secret, out)
        self.assertIn("Permission denied", out)

    def test_sizes(self):
        self.refuse(["--kernel", self.kernel, "--memory", "64M"], 1, "at least 128 MiB")
        self.refuse(["--kernel", self.kernel, "--memory", "129M"], 1, "multiple of 2 MiB")
        self.refuse(["--kernel", self.kernel, "--memory", "100T"], 1, "cannot give the guest", "this host has")
        self.refuse(["--kernel", self.kernel, "--memory", "lots"], 2, '"lots" is not a size')
        self.refuse(["--kernel", self.kernel, "--memory", "99999999999999999999G"], 2, "is not a size")
        self.refuse(["--kernel", self.kernel, "--cpus", "0"], 1, "--cpus 0")
        self.refuse(["--kernel", self.kernel, "--cpus", "256"], 1, "between 1 and 255")


class Restore(unittest.TestCase):
    """--restore DIR: a saved state that is not there, not one, or of another configuration is refused
    before anything starts, naming the file and what is wrong. SAVED is a real one (the save scenario's:
    512 MiB, 2 vCPUs, Hyper-V, 1024x768, 16 MiB of VRAM), kept as a fuzzing seed."""
    SAVED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fuzz", "corpus", "saved-state",
                         "guest-save-state")

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = os.path.join(self.tmp.name, "saved")
        os.mkdir(self.dir)

    def tearDown(self):
        self.tmp.cleanup()

    def state(self, data):
        with open(os.path.join(self.dir, "state"), "wb") as f:
            f.write(data)

    def refuse(self, args, *needles):
        rc, out = run(["--restore", self.dir] + args)
        self.assertEqual(rc, 1, out)
        for n in needles:
            self.assertIn(n, out)

    def test_not_saved(self):
        self.refuse([], os.path.join(self.dir, "state"), "no such file")
        self.state(b"")
        self.refuse([], "the file is empty")
        self.state(b"vireo-saved-state\0" + b"\x07" * 300)
        self.refuse([], os.path.join(self.dir, "state"), "not a Vireo saved state")

    def test_other_configuration(self):
        with open(self.SAVED, "rb") as f:
            self.state(f.read())
        state = os.path.join(self.dir, "state")
        self.refuse(["--memory", "1G", "--cpus", "2"], state, "saved with --memory 512M, not 1024M")
        self.refuse(["--memory", "512M", "--cpus", "1"], state, "saved with --cpus 2, not 1")
        self.refuse(["--memory", "512M", "--cpus", "2", "--hv-interface", "kvm"], state,
                    "saved with --hv-interface hyperv, not kvm")
        self.refuse(["--memory", "512M", "--cpus", "2", "--resolution", "1280x720"], state,
                    "saved with --resolution 1024x768, not 1280x720")
        self.refuse(["--memory", "512M", "--cpus", "2", "--video-memory", "32"], state,
                    "saved with --video-memory 16, not 32")
        # The same configuration passes the state file's checks (no --kernel needed): what stops
        # it next is this host, or, where the host runs guests, the missing RAM file.
        rc, out = run(["--restore", self.dir, "--memory", "512M", "--cpus", "2"])
        self.assertEqual(rc, 1, out)
        self.assertNotIn(state, out)


class Host(unittest.TestCase):
    """The host check, staged: /dev and /sys/module are replaced inside a private mount namespace."""

    def setUp(self):
        if os.geteuid() != 0:
            self.fail("the host cases stage /dev/kvm in a mount namespace and need root; run the suite as root")
        self.tmp = tempfile.TemporaryDirectory()
        self.kernel = os.path.join(self.tmp.name, "bzImage")
        with open(self.kernel, "wb") as f:
            img = bytearray(0x400)
            img[0x202:0x206] = b"HdrS"
            f.write(img)
        os.chmod(self.tmp.name, 0o755)
        os.chmod(self.kernel, 0o644)

    def tearDown(self):
        self.tmp.cleanup()

    def staged(self, setup, user=None):
        run_worker = f'"$W" --kernel {self.kernel}'
        if user:
            run_worker = f"setpriv --reuid={user} --regid={user} --clear-groups " + run_worker
        script = f"set -e; {setup}; {run_worker}"
        env = dict(os.environ, W=WORKER)
        p = subprocess.run(in_namespace(script), capture_output=True, text=True, timeout=30, env=env,
                           stdin=subprocess.DEVNULL)
        return p.returncode, p.stdout + p.stderr

    def test_no_dev_kvm(self):
        rc, out = self.staged("mount -t tmpfs none /dev")
        self.assertEqual(rc, 1, out)
        self.assertIn("/dev/kvm does not exist", out)

    def test_not_permitted(self):
        # A char device like /dev/kvm that only root may open; no PVM module visible.
        rc, out = self.staged("mount -t tmpfs none /sys/module; mount -t tmpfs none /dev; "
                              "mknod -m 600 /dev/kvm c 10 232", user=65534)
        self.assertEqual(rc, 1, out)
        self.assertIn("cannot open /dev/kvm", out)
        self.assertIn("kvm group", out)

    def test_pvm(self):
        rc, out = self.staged("mount -t tmpfs none /sys/module; mkdir /sys/module/kvm_pvm; "
                              "mount -t tmpfs none /dev; touch /dev/kvm")
        self.assertEqual(rc, 1, out)
        self.assertIn("PVM", out)
        self.assertIn("cannot run stock kernels", out)
        self.assertIn("vireo-emuhost", out)

    def test_not_kvm(self):
        rc, out = self.staged("mount -t tmpfs none /sys/module; mount -t tmpfs none /dev; "
                              "mknod -m 666 /dev/kvm c 1 3")    # /dev/null where /dev/kvm should be
        self.assertEqual(rc, 1, out)
        self.assertIn("KVM API", out)


if __name__ == "__main__":
    WORKER = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
