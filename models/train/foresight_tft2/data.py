"""Training data for v2, one server window at a time: the real traces and the simulator's history
(foresight_tft.data), plus the synthetic failure shapes (synthetic.py), split by host and time.

A window is one (host, origin): the server's 5-minute history (a day plus the encoder), a week of
hourly samples, the known time features, and the next decoder_length steps of every metric. A
series (one metric of the window) counts in the loss when its decoder is fully observed and its
encoder at least 80 % observed. Older history that a host does not have is masked, so hosts with
less than a day or a week of history are part of training.
"""
from __future__ import annotations

from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from foresight_tft.data import MIN_ENCODER_OBSERVED, STEP, TIME_SPLIT, Host, known_features
from foresight_tft.spec import LOG_METRICS, METRICS, PROFILES

from .spec import DAY_STEPS, HOUR_STEPS, ModelSpecV2

WindowIndex = np.ndarray  # [N, 2] int64: host index, origin row (the last encoder step)
LOSS_KEYS = ("future", "valid", "seasonal_mae", "best_naive_mae")  # what make_batch adds for the loss, besides the model's inputs
TRUNCATE_PROBABILITY = 0.1  # training: share of windows whose older history is hidden (new hosts)


def window_index(
    hosts: Sequence[Host], names: Iterable[str], spec: ModelSpecV2, part: str, stride: int, origins_of: Optional[Callable[[Host], np.ndarray]] = None
) -> WindowIndex:
    """Origins of usable windows of the named hosts. part="train": the decoder ends in the first
    TIME_SPLIT of the host's time; "holdout": the decoder starts in the last part. A window is
    usable when at least one metric has a fully observed decoder and an 80 % observed encoder.
    `origins_of` (part="train" only): the candidate origins of a host, instead of every stride-th."""
    wanted = set(names)
    te, td = spec.encoder_length, spec.decoder_length
    rows = []
    for hi, h in enumerate(hosts):
        if h.name not in wanted:
            continue
        cut = int(h.length * TIME_SPLIT)
        if origins_of is not None:
            origins = origins_of(h)
            origins = origins[(origins >= te - 1) & (origins + td < cut)]
        else:
            origins = np.arange(te - 1, cut - td, stride) if part == "train" else np.arange(cut - 1, h.length - td, stride)
        if len(origins) == 0:
            continue
        ok = series_valid(h, origins, spec).any(axis=1)
        rows += [(hi, int(o)) for o in origins[ok]]
    return np.array(rows, dtype=np.int64).reshape(-1, 2)


_CUMSUM: Dict[int, np.ndarray] = {}


def _observed_cumsum(h: Host) -> np.ndarray:
    """[T+1, M]: observed steps of each metric before each row (cached per host)."""
    key = id(h.values)
    if key not in _CUMSUM:
        observed = ~np.isnan(h.values)
        _CUMSUM[key] = np.concatenate([np.zeros((1, observed.shape[1])), np.cumsum(observed, axis=0)])
    return _CUMSUM[key]


def series_valid(h: Host, origins: np.ndarray, spec: ModelSpecV2) -> np.ndarray:
    """[N, M] bool: which metrics of each window count (decoder fully observed, encoder >= 80 %)."""
    te, td = spec.encoder_length, spec.decoder_length
    csum = _observed_cumsum(h)  # [T+1,M]
    o = origins[:, None]
    dec = csum[np.minimum(o + td + 1, h.length)[:, 0]] - csum[o[:, 0] + 1]  # [N,M]
    enc = csum[o[:, 0] + 1] - csum[np.maximum(o[:, 0] + 1 - te, 0)]
    return (dec >= td) & (enc >= MIN_ENCODER_OBSERVED * te) & (o + td < h.length)


_LAG_SUMS: Dict[Tuple[int, int], Tuple[np.ndarray, np.ndarray]] = {}
SEASONAL_DAYS = 7  # the in-sample seasonal-naive error is taken over up to a week before the origin
# the naive forecasts whose in-sample errors best_naive_mae compares: the value an hour before
# (persistence), a day before and a week before (seasonal naive)
NAIVE_LAGS = (HOUR_STEPS, DAY_STEPS, 7 * DAY_STEPS)


def transformed(values: np.ndarray) -> np.ndarray:
    """[T,M] the model's transform of raw values (percent metrics / 100, load and network log1p), NaN kept."""
    is_log = np.array([m in LOG_METRICS for m in METRICS])
    with np.errstate(invalid="ignore"):
        return np.where(is_log, np.log1p(np.maximum(values, 0.0)), values / 100.0)


