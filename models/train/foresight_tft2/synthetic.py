"""Synthetic servers with the shapes the shipped model forecasts badly, for training and for
measuring them on held-out cases:

  onoff_daily     a daily square wave (batch jobs): ~0.5 % for hours, then 5-100 %
  onoff_weekly    the same on weekdays only, off at weekends
  cron            flat, with a spike every 1-24 h at a fixed minute
  level_shift     sustained steps of 20-50 points, held for hours to days
  ramp            steady climbs to saturation (leaks, filling disks), held 8 h - 2 days, then a reset
  flat_step       flat for days, then one step that stays
  seasonal        smooth daily + weekly waves with little noise (cluster aggregates)

Every server has all six metrics; the shape is on the metrics in SHAPE_METRICS, the others are
ordinary (noisy daily cycles, slow disk growth). Deterministic for a given seed. Host names are
`syn-<shape>-<n>`, so results can be grouped by shape.
"""
from __future__ import annotations

import math
from typing import Dict, List

import numpy as np

from foresight_tft.data import STEP, Host
from foresight_tft.spec import METRICS, PROFILES

SHAPES = ["onoff_daily", "onoff_weekly", "cron", "level_shift", "ramp", "flat_step", "seasonal"]
# the metrics that carry the shape (validation scores the shape on these)
SHAPE_METRICS: Dict[str, List[str]] = {
    "onoff_daily": ["cpu", "load", "network"],
    "onoff_weekly": ["cpu", "load", "network"],
    "cron": ["cpu", "iowait"],
    "level_shift": ["cpu", "memory"],
    "ramp": ["memory", "disk"],
    "flat_step": ["cpu", "memory"],
    "seasonal": ["cpu", "memory", "network"],
}
DAY = 288
START = 1_780_000_000 - (1_780_000_000 % 86400)  # a midnight UTC; the simulator's history ends at 1.79e9


# host name -> the level shifts and climbs made for it, for measuring them (validate.py):
# ("shift", metric, row, old level, new level, rows held) and ("ramp", metric, first row of the climb, row it reaches 100)
EVENTS: Dict[str, List[tuple]] = {}


def shape_of(host_name: str) -> str:
    """The shape of a synthetic host from its name (`syn-<shape>-<n>`), or "" for other hosts."""
    parts = host_name.split("-")
    return parts[1] if len(parts) == 3 and parts[0] == "syn" else ""


def _noise(rng: np.random.Generator, n: int, sd: float) -> np.ndarray:
    """AR(1) noise: real utilisation noise is correlated over a few steps."""
    e = rng.normal(0, sd, n)
    out = np.empty(n)
    acc = 0.0
    for i in range(n):
        acc = 0.6 * acc + e[i]
        out[i] = acc
    return out * math.sqrt(1 - 0.36)


def _daily(t: np.ndarray, phase: float) -> np.ndarray:
    return np.sin(2 * math.pi * (t / DAY + phase))


