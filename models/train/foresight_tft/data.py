"""Training data: real utilisation traces (the --data directory) and the simulator's CSV history,
split by host *and* time, served as fixed-length windows.

Every series lives on a 5-minute grid with NaN for missing steps. A window is the encoder
(past) plus the decoder (future) of one (host, metric); it is usable when the decoder's
target is fully observed and the encoder's is at least 80 % observed.
"""
from __future__ import annotations

import csv
import gzip
import math
import os
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from .spec import METRICS, PROFILES, ModelSpec

# The public real traces, one folder per source under the data directory (docs/model.md, "Training
# data"). The directory is --data, else $FORESIGHT_DATA, else `shared/data` in the folder that holds
# the checkout; `npm run eval` resolves it the same way.
REAL_SOURCES = ["azure-v1-sample100", "azure-v1-periodic77", "bitbrains-rnd"]
DEFAULT_DATA = Path(os.environ.get("FORESIGHT_DATA") or Path(__file__).resolve().parents[3].parent / "shared" / "data")

STEP = 300
# Real metric names -> (Foresight metric, conversion from the row's value)
REAL_METRICS = {
    "cpu_avg_pct": "cpu",  # Azure V1
    "cpu_usage_pct": "cpu",  # Bitbrains (exceeds 100 on a few hosts: clipped)
}
TIME_SPLIT = 0.75  # train on the first 75 % of a training host's time; evaluate on the last 25 % of held-out hosts
MIN_ENCODER_OBSERVED = 0.8


@dataclass
class Host:
    name: str
    source: str
    profile: str
    start: int  # unix seconds of row 0
    values: np.ndarray  # [T, M] float32 in spec.metrics order, NaN = missing

    @property
    def length(self) -> int:
        return self.values.shape[0]


