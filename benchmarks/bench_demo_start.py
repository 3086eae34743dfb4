"""Benchmark: what training the demo model through the API adds to an endpoint's start.

``start(demo=True)`` writes the demo files, ingests the training CSVs and trains ``pump-demo`` before it answers;
``start(demo=False)`` is the bare endpoint. Printed: the first start of the process (imports, service models) and
the best of the later ones, each side; then the trained demo with a state_dir started again (kept, not retrained).

    python benchmarks/bench_demo_start.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import tempfile

from lookout_nb.service import start
from timer import best


def once(**kwargs) -> None:
    start(port=0, clock="manual", **kwargs).stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    first, _ = best(lambda: once(demo=True), 1)
    bare, _ = best(lambda: once(demo=False), args.repeat)
    demo, _ = best(lambda: once(demo=True), args.repeat)
    print(f"first start of the process (demo): {first:.2f} s")
    print(f"later starts: bare {bare:.3f} s, with the demo trained through the API {demo:.3f} s "
          f"(+{demo - bare:.3f} s)")
    with tempfile.TemporaryDirectory() as folder:
        trained, _ = best(lambda: once(demo=True, state_dir=folder), 1)
        kept, _ = best(lambda: once(demo=True, state_dir=folder), args.repeat)
    print(f"with a state_dir: first start {trained:.3f} s (trains), restarts {kept:.3f} s (the model is kept)")


if __name__ == "__main__":
    main()
