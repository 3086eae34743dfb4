"""A synthetic machine for training: a pump and its motor whose eight sensors move together, with labelled faults.

:func:`generate` builds, from a seed, the 1-minute (or any ``rate``) history of a centrifugal pump driven by a
motor. An operator changes the speed set-point every few hours and opens or closes a valve; now and then the
machine is stopped for a few hours (speed ~0; the :data:`OFF_CONDITION` is ``hx-pump\\Speed < 100``). The sensors
follow physical-ish laws of those two hidden inputs, plus noise:

- ``hx-pump``: ``Speed`` (rpm), ``Flow`` (m3/h, ~ speed x valve), ``Pressure`` (bar, ~ speed^2, falls as the valve
  opens), ``Vibration`` (mm/s, ~ speed^2);
- ``motor``: ``Power`` (kW, flow x pressure / efficiency), ``Current`` (A, from the power and a magnetising
  part), ``WindingTemperature`` (ambient + current^2 heating, 25-minute lag), ``BearingTemperature`` (ambient
  + speed heating, 40-minute lag); the ambient temperature is hidden and has a daily cycle.

Faults (:data:`FAULT_KINDS`) break a relation while every sensor stays inside its normal running range (faulty
values are clipped to the range the same sensor covers while running normally):

- ``flow_loss``: Flow falls by 12% for the same speed and valve;
- ``current_rise``: Current rises by 10% for the same load (the winding heats accordingly);
- ``frozen``: Pressure keeps the value it had when the fault began while the others move;
- ``drift``: Vibration creeps up for the same speed, by up to a quarter of its running range at the fault's end;
- ``lag``: Power reports what it measured 45 minutes earlier (a buffering data logger).

>>> m = generate(days=2, seed=1, faults=[("frozen", "2026-01-02T06:00Z", "6h")])
>>> sorted(m.frames), m.frames["motor"].shape, m.labels[0].kind, m.labels[0].sensor
(['hx-pump', 'motor'], (2880, 4), 'frozen', 'hx-pump\\\\Pressure')
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pandas as pd

from ...contract.request import parse_duration

COMPONENTS = {
    "hx-pump": ["Speed", "Flow", "Pressure", "Vibration"],
    "motor": ["Power", "Current", "WindingTemperature", "BearingTemperature"],
}
OFF_CONDITION = "hx-pump\\Speed < 100"
#: The fault kinds, the sensor each one breaks by default, and what it does.
FAULT_KINDS = {
    "flow_loss": ("hx-pump\\Flow", "Flow falls by 12% for the same speed and valve"),
    "current_rise": ("motor\\Current", "Current rises by 10% for the same load"),
    "frozen": ("hx-pump\\Pressure", "the sensor keeps its value while the others move"),
    "drift": ("hx-pump\\Vibration", "Vibration creeps up for the same speed, by a quarter of its range at the end"),
    "lag": ("motor\\Power", "the sensor reports what it measured 45 minutes earlier"),
}
DEFAULT_START = pd.Timestamp("2026-01-01T00:00:00Z")

NOMINAL_SPEED = 1480.0
_NOISE = {  # measurement noise (standard deviation) of each sensor
    "Speed": 3.0, "Flow": 2.0, "Pressure": 0.04, "Vibration": 0.08,
    "Power": 0.5, "Current": 0.6, "WindingTemperature": 0.15, "BearingTemperature": 0.1,
}
_DECIMALS = 3
_LAG = pd.Timedelta(minutes=45)


class Label(NamedTuple):
    """One injected fault: the rows in ``[start, end)`` UTC are faulty; ``sensor`` is the one it breaks."""

    start: pd.Timestamp
    end: pd.Timestamp
    kind: str
    sensor: str


@dataclass
class Machine:
    """Generated data: one DataFrame per component (UTC index, one column per sensor) and the injected faults."""

    frames: dict[str, pd.DataFrame]
    labels: list[Label] = field(default_factory=list)
    off_condition: str = OFF_CONDITION

    @property
    def schema(self) -> dict[str, list[str]]:
        """``{component: [sensors]}``."""
        return {c: list(f.columns) for c, f in self.frames.items()}

    def wide(self) -> pd.DataFrame:
        """All sensors side by side, columns named ``component\\sensor``."""
        return pd.concat([f.add_prefix(f"{c}\\") for c, f in self.frames.items()], axis=1)

    def write_csv(self, folder, labels_file: str | None = "labels.csv") -> list[str]:
        """Write ``folder/<component>/<component>.csv`` (header ``Timestamp,<sensors>``, ISO UTC rows) and the
        labels as the service reads them (no header, ``start,end`` per row); returns the paths written."""
        paths = []
        for component, frame in self.frames.items():
            os.makedirs(os.path.join(folder, component), exist_ok=True)
            path = os.path.join(folder, component, f"{component}.csv")
            out = frame.copy()
            out.index = _iso(out.index)
            out.to_csv(path, index_label="Timestamp")
            paths.append(path)
        if labels_file and self.labels:
            path = os.path.join(folder, labels_file)
            rows = pd.DataFrame({"start": _iso([lb.start for lb in self.labels]),
                                 "end": _iso([lb.end for lb in self.labels])})
            rows.to_csv(path, header=False, index=False)
            paths.append(path)
        return paths


def _iso(times) -> list[str]:
    return list(pd.DatetimeIndex(times).tz_convert("UTC").tz_localize(None).strftime("%Y-%m-%dT%H:%M:%S.%f"))


# -- the hidden operation ----------------------------------------------------------------------------------------
def _segments(rng, n: int, step_min: float, mean_min: float, lo_min: float, hi_min: float) -> list[tuple[int, int]]:
    """Consecutive ``(first row, end row)`` pieces of random length covering ``n`` rows."""
    pieces, i = [], 0
    while i < n:
        length = max(1, int(np.rint(np.clip(rng.exponential(mean_min), lo_min, hi_min) / step_min)))
        pieces.append((i, min(n, i + length)))
        i += length
    return pieces


def _lagged(x: np.ndarray, tau_rows: float) -> np.ndarray:
    """First-order lag of ``x`` with time constant ``tau_rows`` rows (starting settled at ``x[0]``)."""
    a = 1.0 - np.exp(-1.0 / max(tau_rows, 1e-9))
    out = np.empty_like(x)
    acc = float(x[0])
    for i, v in enumerate(x.tolist()):
        acc += a * (v - acc)
        out[i] = acc
    return out


def _operation(rng, n: int, step_min: float, off_periods: bool):
    """Speed set-point (fraction of nominal, 0 when stopped) and valve opening per row."""
    setpoint = np.empty(n)
    for k, (i, j) in enumerate(_segments(rng, n, step_min, 180.0, 40.0, 480.0)):
        stopped = off_periods and k > 0 and rng.random() < 0.07
        setpoint[i:j] = 0.0 if stopped else rng.uniform(0.72, 1.0)
        if stopped:  # stops last 2-10 hours
            setpoint[i : min(n, i + int(rng.uniform(120.0, 600.0) / step_min))] = 0.0
    valve = np.empty(n)
    for i, j in _segments(rng, n, step_min, 420.0, 60.0, 900.0):
        valve[i:j] = rng.uniform(0.55, 1.0)
    return setpoint, valve


def _ambient(rng, times: pd.DatetimeIndex, step_min: float) -> np.ndarray:
    """Hidden ambient temperature: a daily cycle plus slow weather."""
    hours = (times.hour + times.minute / 60.0).to_numpy(dtype=float)
    tau = 2 * 1440.0 / step_min  # weather changes over days and stays within a few degrees of the season
    kicks = rng.normal(0.0, 2.5 * np.sqrt(2.0 * tau), len(times))
    kicks[0] = 0.0
    weather = _lagged(kicks, tau)
    return 17.0 + 5.0 * np.sin(2 * np.pi * (hours - 9.0) / 24.0) + weather


# -- sensors -------------------------------------------------------------------------------------------------------
def _physics(speed_frac, valve, ambient, step_min, current_gain=None):
    """The true value of every sensor from the hidden state (no measurement noise)."""
    u = np.clip(speed_frac, 0.0, None)
    running = np.clip(u / 0.2, 0.0, 1.0)
    flow = 420.0 * u * (0.45 + 0.55 * valve)
    pressure = 0.4 + 7.5 * u**2 * (1.15 - 0.45 * valve)
    power = flow * pressure / 36.0 / 0.74 + 4.0 * running
    current = np.sqrt((38.0 * running) ** 2 + (1.68 * power) ** 2)
    if current_gain is not None:
        current = current * current_gain
    winding = ambient + _lagged(55.0 * (current / 160.0) ** 2, 25.0 / step_min)
    bearing = ambient + _lagged(22.0 * u**1.5, 40.0 / step_min)
    vibration = 0.6 + 2.2 * u**2 + 0.9 * (valve - 0.8) ** 2 * u**2
    return {
        "hx-pump": {"Speed": NOMINAL_SPEED * u, "Flow": flow, "Pressure": pressure, "Vibration": vibration},
        "motor": {"Power": power, "Current": current, "WindingTemperature": winding, "BearingTemperature": bearing},
    }


def _measured(rng, true: dict) -> dict:
    """True values plus measurement noise; sensors that cannot be negative read the noise's magnitude near 0."""
    out: dict[str, dict[str, np.ndarray]] = {}
    for component, sensors in true.items():
        out[component] = {}
        for sensor, values in sensors.items():
            noisy = values + rng.normal(0.0, _NOISE[sensor], len(values))
            if sensor in ("Speed", "Flow", "Power", "Current", "Vibration"):
                noisy = np.abs(noisy)
            out[component][sensor] = noisy
    return out


