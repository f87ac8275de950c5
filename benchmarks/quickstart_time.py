# SPDX-License-Identifier: MIT
"""How long does ``examples/quickstart.py`` take? (budget: under a minute)

The quick start fits ``DepthSearchClassifier(max_depth=20)`` on the paper's
spirals and prints the posterior over depth, the selected depth and the test
accuracies. This runs it with ``runpy`` in this process after
``sklearn_depth`` is imported (what the slow test that used to assert the
budget measured), its output captured and checked for the posterior and the
selected depth, and also as a user does, ``python examples/quickstart.py`` in
a fresh process (interpreter start and imports included). torch keeps its
default number of threads, as for a user, unless ``--threads`` is given (on a
busy 2-core machine two threads per process can make a fit many times
slower); figures go to matplotlib's non-interactive Agg backend. Prints the
median seconds of each against the 60 s budget.

    python benchmarks/quickstart_time.py [--repeats 3] [--threads N] [--quick]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import runpy
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

import sklearn_depth  # noqa: F401  (imported before the clock, as in the test)

# Figures, if the example draws any, go nowhere: no window waits for a click.
os.environ.setdefault("MPLBACKEND", "Agg")
QUICKSTART = Path(__file__).resolve().parents[1] / "examples" / "quickstart.py"
BUDGET = 60.0


def in_process():
    """Seconds of ``runpy.run_path`` on the quick start, and its output."""
    out = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out):
        try:
            runpy.run_path(str(QUICKSTART), run_name="__main__")
        except SystemExit as exc:  # a script may end early with sys.exit()
            if exc.code not in (None, 0):
                raise
    return time.perf_counter() - start, out.getvalue()


def fresh_process():
    """Seconds of ``python examples/quickstart.py`` in a new interpreter."""
    start = time.perf_counter()
    subprocess.run([sys.executable, str(QUICKSTART)], check=True, capture_output=True)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--threads", type=int, default=None, help="torch threads (default: torch's)"
    )
    parser.add_argument("--quick", action="store_true", help="one repeat")
    args = parser.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
        os.environ["OMP_NUM_THREADS"] = str(args.threads)  # the fresh process
    repeats = 1 if args.quick else args.repeats
    times, fresh = [], []
    for _ in range(repeats):
        seconds, out = in_process()
        if "posterior over depth" not in out or "selected depth" not in out:
            raise RuntimeError(f"unexpected quick start output:\n{out}")
        times.append(seconds)
        fresh.append(fresh_process())
    print(
        f"{QUICKSTART.name}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} thread(s), median of {repeats}, "
        f"budget {BUDGET:.0f} s"
    )
    for label, values in [
        ("in this process (sklearn_depth imported)", times),
        ("fresh process (imports included)", fresh),
    ]:
        median = float(np.median(values))
        print(
            f"{label:42s} {median:6.1f} s  / budget {median / BUDGET:5.2f}  "
            + ("within" if median < BUDGET else "OVER")
        )


if __name__ == "__main__":
    main()
