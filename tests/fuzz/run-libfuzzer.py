#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""run-libfuzzer.py TARGET WORKDIR SECONDS [SEED_DIR...]: a short real fuzzing run.

New inputs go to WORKDIR (in the build folder), seeds are only read; a crash
fails the run and leaves its input in WORKDIR, named in the output.
"""
import os
import subprocess
import sys

target, work, seconds, *seeds = sys.argv[1:]
os.makedirs(work, exist_ok=True)
# libFuzzer's own exit status for a crash is 77, which meson takes for "skipped".
cmd = [target, f"-max_total_time={seconds}", "-rss_limit_mb=4096", "-error_exitcode=1", "-timeout_exitcode=1",
       f"-artifact_prefix={work}/", work]
cmd += [d for d in seeds if os.path.isdir(d)]
print("running:", " ".join(cmd), flush=True)
sys.exit(subprocess.call(cmd))
