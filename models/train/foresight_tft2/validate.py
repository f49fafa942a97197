"""Validation of v2 against the shipped v1 model on the same windows of the VALIDATION hosts (never
the test hosts), per source and per synthetic failure shape, plus the level-shift and ramp rates.

    /usr/bin/python3 -m foresight_tft2.validate --model2 .work/v2-run1 --model1 ../foresight-tft-v1 --simulator-csv .work/simulator-0.csv

Metric (per the field's convention, on validation windows): for each series window and horizon H,
MASE = mean |forecast - actual| over steps 1..H divided by the series' in-sample MAE of seasonal
naive (m = 1 day) over the up-to-7 days before the origin; averaged per series (host, metric),
then over series. This is a development check; `npm run eval` is the published evaluation.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from collections import defaultdict
from pathlib import Path
from typing import Dict, List

import numpy as np
import torch

from foresight_tft.data import DEFAULT_DATA, TIME_SPLIT, load_all
from foresight_tft.data import make_batch as make_batch_v1
from foresight_tft.model import INPUT_NAMES as INPUT_NAMES_V1
from foresight_tft.model import TemporalFusionTransformer
from foresight_tft.spec import METRICS, ModelSpec

from .data import make_batch, series_valid
from .model import INPUT_NAMES, ServerTemporalFusionTransformer
from .spec import DAY_STEPS, spec_from_json
from .synthetic import EVENTS, SHAPE_METRICS, shape_of, synthetic_hosts

HORIZONS = {"30m": 6, "1h": 12, "2h": 24, "4h": 48, "8h": 96}
RAMP_THRESHOLD = 90.0


def load_v2(d: Path):
    man = json.loads((d / "model.json").read_text())
    spec = spec_from_json(man["spec"])
    m = ServerTemporalFusionTransformer(spec)
    m.load_state_dict(torch.load(d / "weights.pt"))
    return m.eval(), spec, man


def load_v1(d: Path):
    man = json.loads((d / "model.json").read_text())
    spec = ModelSpec(**{k: v for k, v in man["spec"].items() if k in ModelSpec.__dataclass_fields__})
    m = TemporalFusionTransformer(spec)
    m.load_state_dict(torch.load(d / "weights.pt"))
    return m.eval(), spec


def forecast_v2(model, spec, hosts, idx) -> np.ndarray:
    out = []
    with torch.no_grad():
        for i in range(0, len(idx), 64):
            b = make_batch(hosts, idx[i : i + 64], spec)
            out.append(model(*(torch.from_numpy(b[n]) for n in INPUT_NAMES))[0].numpy())
    return np.concatenate(out)  # [N,M,Td,Q]


def forecast_v1(model, spec, hosts, idx1) -> np.ndarray:
    out = []
    with torch.no_grad():
        for i in range(0, len(idx1), 256):
            b = make_batch_v1(hosts, idx1[i : i + 256], spec)
            out.append(model(*(torch.from_numpy(b[n]) for n in INPUT_NAMES_V1))[0].numpy())
    return np.concatenate(out) if out else np.zeros((0, spec.decoder_length, len(spec.quantiles)))  # [N,Td,Q]


def naive_scale(x: np.ndarray, o: int) -> float:
    """In-sample MAE of seasonal naive (1 day) over the up-to-7 days before (and at) the origin."""
    a = x[max(DAY_STEPS, o - 7 * DAY_STEPS + 1) : o + 1]
    b = x[max(0, o - 7 * DAY_STEPS + 1 - DAY_STEPS) : o + 1 - DAY_STEPS][-len(a):] if len(a) else a
    if len(a) == 0 or len(b) != len(a):
        return float("nan")
    d = np.abs(a - b)
    return float(np.nanmean(d)) if np.isfinite(d).any() else float("nan")


def main(argv: List[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model2", type=Path, required=True)
    p.add_argument("--model1", type=Path, required=True)
    p.add_argument("--data", type=Path, default=DEFAULT_DATA)
    p.add_argument("--simulator-csv", type=Path, required=True)
    p.add_argument("--stride", type=int, default=72, help="steps between validation origins")
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--no-v1", action="store_true", help="skip running the shipped model (same windows and series; faster)")
    a = p.parse_args(argv)
    torch.set_num_threads(2)
    m2, spec2, man = load_v2(a.model2)
    m1, spec1 = load_v1(a.model1)
    tr = man["training"]["data"]
    syn = tr["synthetic"]
    hosts = load_all(a.data, a.simulator_csv, tr["real_sources"]) + synthetic_hosts(syn["hosts_per_shape"], syn["days"], syn["seed"])
    val = set(tr["split"]["hosts"]["val"])
    td = spec2.decoder_length
    qi = {q: i for i, q in enumerate(spec2.quantiles)}
    # per group, model, horizon: series key -> list of MASE; coverage counts
    mase: Dict[tuple, Dict[str, List[float]]] = defaultdict(lambda: defaultdict(list))
    cover: Dict[tuple, List[float]] = defaultdict(list)
    events = {"shift": defaultdict(list), "ramp": defaultdict(list)}
    for hi, h in enumerate(hosts):
        if h.name not in val:
            continue
        shape = shape_of(h.name)
        group = f"synthetic/{shape}" if shape else h.source
        metrics = SHAPE_METRICS[shape] if shape else METRICS
        cut = int(h.length * TIME_SPLIT)
        origins = np.arange(cut - 1, h.length - td, a.stride)
        # level shifts and climbs: anywhere in a validation host's time after its first week
        case_origins = []
        for e in EVENTS.get(h.name, []) if shape else []:
            mi = METRICS.index(e[1])
            if e[0] == "shift":
                o = e[2] + 6  # 30 min after the step
                if e[5] >= 6 + td and o >= 7 * DAY_STEPS and o + td < h.length:
                    case_origins.append(("shift", mi, o, e))
            else:
                x = h.values[:, mi]
                above = np.nonzero(x[e[2] : e[3] + 1] >= RAMP_THRESHOLD)[0]
                if len(above) == 0:
                    continue
                c = e[2] + int(above[0])
                for k in (12, 24, 48, 72):
                    o = c - k
                    if o >= e[2] + 12 and o >= 7 * DAY_STEPS and o + td < h.length:
                        case_origins.append(("ramp", mi, o, (c,)))
        all_origins = np.array(sorted(set(origins.tolist()) | {c[2] for c in case_origins}), dtype=np.int64)
        if len(all_origins) == 0:
            continue
        idx = np.stack([np.full(len(all_origins), hi), all_origins], axis=1)
        q2 = forecast_v2(m2, spec2, hosts, idx)  # [N,M,Td,Q]
        pos = {int(o): k for k, o in enumerate(all_origins)}
        valid = series_valid(h, all_origins, spec2)  # [N,M]
        # v1 needs its 288-step encoder inside the host
        v1_rows = [(k, mi) for k, o in enumerate(all_origins) for mi in range(len(METRICS)) if valid[k, mi] and o - spec1.encoder_length + 1 >= 0 and o + spec1.decoder_length < h.length]
        idx1 = np.array([(hi, mi, all_origins[k] - spec1.encoder_length + 1) for k, mi in v1_rows], dtype=np.int64).reshape(-1, 3)
        q1_all = forecast_v1(m1, spec1, hosts, idx1) if not a.no_v1 else np.full((len(idx1), spec1.decoder_length, len(spec1.quantiles)), np.nan)
        q1 = {(k, mi): q1_all[j] for j, (k, mi) in enumerate(v1_rows)}
        for o in origins:
            k = pos[int(o)]
            for m in metrics:
                mi = METRICS.index(m)
                if not valid[k, mi] or (k, mi) not in q1:
                    continue
                x = h.values[:, mi]
                y = x[o + 1 : o + 1 + td]
                scale = naive_scale(x, int(o))
                if not np.isfinite(scale) or scale < 1e-6:
                    continue
                enc = x[: o + 1]
                last = enc[np.isfinite(enc)][-1]
                sn = x[o + 1 - DAY_STEPS : o + 1 - DAY_STEPS + td] if o + 1 - DAY_STEPS >= 0 else np.full(td, np.nan)
                sn = np.where(np.isfinite(sn), sn, last)
                preds = {"v2": q2[k, mi, :, qi[0.5]], "v1 (shipped)": q1[(k, mi)][:td, qi[0.5]], "seasonal naive 1d": sn, "last value": np.full(td, last)}
                key = (h.name, m)
                for hname, hz in HORIZONS.items():
                    for name, f in preds.items():
                        mase[(group, name, hname)][key].append(float(np.mean(np.abs(f[:hz] - y[:hz])) / scale))
                    for name, qq in (("v2", q2[k, mi]), ("v1 (shipped)", q1[(k, mi)][:td])):
                        inside = (y[:hz] >= qq[:hz, qi[0.1]]) & (y[:hz] <= qq[:hz, qi[0.9]])
                        cover[(group, name, hname)].append(float(inside.mean()))
        for kind, mi, o, e in case_origins:
            k = pos[int(o)]
            if (k, mi) not in q1:
                continue
            x = h.values[:, mi]
            for name, p50 in (("v2", q2[k, mi, :, qi[0.5]]), ("v1 (shipped)", q1[(k, mi)][:td, qi[0.5]])):
                if kind == "shift":
                    new = float(np.nanmedian(x[o + 1 : o + 1 + td]))
                    ok = float(np.max(np.abs(p50 - new)) <= 0.25 * abs(e[4] - e[3]))
                else:
                    crossing = np.nonzero(p50 >= RAMP_THRESHOLD)[0]
                    real = e[0] - o  # steps from the origin to the real crossing
                    ok = float(len(crossing) > 0 and crossing[0] + 1 <= real + 6)
                events[kind][name].append(ok)
    result = {"groups": {}, "events": {}}
    groups = sorted({g for g, _, _ in mase})
    names = ["v2", "seasonal naive 1d", "last value"] if a.no_v1 else ["v2", "v1 (shipped)", "seasonal naive 1d", "last value"]
    lines = []
    for g in groups:
        result["groups"][g] = {}
        n_series = len(mase[(g, "v2", "30m")])
        lines.append(f"\n{g} ({n_series} series)  mean MASE per horizon; p10-p90 coverage")
        for name in names:
            row = {}
            for hname in HORIZONS:
                per_series = [np.mean(v) for v in mase[(g, name, hname)].values()]
                row[hname] = round(float(np.mean(per_series)), 3) if per_series else None
            cov = {hname: round(float(np.mean(cover[(g, name, hname)])), 3) for hname in HORIZONS if cover.get((g, name, hname))}
            result["groups"][g][name] = {"mase": row, "coverage": cov or None}
            lines.append(f"  {name:20s} " + " ".join(f"{hname}={row[hname]}" for hname in HORIZONS) + (f"  cov8h={cov.get('8h')}" if cov else ""))
    for kind in events:
        result["events"][kind] = {name: {"cases": len(v), "rate": round(float(np.mean(v)), 3) if v else None} for name, v in events[kind].items()}
        lines.append(f"\n{kind}: " + "; ".join(f"{name}: {len(v)} cases, rate {np.mean(v):.3f}" for name, v in events[kind].items() if v and name in names))
    print("\n".join(lines), flush=True)
    if a.out:
        a.out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    sys.exit(main(sys.argv[1:]))