def _duration(value) -> pd.Timedelta:
    """An ISO 8601 duration (``PT1M``) or anything :class:`pandas.Timedelta` reads (``"6h"``)."""
    return parse_duration(value) if isinstance(value, str) and value.startswith("P") else pd.Timedelta(value)


def _fault_specs(faults) -> list[Label]:
    labels = []
    for i, spec in enumerate(faults):
        if isinstance(spec, Label):
            spec = (spec.kind, spec.start, spec.end - spec.start, spec.sensor)
        if not isinstance(spec, (tuple, list)) or len(spec) not in (3, 4):
            raise ValueError(f"faults[{i}]: expected (kind, start, duration[, 'component\\\\sensor']), got {spec!r}")
        kind, begin, duration = spec[:3]
        if kind not in FAULT_KINDS:
            raise ValueError(f"faults[{i}]: unknown fault kind {kind!r}; choose from {', '.join(FAULT_KINDS)}")
        sensor = spec[3] if len(spec) == 4 and spec[3] else FAULT_KINDS[kind][0]
        begin = pd.Timestamp(begin)
        begin = begin.tz_localize("UTC") if begin.tzinfo is None else begin.tz_convert("UTC")
        length = _duration(duration)
        if length <= pd.Timedelta(0):
            raise ValueError(f"faults[{i}]: the duration must be positive, got {duration!r}")
        labels.append(Label(begin, begin + length, kind, sensor))
    return labels


