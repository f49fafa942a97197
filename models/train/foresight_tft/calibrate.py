"""Post-hoc band calibration, fitted on the validation hosts (never the test hosts).

A quantile model trained with pinball loss is close to calibrated on its training mix, but the
mix (simulator + three real sources) is not what each profile sees at serving time. After
training we measure, per profile and decoder step, how far each validation actual lies from
p50 in units of the p10-p90 half-band, and choose the scale that puts `target` of them inside.
The graph then multiplies every quantile's distance from p50 by that scale (model.band_scale),
so the fix ships inside model.onnx and serving needs nothing new.

    /usr/bin/python3 -m foresight_tft.calibrate --model models/foresight-tft-v1 --simulator-csv sim.csv

re-calibrates an existing weights.pt and re-exports model.onnx, model.json and fixture.json.
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

from .data import DEFAULT_DATA, REAL_SOURCES, Host, load_all, make_batch, window_index
from .export import export
from .model import INPUT_NAMES, TemporalFusionTransformer, scaled_target
from .spec import ModelSpec

TARGET_COVERAGE = 0.80  # nominal p10-p90
SMOOTH_STEPS = 6  # +-30 min moving average over decoder steps: one step's sample is noisy
PRIOR_WINDOWS = 200.0  # shrink a profile's scale toward 1 with this many pseudo-windows
SCALE_BOUNDS = (0.5, 2.0)  # never more than halve or double a band


def _needed_scale(q: np.ndarray, y: np.ndarray, quantiles: Sequence[float]) -> np.ndarray:
    """q [N,Td,Q], y [N,Td] scaled units -> [N,Td]: the smallest band scale that covers y."""
    mid = q[..., quantiles.index(0.5)]
    lo, hi = q[..., quantiles.index(0.1)], q[..., quantiles.index(0.9)]
    up = (y - mid) / np.maximum(hi - mid, 1e-6)
    down = (mid - y) / np.maximum(mid - lo, 1e-6)
    return np.where(y >= mid, up, down)


def smooth_scale(scale: np.ndarray) -> np.ndarray:
    """[Td] -> [Td]: a +-SMOOTH_STEPS moving average over decoder steps, bounded to SCALE_BOUNDS."""
    kernel = np.ones(2 * SMOOTH_STEPS + 1) / (2 * SMOOTH_STEPS + 1)
    return np.clip(np.convolve(np.pad(scale, SMOOTH_STEPS, mode="edge"), kernel, mode="valid"), *SCALE_BOUNDS)


def scale_at(scale: np.ndarray, td: int) -> Dict[str, float]:
    """The fitted scale at the published horizons (what model.json records)."""
    return {f"{m}m": round(float(scale[m // 5 - 1]), 3) for m in (30, 60, 120, 240, 480) if m // 5 <= td}


def fit_band_scale(model: TemporalFusionTransformer, hosts: List[Host], val_names: Sequence[str], spec: ModelSpec, stride: int, log=print) -> Dict:
    """Fits model.band_scale in place on the validation hosts' held-out windows and returns
    what model.json records about it."""
    idx = window_index(hosts, val_names, spec, "holdout", stride)
    td, n_prof = spec.decoder_length, len(spec.profiles)
    needed: List[np.ndarray] = []
    profiles: List[np.ndarray] = []
    model.eval()
    with torch.no_grad():
        for i in range(0, len(idx), 256):
            batch = make_batch(hosts, idx[i : i + 256], spec)
            t = {k: torch.from_numpy(v) for k, v in batch.items()}
            q, loc, scale, is_log, *_ = model.normalised(*(t[n] for n in INPUT_NAMES))
            y = scaled_target(model, t["future_target"], loc, scale, is_log)
            needed.append(_needed_scale(q.numpy(), y.numpy(), spec.quantiles))
            profiles.append(batch["static_profile"])
    if not needed:
        log("calibration: no validation windows; band_scale stays 1")
        return {"method": "none (no validation windows)"}
    s_needed = np.concatenate(needed)  # [N,Td]
    prof = np.concatenate(profiles)
    everyone = np.quantile(s_needed, TARGET_COVERAGE, axis=0)  # [Td]
    result = np.ones((n_prof, td), dtype=np.float32)
    summary = {}
    for p, name in enumerate(spec.profiles):
        rows = s_needed[prof == p]
        n = len(rows)
        raw = np.quantile(rows, TARGET_COVERAGE, axis=0) if n else everyone
        w = n / (n + PRIOR_WINDOWS)
        scale = smooth_scale(w * raw + (1 - w) * everyone)  # shrink sparse profiles toward the pooled fit
        result[p] = scale
        before = float((rows <= 1.0).mean()) if n else None
        after = float((rows <= scale[None, :]).mean()) if n else None
        summary[name] = {
            "windows": int(n),
            "coverage_before": None if before is None else round(before, 3),
            "coverage_after": None if after is None else round(after, 3),
            "scale_at": scale_at(scale, td),
        }
        if n:
            log(f"calibration {name}: {n} validation windows, p10-p90 coverage {before:.3f} -> {after:.3f}")
    model.band_scale.copy_(torch.from_numpy(result))
    return {
        "method": "per profile and decoder step, each quantile's distance from p50 is scaled so that "
        f"{TARGET_COVERAGE:.0%} of validation actuals fall inside p10-p90 (smoothed over +-{SMOOTH_STEPS} steps, "
        f"shrunk toward the pooled fit with {PRIOR_WINDOWS:.0f} pseudo-windows, bounded to {SCALE_BOUNDS})",
        "fitted_on": "validation hosts (training.data.split.hosts.val), held-out part of their time",
        "stride_steps": stride,
        "profiles": summary,
    }


def main(argv: List[str]) -> int:

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", type=Path, required=True, help="folder with weights.pt and model.json")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA)
    p.add_argument("--simulator-csv", type=Path, required=True)
    p.add_argument("--stride", type=int, default=12)
    a = p.parse_args(argv)
    torch.set_num_threads(2)
    manifest = json.loads((a.model / "model.json").read_text())
    training = manifest["training"]
    spec = ModelSpec(**{k: v for k, v in manifest["spec"].items() if k in ModelSpec.__dataclass_fields__})
    model = TemporalFusionTransformer(spec)
    state = torch.load(a.model / "weights.pt")
    state.pop("band_scale", None)
    missing = model.load_state_dict(state, strict=False).missing_keys
    if missing != ["band_scale"]:
        print(f"error: weights.pt does not match the spec in model.json (missing {missing})", file=sys.stderr)
        return 2
    sources = [s for s in REAL_SOURCES if s in training["data"]["real_sources"]]
    hosts = load_all(a.data, a.simulator_csv, sources)
    split = training["data"]["split"]["hosts"]
    training["calibration"] = fit_band_scale(model, hosts, split["val"], spec, a.stride)
    # the fixture: the same validation windows train.py picked
    val_idx = window_index(hosts, split["val"], spec, "holdout", spec.decoder_length)
    fixture = make_batch(hosts, val_idx[np.linspace(0, len(val_idx) - 1, 4).astype(int)], spec)
    fixture.pop("future_target")
    export(model, spec, a.model, fixture, training, manifest["name"])
    print(f"re-exported {a.model} with calibrated bands")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    sys.exit(main(sys.argv[1:]))