def lag_mae(h: Host, origins: np.ndarray, lag: int) -> np.ndarray:
    """[N, M] float32: per metric, the mean absolute error of the naive forecast `lag` steps back in the
    model's transformed units over up to SEASONAL_DAYS before each origin (pairs whose both values lie
    at or before the origin); NaN where fewer than a day of pairs is observed."""
    key = (id(h.values), lag)
    # the cache holds the values array too: its id cannot be reused by another host's array while cached
    if key not in _LAG_SUMS or _LAG_SUMS[key][0] is not h.values:
        z = transformed(h.values)
        d = np.abs(z[lag:] - z[:-lag])  # [T-lag,M]: pair ending at row lag + i
        ok = ~np.isnan(d)
        cs = np.concatenate([np.zeros((1 + lag, d.shape[1])), np.cumsum(np.where(ok, d, 0.0), axis=0)])
        cn = np.concatenate([np.zeros((1 + lag, d.shape[1])), np.cumsum(ok, axis=0)])
        _LAG_SUMS[key] = (h.values, np.stack([cs, cn]))  # [2,T+1,M]: sums and counts of pairs ending before each row
    cs, cn = _LAG_SUMS[key][1]
    hi = origins + 1
    lo = np.maximum(hi - SEASONAL_DAYS * DAY_STEPS, 0)
    n = cn[hi] - cn[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n >= DAY_STEPS, (cs[hi] - cs[lo]) / n, np.nan).astype(np.float32)


def seasonal_mae(h: Host, origins: np.ndarray) -> np.ndarray:
    """[N, M] float32: per metric, the in-sample MAE of seasonal naive (m = 1 day) over up to
    SEASONAL_DAYS before each origin (the denominator MASE uses, as a series' history before the
    forecast sees it); NaN where fewer than a day of pairs is observed."""
    return lag_mae(h, origins, DAY_STEPS)


def best_naive_mae(h: Host, origins: np.ndarray) -> np.ndarray:
    """[N, M] float32: the lowest in-sample MAE of the naive forecasts NAIVE_LAGS (persistence an hour
    ahead, seasonal naive 1 day and 1 week) over the same week: how well the best simple forecast
    does on this series; NaN where none of them is known."""
    errs = np.stack([lag_mae(h, origins, lag) for lag in NAIVE_LAGS])  # [K,N,M]
    with np.errstate(invalid="ignore"):
        lowest = np.where(np.isnan(errs), np.inf, errs).min(axis=0)
    return np.where(np.isinf(lowest), np.nan, lowest).astype(np.float32)


def make_batch(hosts: Sequence[Host], idx: WindowIndex, spec: ModelSpecV2, rng: Optional[np.random.Generator] = None) -> Dict[str, np.ndarray]:
    """Model inputs for the windows (raw values, as the sidecar feeds them), plus `future`
    [N,Td,M], `valid` [N,M], `seasonal_mae` and `best_naive_mae` [N,M] (NaN: unknown) for the loss. With `rng` (training), some windows hide their older
    history as a host with less history would."""
    te, td, t = spec.encoder_length, spec.decoder_length, spec.total_length
    ln, wn, m = spec.history_length, spec.week_length, len(METRICS)
    n = idx.shape[0]
    history = np.full((n, ln, m), np.nan, dtype=np.float32)
    week = np.full((n, wn, m), np.nan, dtype=np.float32)
    future = np.zeros((n, td, m), dtype=np.float32)
    valid = np.zeros((n, m), dtype=bool)
    times = np.zeros((n, t), dtype=np.float64)
    profile = np.zeros(n, dtype=np.int64)
    sn_mae = np.full((n, m), np.nan, dtype=np.float32)
    best_mae = np.full((n, m), np.nan, dtype=np.float32)
    hist_rows = np.arange(ln) - (ln - 1)  # relative to the origin
    week_rows = (np.arange(wn) - (wn - 1)) * HOUR_STEPS
    for k, (hi, o) in enumerate(idx):
        h = hosts[hi]
        r = o + hist_rows
        ok = r >= 0
        history[k, ok] = h.values[r[ok]]
        r = o + week_rows
        ok = r >= 0
        week[k, ok] = h.values[r[ok]]
        if rng is not None and rng.uniform() < TRUNCATE_PROBABILITY:
            keep = int(rng.integers(te, ln + wn * HOUR_STEPS))  # steps of history this "new host" has
            history[k, : max(0, ln - keep)] = np.nan
            week[k, week_rows < -keep] = np.nan
        future[k] = h.values[o + 1 : o + 1 + td]
        valid[k] = series_valid(h, np.array([o]), spec)[0]
        times[k] = h.start + (o - te + 1 + np.arange(t)) * STEP
        profile[k] = PROFILES.index(h.profile)
        sn_mae[k] = seasonal_mae(h, np.array([o]))[0]
        best_mae[k] = best_naive_mae(h, np.array([o]))[0]
    return {
        "history": np.nan_to_num(history).astype(np.float32),
        "history_mask": (~np.isnan(history)).astype(np.float32),
        "week": np.nan_to_num(week).astype(np.float32),
        "week_mask": (~np.isnan(week)).astype(np.float32),
        "known": known_features(times),
        "static_profile": profile,
        "future": np.nan_to_num(future).astype(np.float32),
        "valid": valid,
        "seasonal_mae": sn_mae,
        "best_naive_mae": best_mae,
    }


def split_names(hosts: Sequence[Host], seed: int) -> Dict[str, List[str]]:
    """70 / 15 / 15 % of each source's hosts (foresight_tft.data.split_hosts), so the real and
    simulator hosts fall exactly where they fell for v1: its test hosts stay unseen by both."""
    from foresight_tft.data import split_hosts

    return split_hosts(hosts, seed)