def _inject(times, measured, hidden, labels, step_min):
    """Apply the faults to the measured values, clipped to each sensor's normal running range."""
    running = hidden["speed"] > 0.2
    ranges = {c: {s: (v[running].min(), v[running].max()) if running.any() else (v.min(), v.max())
                  for s, v in sensors.items()} for c, sensors in measured.items()}
    for label in labels:
        component, _, sensor = label.sensor.partition("\\")
        if component not in measured or sensor not in measured[component]:
            raise ValueError(f"fault {label.kind}: no sensor {label.sensor!r}; choose one of "
                             + ", ".join(f"{c}\\{s}" for c, ss in measured.items() for s in ss))
        rows = np.flatnonzero((times >= label.start) & (times < label.end))
        if not len(rows):
            continue
        i, j = rows[0], rows[-1] + 1
        values = measured[component][sensor]
        ramp = np.linspace(0.0, 1.0, j - i)
        onset = np.clip(np.arange(j - i) * step_min / 30.0, 0.0, 1.0)  # faults set in over 30 minutes
        if label.kind == "flow_loss":
            faulty = values[i:j] * (1.0 - 0.12 * onset)
        elif label.kind == "current_rise" and label.sensor == "motor\\Current":
            gain = np.ones(len(times))  # the extra current heats the winding too
            gain[i:j] = 1.0 + 0.10 * onset
            redone = _physics(hidden["speed"], hidden["valve"], hidden["ambient"], step_min, current_gain=gain)["motor"]
            for name in ("Current", "WindingTemperature"):
                measured["motor"][name] += redone[name] - hidden["true"]["motor"][name]
            faulty = values[i:j]
        elif label.kind == "current_rise":
            faulty = values[i:j] * (1.0 + 0.10 * onset)
        elif label.kind == "frozen":
            faulty = np.full(j - i, values[i])
        elif label.kind == "drift":
            faulty = values[i:j] + 0.25 * ramp * np.ptp(ranges[component][sensor])
        else:  # lag
            shift = max(1, round(_LAG / pd.Timedelta(minutes=step_min)))
            source = np.arange(i, j) - shift
            faulty = np.where(source >= 0, values[np.clip(source, 0, None)], values[i:j])
        lo, hi = ranges[component][sensor]
        values[i:j] = np.clip(faulty, lo, hi)


