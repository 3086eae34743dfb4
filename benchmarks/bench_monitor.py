"""Benchmark: one Monitor refresh of a scheduler with ~500 runs, before and after the time range (issue 25, item 6).

A refresh at a fast clock usually sees one new run and a moved "now". Measured here, against the embedded endpoint
in this process (so the CPU figure includes the endpoint answering, as in ``lookout-nb demo``):

- ``everything, no cache``: what every refresh did before: list all executions, read every result file again,
  draw the whole history (the baseline);
- ``last 6 hours``: the default range: list the runs of the range, read the new run's result file only, draw
  the range;
- ``nothing changed``: a refresh when the clock has not moved (nothing is read again or redrawn but the status).

Each figure is the median of ``--repeat`` refreshes (the clock moves one run before each, untimed).

    python benchmarks/bench_monitor.py [--runs 500] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import pandas as pd

from lookout_nb.service import start
from lookout_nb.service.demo import demo
from lookout_nb.wizard import Wizard
from lookout_nb.wizard.history import ResultsCache


def refresh_cost(wizard, endpoint, repeat: int, move: bool, fresh_cache: bool) -> tuple[float, float]:
    """Median (wall seconds, process CPU seconds) of one refresh."""
    monitor = wizard.monitor
    walls, cpus = [], []
    for _ in range(repeat):
        if move:
            endpoint.clock.advance(pd.Timedelta(minutes=5))
        if fresh_cache:  # the old behaviour: every result file read again
            monitor.results_cache = ResultsCache(monitor.results_cache._read)
        w0, c0 = time.perf_counter(), time.process_time()
        monitor.refresh()
        wizard.wait()
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    return statistics.median(walls), statistics.median(cpus)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    endpoint = start(port=0, clock="manual", demo=True)
    try:
        lookout, s3 = endpoint.lookout(), endpoint.s3()
        lookout.create_inference_scheduler(**demo.scheduler_kwargs("bench"), ClientToken="bench")
        for _ in range(0, args.runs, 200):  # the endpoint makes at most 288 runs per move of its clock
            endpoint.clock.advance(pd.Timedelta(minutes=5 * min(200, args.runs - _)))
        wizard = Wizard(client=lookout, s3=s3, now=endpoint.clock.now).wait()
        wizard.monitor.attach("bench", live=False)
        wizard.wait()
        figures = {}
        wizard.monitor.range.value = "all"
        wizard.wait()
        figures["everything, no cache"] = refresh_cost(wizard, endpoint, args.repeat, True, True)
        wizard.monitor.range.value = "6h"
        wizard.wait()
        figures["last 6 hours"] = refresh_cost(wizard, endpoint, args.repeat, True, False)
        figures["nothing changed"] = refresh_cost(wizard, endpoint, args.repeat, False, False)
        base_cpu = figures["everything, no cache"][1]
        print(f"Monitor refresh with {args.runs} to {args.runs + 2 * args.repeat} runs (median of {args.repeat}):")
        for label, (wall, cpu) in figures.items():
            print(f"  {label:22s} wall {wall * 1000:7.1f} ms  cpu {cpu * 1000:7.1f} ms  "
                  f"(x{base_cpu / cpu if cpu else float('inf'):.1f} less CPU than the baseline)")
        wizard.close()
    finally:
        endpoint.stop()


if __name__ == "__main__":
    main()
