"""Post-hoc band calibration of v2, fitted on the validation hosts (never the test hosts).

Version 1's method (foresight_tft.calibrate), per metric instead of per profile: after training,
for every validation window and decoder step, how far the actual lies from p50 in units of the
p10-p90 half-band; per metric and step, the scale that puts 80 % of them inside, each data source
weighted equally (so the synthetic shapes do not outvote the real hosts). The graph multiplies
every quantile's distance from p50 by it (model.band_scale [M,Td]), so the fix ships inside
model.onnx.

    /usr/bin/python3 -m foresight_tft2.calibrate --model DIR --simulator-csv sim.csv

re-calibrates an existing export (weights.pt and model.json) and re-exports it in place.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Dict, List, Sequence

import numpy as np
import torch

from foresight_tft.calibrate import PRIOR_WINDOWS, SCALE_BOUNDS, SMOOTH_STEPS, TARGET_COVERAGE, _needed_scale, scale_at, smooth_scale
from foresight_tft.data import DEFAULT_DATA, REAL_SOURCES, Host, load_all

from .data import LOSS_KEYS, make_batch, window_index
from .model import INPUT_NAMES, ServerTemporalFusionTransformer
from .spec import ModelSpecV2, spec_from_json
from .synthetic import synthetic_hosts


def weighted_quantile(x: np.ndarray, w: np.ndarray, q: float) -> np.ndarray:
    """x [N,Td], w [N] -> [Td]: the q-quantile of each column with row weights w."""
    order = np.argsort(x, axis=0)  # [N,Td]
    xs = np.take_along_axis(x, order, axis=0)
    cw = np.cumsum(w[order], axis=0)  # [N,Td]
    pos = (cw >= q * cw[-1:]).argmax(axis=0)  # first row whose cumulative weight reaches q
    return xs[pos, np.arange(x.shape[1])]


def fit_band_scale(model: ServerTemporalFusionTransformer, hosts: Sequence[Host], val_names: Sequence[str], spec: ModelSpecV2, stride: int, log=print) -> Dict:
    """Fits model.band_scale in place on the validation hosts' held-out windows; returns what
    model.json records about it."""
    idx = window_index(hosts, val_names, spec, "holdout", stride)
    m, td = len(spec.metrics), spec.decoder_length
    needed: List[np.ndarray] = []  # [N_series,Td] per batch
    metric: List[np.ndarray] = []
    source: List[np.ndarray] = []
    saved = model.band_scale.clone()
    model.band_scale.fill_(1.0)
    model.eval()
    with torch.no_grad():
        for i in range(0, len(idx), 128):
            part = idx[i : i + 128]
            batch = make_batch(hosts, part, spec)
            t = {k: torch.from_numpy(v) for k, v in batch.items()}
            valid = t["valid"].reshape(-1)
            rows = torch.nonzero(valid).squeeze(1)
            if len(rows) == 0:
                continue
            q, loc, scale, *_ = model.normalised(*(t[n] for n in INPUT_NAMES), rows=rows)
            future = t["future"].transpose(1, 2).reshape(-1, td)[rows]  # [R,Td]
            is_log = model.scaler.is_log.reshape(m).repeat(len(part))[rows].unsqueeze(1)
            z = is_log * torch.log1p(torch.relu(future)) + (1.0 - is_log) * (future / 100.0)
            y = (z - loc.unsqueeze(1)) / scale.unsqueeze(1)
            needed.append(_needed_scale(q.numpy(), y.numpy(), spec.quantiles))
            r = rows.numpy()
            metric.append(r % m)
            source.append(np.array([hosts[part[k // m, 0]].source for k in r]))
    if not needed:
        model.band_scale.copy_(saved)
        log("calibration: no validation windows; band_scale unchanged")
        return {"method": "none (no validation windows)"}
    s_needed, met, src = np.concatenate(needed), np.concatenate(metric), np.concatenate(source)
    weight = np.zeros(len(src))
    for s in np.unique(src):
        weight[src == s] = 1.0 / (src == s).sum()  # every source counts the same
    everyone = weighted_quantile(s_needed, weight, TARGET_COVERAGE)
    result = np.ones((m, td), dtype=np.float32)
    summary = {}
    for k, name in enumerate(spec.metrics):
        sel = met == k
        n = int(sel.sum())
        raw = weighted_quantile(s_needed[sel], weight[sel], TARGET_COVERAGE) if n else everyone
        w = n / (n + PRIOR_WINDOWS)
        result[k] = smooth_scale(w * raw + (1 - w) * everyone)
        if n:
            wk = weight[sel] / weight[sel].sum()
            before = float((wk[:, None] * (s_needed[sel] <= 1.0)).sum(axis=0).mean())
            after = float((wk[:, None] * (s_needed[sel] <= result[k][None, :])).sum(axis=0).mean())
            summary[name] = {
                "series_windows": n,
                "coverage_before": round(before, 3),
                "coverage_after": round(after, 3),
                "scale_at": scale_at(result[k], td),
            }
            log(f"calibration {name}: {n} validation series-windows, p10-p90 coverage (sources weighted equally) {before:.3f} -> {after:.3f}")
    model.band_scale.copy_(torch.from_numpy(result))
    return {
        "method": "per metric and decoder step, each quantile's distance from p50 is scaled so that "
        f"{TARGET_COVERAGE:.0%} of validation actuals fall inside p10-p90 (every data source weighted equally, smoothed over "
        f"+-{SMOOTH_STEPS} steps, shrunk toward the pooled fit with {PRIOR_WINDOWS:.0f} pseudo-windows, bounded to {SCALE_BOUNDS})",
        "fitted_on": "validation hosts (training.data.split.hosts.val), held-out part of their time",
        "stride_steps": stride,
        "metrics": summary,
    }


def main(argv: List[str]) -> int:
    from .export import export

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", type=Path, required=True, help="folder with weights.pt and model.json (contract version 2)")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA)
    p.add_argument("--simulator-csv", type=Path, required=True)
    p.add_argument("--stride", type=int, default=48)
    p.add_argument("--log-headroom", type=float, default=None, help="set the spec's log_headroom (0 = no cap) before re-exporting")
    a = p.parse_args(argv)
    torch.set_num_threads(2)
    manifest = json.loads((a.model / "model.json").read_text())
    training = manifest["training"]
    spec_json = dict(manifest["spec"])
    if a.log_headroom is not None:
        spec_json["log_headroom"] = a.log_headroom
    spec = spec_from_json(spec_json)
    model = ServerTemporalFusionTransformer(spec)
    model.load_state_dict(torch.load(a.model / "weights.pt"))
    data = training["data"]
    sources = [s for s in REAL_SOURCES if s in data["real_sources"]]
    hosts: List[Host] = load_all(a.data, a.simulator_csv, sources)
    syn = data.get("synthetic")
    if syn:
        hosts += synthetic_hosts(syn["hosts_per_shape"], syn["days"], syn["seed"])
    split = data["split"]["hosts"]
    training["calibration"] = fit_band_scale(model, hosts, split["val"], spec, a.stride)
    val_idx = window_index(hosts, split["val"], spec, "holdout", spec.decoder_length // 2)
    fixture = make_batch(hosts, val_idx[np.linspace(0, len(val_idx) - 1, 3).astype(int)], spec)
    for k in LOSS_KEYS:
        fixture.pop(k)
    export(model, spec, a.model, fixture, training, manifest["name"])
    print(f"re-exported {a.model} with calibrated bands")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    sys.exit(main(sys.argv[1:]))