def _onoff(rng, t, days_on=None):
    """Square wave: low, then high during an on-window each day (optionally on some weekdays only)."""
    low = rng.uniform(0.2, 2.0)
    high = rng.choice([rng.uniform(5, 15), rng.uniform(30, 70), rng.uniform(85, 100)])
    start = rng.integers(0, DAY)
    length = rng.integers(2 * 12, 12 * 12)
    jitter = rng.integers(0, 3)
    pos = (t - start) % DAY
    on = pos < length
    if days_on is not None:
        weekday = ((t // DAY) + 4) % 7  # START is a midnight; +4: 1970-01-01 was a Thursday
        on &= np.isin(weekday, days_on)
    if jitter:
        on = np.roll(on, int(rng.integers(-jitter, jitter + 1)))
    return np.where(on, high, low), on


def _ordinary(rng, t, level, amp, sd):
    return level + amp * _daily(t, rng.uniform()) + _noise(rng, len(t), sd)


def make_host(shape: str, n: int, days: int, seed: int) -> Host:
    rng = np.random.default_rng([seed, SHAPES.index(shape), n])
    events: List[tuple] = []
    steps = days * DAY
    t = np.arange(steps) + (START // STEP)  # absolute 5-minute step numbers (for weekday and time of day)
    v: Dict[str, np.ndarray] = {}
    cpu_base = rng.uniform(5, 40)
    v["cpu"] = _ordinary(rng, t, cpu_base, cpu_base * rng.uniform(0.1, 0.5), rng.uniform(0.5, 3))
    v["memory"] = _ordinary(rng, t, rng.uniform(20, 70), rng.uniform(1, 8), rng.uniform(0.2, 1))
    v["disk"] = rng.uniform(10, 60) + np.cumsum(rng.normal(rng.uniform(0, 0.004), 0.01, steps))
    v["iowait"] = np.abs(_ordinary(rng, t, rng.uniform(0.2, 3), 0.5, 0.3))
    if shape in ("onoff_daily", "onoff_weekly"):
        wave, on = _onoff(rng, t, None if shape == "onoff_daily" else [0, 1, 2, 3, 4])
        v["cpu"] = wave * rng.uniform(0.97, 1.0) + np.where(on, _noise(rng, steps, 0.02 * wave.max()), _noise(rng, steps, 0.1))
        if rng.uniform() < 0.5:  # memory follows the job on half of them
            v["memory"] = v["memory"] + np.where(on, rng.uniform(10, 30), 0.0)
    elif shape == "cron":
        period = int(rng.choice([12, 24, 48, 72, 144, 288]))
        offset = int(rng.integers(0, period))
        width = int(rng.integers(1, 4))
        height = rng.uniform(20, 90)
        spike = ((t - offset) % period) < width
        base = rng.uniform(0.5, 8)
        v["cpu"] = base + _noise(rng, steps, 0.3) + np.where(spike, height * rng.uniform(0.85, 1.0, steps), 0.0)
        v["iowait"] = np.abs(_noise(rng, steps, 0.2)) + 0.5 + np.where(spike, height * 0.2, 0.0)
    elif shape == "level_shift":
        for m in ("cpu", "memory"):
            level = previous = rng.uniform(10, 60)
            series = np.empty(steps)
            i = 0
            while i < steps:
                hold = int(rng.integers(6 * 12, 3 * DAY))
                series[i : i + hold] = level
                if i > 0:
                    events.append(("shift", m, i, previous, level, min(hold, steps - i)))
                i += hold
                delta = rng.uniform(20, 50) * rng.choice([-1, 1])
                if not 2 <= level + delta <= 98:
                    delta = -delta
                previous, level = level, float(np.clip(level + delta, 2, 98))
            v[m] = series + _noise(rng, steps, rng.uniform(0.3, 2)) + rng.uniform(0, 4) * _daily(t, rng.uniform())
    elif shape == "ramp":
        for m in ("memory", "disk"):
            series = np.empty(steps)
            i = 0
            while i < steps:
                flat = int(rng.integers(12, 2 * DAY))
                base = rng.uniform(10, 60)
                climb = int(rng.integers(2 * 12, 24 * 12))  # 2-24 h to reach 100 %
                hold = int(rng.integers(8 * 12, 2 * DAY))  # a full disk or a leaked heap stays there for hours (8 h - 2 days)
                seg = np.concatenate([np.full(flat, base), np.linspace(base, 100, climb), np.full(hold, 100.0)])
                events.append(("ramp", m, i + flat, i + flat + climb - 1))
                series[i : i + len(seg)] = seg[: steps - i]
                i += len(seg)
            v[m] = series + _noise(rng, steps, rng.uniform(0.1, 0.8))
    elif shape == "flat_step":
        for m in ("cpu", "memory"):
            at = int(rng.integers(3 * DAY, steps - DAY // 2))
            a = rng.uniform(5, 60)
            b = float(np.clip(a + rng.uniform(20, 40) * rng.choice([-1, 1]), 2, 98))
            v[m] = np.where(np.arange(steps) < at, a, b) + _noise(rng, steps, rng.uniform(0.1, 1))
            events.append(("shift", m, at, a, b, steps - at))
    elif shape == "seasonal":
        for m, level in (("cpu", rng.uniform(20, 60)), ("memory", rng.uniform(30, 70))):
            weekday = ((t // DAY) + 4) % 7
            weekly = np.where(weekday >= 5, -rng.uniform(0, 0.3) * level, 0.0)
            v[m] = level + rng.uniform(0.2, 0.5) * level * _daily(t, rng.uniform()) + weekly + _noise(rng, steps, 0.3)
    cores_load = v["cpu"] / 100.0 * rng.uniform(0.6, 1.4)
    v["load"] = np.maximum(cores_load + _noise(rng, steps, 0.03), 0.0)
    busy = np.clip(v["cpu"], 0, 100) / 100.0
    v["network"] = np.exp(rng.uniform(9, 15)) * (0.2 + busy) * np.exp(_noise(rng, steps, 0.1))
    values = np.full((steps, len(METRICS)), np.nan, dtype=np.float32)
    for j, m in enumerate(METRICS):
        x = v[m]
        values[:, j] = np.clip(x, 0, 100) if m in ("cpu", "memory", "disk", "iowait") else np.maximum(x, 0)
    # a few scrape gaps, like real data
    for _ in range(int(rng.integers(0, 4))):
        a = int(rng.integers(0, steps - 12))
        values[a : a + int(rng.integers(1, 12))] = np.nan
    profile = str(rng.choice(PROFILES))
    EVENTS[f"syn-{shape}-{n:03d}"] = events
    return Host(f"syn-{shape}-{n:03d}", "synthetic", profile, START, values)


def synthetic_hosts(per_shape: int, days: int, seed: int) -> List[Host]:
    return [make_host(shape, n, days, seed) for shape in SHAPES for n in range(per_shape)]