def generate(days: float = 7, *, start=DEFAULT_START, rate="PT1M", seed: int = 0, faults: Iterable = (),
             off_periods: bool = True) -> Machine:
    """``days`` of the machine's sensors every ``rate`` (ISO 8601 like ``PT1M`` or a pandas Timedelta) from
    ``start`` (UTC), the same for the same arguments.

    ``faults`` are ``(kind, start, duration)`` or ``(kind, start, duration, "component\\\\sensor")`` with ``kind``
    one of :data:`FAULT_KINDS`; durations are ISO 8601 (``PT6H``) or pandas (``"6h"``). ``off_periods=False``
    keeps the machine running throughout.

    >>> generate(days=1, rate="PT5M", seed=3).frames["hx-pump"].index[:2].tolist()
    [Timestamp('2026-01-01 00:00:00+0000', tz='UTC'), Timestamp('2026-01-01 00:05:00+0000', tz='UTC')]
    """
    step = _duration(rate)
    if step <= pd.Timedelta(0):
        raise ValueError(f"rate must be a positive duration such as 'PT1M', got {rate!r}")
    start = pd.Timestamp(start)
    start = start.tz_localize("UTC") if start.tzinfo is None else start.tz_convert("UTC")
    n = int(pd.Timedelta(days=days) / step)
    if n < 2:
        raise ValueError(f"days={days} at rate {rate} gives {n} row(s); ask for at least two rows")
    step_min = step / pd.Timedelta(minutes=1)
    times = pd.date_range(start, periods=n, freq=step)
    rng = np.random.default_rng(seed)
    setpoint, valve = _operation(rng, n, step_min, off_periods)
    speed = _lagged(setpoint, 2.0 / step_min)
    ambient = _ambient(rng, times, step_min)
    true = _physics(speed, valve, ambient, step_min)
    measured = _measured(rng, true)
    labels = _fault_specs(faults)
    hidden = {"speed": speed, "valve": valve, "ambient": ambient, "true": true}
    _inject(times, measured, hidden, labels, step_min)
    frames = {
        c: pd.DataFrame({s: np.round(v, _DECIMALS) for s, v in sensors.items()}, index=times)
        for c, sensors in measured.items()
    }
    for frame in frames.values():
        frame.index.name = "Timestamp"
    return Machine(frames, labels)


def spread_faults(kinds: Iterable[str], start, end, duration="12h") -> list[tuple]:
    """One fault of each kind, evenly spaced over ``[start, end)`` (each in the middle of its share of the time).

    >>> [f[1].isoformat() for f in spread_faults(["frozen", "lag"], "2026-01-10T00:00Z", "2026-01-14T00:00Z")]
    ['2026-01-10T18:00:00+00:00', '2026-01-12T18:00:00+00:00']
    """
    kinds = list(kinds)
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    length = pd.Timedelta(duration)
    share = (end - start) / max(len(kinds), 1)
    return [(kind, start + share * i + (share - length) / 2, length) for i, kind in enumerate(kinds)]
