"""Benchmark: reading the service's time, and how far behind the service it is on the 60x demo clock.

Figures printed:
- ``servicetime.now(client)`` per call, next to the baseline measured in the same process: one bare
  ``ListInferenceSchedulers`` call through the same endpoint (the probe ``now()`` makes), as a ratio;
- the lag on a 60x clock: the endpoint's own clock read right after ``now()`` returned, minus what ``now()``
  returned (service seconds): what the wizard shows is at most this far behind the service. Goal: a few service
  seconds (one round trip at 60x), far below one upload period (PT5M = 300 s).

Run: ``python benchmarks/bench_servicetime.py``
"""

from __future__ import annotations

import statistics

from lookout_nb.contract import servicetime
from lookout_nb.service import start
from timer import best

CALLS = 200


def main() -> None:
    with start(port=0, clock="real", speed=60, demo=True) as ep:
        client = ep.lookout()
        servicetime.now(client)  # warm the connection and the service model
        bare, _ = best(lambda: [client.list_inference_schedulers(MaxResults=1) for _ in range(CALLS)], 3)
        timed, _ = best(lambda: [servicetime.now(client) for _ in range(CALLS)], 3)
        lags = []
        for _ in range(CALLS):
            shown = servicetime.now(client)
            lags.append((ep.clock.now() - shown).total_seconds())
    print(f"servicetime.now(): {timed / CALLS * 1e3:.2f} ms per call; bare ListInferenceSchedulers "
          f"{bare / CALLS * 1e3:.2f} ms; ratio {timed / bare:.2f}x")
    print(f"lag at 60x (service seconds behind the endpoint's clock): median {statistics.median(lags):.2f}, "
          f"max {max(lags):.2f} (one PT5M period is 300)")


if __name__ == "__main__":
    main()