def _read_rows(path: Path) -> Iterable[List[str]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", newline="") as f:  # type: ignore[operator]
        reader = csv.reader(f)
        next(reader)
        yield from reader


def _grid(by_host: Dict[str, Dict[str, Dict[int, float]]], source: str, profiles: Dict[str, str]) -> List[Host]:
    hosts = []
    for name in sorted(by_host):
        series = by_host[name]
        stamps = [t for s in series.values() for t in s]
        t0, t1 = min(stamps), max(stamps)
        n = (t1 - t0) // STEP + 1
        values = np.full((n, len(METRICS)), np.nan, dtype=np.float32)
        for metric, points in series.items():
            j = METRICS.index(metric)
            for t, v in points.items():
                values[(t - t0) // STEP, j] = v
        hosts.append(Host(name, source, profiles.get(name, "generic"), t0, values))
    return hosts


def load_real(folder: Path) -> List[Host]:
    """One of <data>/<source>/: CPU (Azure, Bitbrains), memory % and network bytes/s (Bitbrains)."""
    path = next(folder.glob("*.csv.gz"))
    raw: Dict[str, Dict[str, Dict[int, float]]] = {}
    mem_used: Dict[Tuple[str, int], float] = {}
    mem_cap: Dict[Tuple[str, int], float] = {}
    net: Dict[Tuple[str, int], float] = {}
    for ts_text, host, metric, value_text in _read_rows(path):
        t, v = int(ts_text), float(value_text)
        if metric in REAL_METRICS:
            raw.setdefault(host, {}).setdefault(REAL_METRICS[metric], {})[t] = min(max(v, 0.0), 100.0)
        elif metric == "mem_usage_kb":
            mem_used[(host, t)] = v
        elif metric == "mem_capacity_kb":
            mem_cap[(host, t)] = v
        elif metric in ("net_rx_kbps", "net_tx_kbps"):
            net[(host, t)] = net.get((host, t), 0.0) + v * 1024.0  # KB/s -> bytes/s
    for (host, t), used in mem_used.items():
        cap = mem_cap.get((host, t))
        if cap and cap > 0:
            raw.setdefault(host, {}).setdefault("memory", {})[t] = min(max(100.0 * used / cap, 0.0), 100.0)
    for (host, t), v in net.items():
        raw.setdefault(host, {}).setdefault("network", {})[t] = v
    return _grid(raw, folder.name, {})


def load_simulator_csv(path: Path, source: str = "simulator") -> List[Host]:
    """The simulator's `simulate history --format csv` output (timestamp,host,profile,metric,value)."""
    raw: Dict[str, Dict[str, Dict[int, float]]] = {}
    profiles: Dict[str, str] = {}
    for ts_text, host, profile, metric, value_text in _read_rows(path):
        raw.setdefault(host, {}).setdefault(metric, {})[int(ts_text)] = float(value_text)
        profiles[host] = profile
    return _grid(raw, source, profiles)


def split_hosts(hosts: Sequence[Host], seed: int) -> Dict[str, List[str]]:
    """70 / 15 / 15 % of each source's hosts for train / validation / test, by a seeded shuffle."""
    out: Dict[str, List[str]] = {"train": [], "val": [], "test": []}
    for source in sorted({h.source for h in hosts}):
        names = sorted(h.name for h in hosts if h.source == source)
        random.Random(f"{seed}-{source}").shuffle(names)
        n_val = max(1, round(0.15 * len(names)))
        n_test = max(1, round(0.15 * len(names)))
        out["test"] += sorted(names[:n_test])
        out["val"] += sorted(names[n_test : n_test + n_val])
        out["train"] += sorted(names[n_test + n_val :])
    return out


WindowIndex = np.ndarray  # [N, 3] int64: host index, metric index, window start row


def window_index(hosts: Sequence[Host], names: Iterable[str], spec: ModelSpec, part: str, stride: int) -> WindowIndex:
    """Usable windows of the named hosts. part="train": windows ending in the first TIME_SPLIT of
    the host's time; "holdout": windows whose decoder starts in the last part."""
    wanted = set(names)
    rows = []
    te, t = spec.encoder_length, spec.total_length
    for hi, h in enumerate(hosts):
        if h.name not in wanted:
            continue
        cut = int(h.length * TIME_SPLIT)
        if part == "train":
            starts = range(0, cut - t + 1, stride)
        else:
            starts = range(max(0, cut - te), h.length - t + 1, stride)
        observed = ~np.isnan(h.values)  # [T,M]
        for mi in range(len(METRICS)):
            if not observed[:, mi].any():
                continue
            csum = np.concatenate([[0], np.cumsum(observed[:, mi])])
            for s in starts:
                if csum[s + t] - csum[s + te] < t - te:
                    continue
                if csum[s + te] - csum[s] < MIN_ENCODER_OBSERVED * te:
                    continue
                rows.append((hi, mi, s))
    return np.array(rows, dtype=np.int64).reshape(-1, 3)


def known_features(times: np.ndarray) -> np.ndarray:
    """[..., T] unix seconds -> [..., T, 4]: time of day and day of week as sin/cos (UTC).
    The sidecar computes the same from model.json's description."""
    tod = 2 * math.pi * np.mod(times, 86400) / 86400
    dow = 2 * math.pi * np.mod(np.floor(times / 86400) + 4, 7) / 7  # 1970-01-01 was a Thursday (4)
    return np.stack([np.sin(tod), np.cos(tod), np.sin(dow), np.cos(dow)], axis=-1).astype(np.float32)


def make_batch(hosts: Sequence[Host], idx: WindowIndex, spec: ModelSpec) -> Dict[str, np.ndarray]:
    """Model inputs (raw values, as the sidecar feeds them) plus `future_target` for the loss."""
    te, t = spec.encoder_length, spec.total_length
    b = idx.shape[0]
    past_obs = np.zeros((b, te, len(METRICS)), dtype=np.float32)
    future = np.zeros((b, t - te), dtype=np.float32)
    times = np.zeros((b, t), dtype=np.float64)
    profile = np.zeros(b, dtype=np.int64)
    for k, (hi, mi, s) in enumerate(idx):
        h = hosts[hi]
        past_obs[k] = h.values[s : s + te]
        future[k] = h.values[s + te : s + t, mi]
        # row r is at h.start + r*STEP; the last encoder row is the forecast origin
        times[k] = h.start + (s + np.arange(t)) * STEP
        profile[k] = PROFILES.index(h.profile)
    metric = idx[:, 1].copy()
    past_target = past_obs[np.arange(b), :, metric]  # [B,Te]
    target_mask = ~np.isnan(past_target)
    obs_mask = ~np.isnan(past_obs)
    return {
        "past_target": np.nan_to_num(past_target).astype(np.float32),
        "past_target_mask": target_mask.astype(np.float32),
        "past_observed": np.nan_to_num(past_obs).astype(np.float32),
        "past_observed_mask": obs_mask.astype(np.float32),
        "known": known_features(times),
        "static_profile": profile,
        "static_metric": metric.astype(np.int64),
        "future_target": future,
    }


def load_all(data_dir: Path, simulator_csv: Optional[Path], sources: Sequence[str]) -> List[Host]:
    hosts: List[Host] = []
    for name in sources:
        hosts += load_real(data_dir / name)
    if simulator_csv is not None:
        hosts += load_simulator_csv(simulator_csv)
    return hosts
