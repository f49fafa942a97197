"""Trains and exports Foresight TFT v2 reproducibly (models/train/train_v2.sh runs it).

    /usr/bin/python3 -m foresight_tft2.train --out models/foresight-tft --simulator-csv sim.csv
    /usr/bin/python3 -m foresight_tft2.train --smoke --out /tmp/smoke2 --simulator-csv tiny.csv
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np
import torch

from foresight_tft.data import DEFAULT_DATA, STEP, TIME_SPLIT, Host, load_all
from foresight_tft.data import REAL_SOURCES
from foresight_tft.train import add_optimiser_args, log, seed_everything

from .data import make_batch, split_names, window_index
from .calibrate import fit_band_scale
from .export import export
from .model import INPUT_NAMES, ServerTemporalFusionTransformer
from .spec import ModelSpecV2, smoke_spec
from .synthetic import EVENTS, SHAPES, synthetic_hosts

# share of every epoch per source; the synthetic failure shapes get more than one real source
# (run 5 gave them 0.25 and 0.15 and lost to v1 on the real test hosts; the shapes were learnt)
# "events": windows of the synthetic training hosts whose origin lies just after a level shift or on a
# climb (event_windows); sampled uniformly, those origins are ~0.05 % of an epoch, and the step held
# 30-60 min or the ramp under way is exactly what the forecast must not fade (run 6 held 29 % of shifts)
SOURCE_WEIGHTS = {"synthetic": 0.10, "events": 0.06, "simulator": 0.10}


def event_origins(h: Host) -> np.ndarray:
    """Origins of a synthetic host 15 min to 2 h after each of its level shifts, and from 1 h into
    each climb up to 30 min before it reaches 100 % (none for other hosts)."""
    spans = [np.arange(e[2] + 3, e[2] + 25, 3) if e[0] == "shift" else np.arange(e[2] + 12, e[3] - 5, 6) for e in EVENTS.get(h.name, [])]
    return np.concatenate(spans).astype(np.int64) if spans else np.zeros(0, dtype=np.int64)


def pinball(q: torch.Tensor, y: torch.Tensor, quantiles: List[float], step_weights: Optional[List[float]] = None) -> torch.Tensor:
    """Mean pinball loss: q [R,Td,Q] and y [R,Td] in the same (scaled) units, on q's device; each
    decoder step weighted by step_weights (mean 1) when given."""
    levels = torch.tensor(quantiles, dtype=q.dtype, device=q.device).view(1, 1, -1)
    diff = y.unsqueeze(-1) - q  # [R,Td,Q]
    loss = torch.maximum(levels * diff, (levels - 1) * diff)
    if step_weights is not None:
        loss = loss * torch.tensor(step_weights, dtype=q.dtype, device=q.device).view(1, -1, 1)
    return loss.mean()


def batch_loss(model: ServerTemporalFusionTransformer, batch: Dict[str, np.ndarray], device: torch.device = torch.device("cpu")) -> torch.Tensor:
    """Pinball loss in scaled units over the batch's valid series."""
    t = {k: torch.from_numpy(v).to(device) for k, v in batch.items()}
    valid = t["valid"].reshape(-1)  # [B*M]
    rows = torch.nonzero(valid).squeeze(1)
    q, loc, scale, *_ = model.normalised(*(t[n] for n in INPUT_NAMES), rows=rows)
    m = t["future"].shape[2]
    future = t["future"].transpose(1, 2).reshape(-1, t["future"].shape[1])[rows]  # [B,Td,M] -> [B*M,Td] -> [R,Td]
    is_log = model.scaler.is_log.reshape(m).repeat(t["future"].shape[0])[rows].unsqueeze(1)  # [R,1]
    z = is_log * torch.log1p(torch.relu(future)) + (1.0 - is_log) * (future / 100.0)
    y = (z - loc.unsqueeze(1)) / scale.unsqueeze(1)
    return pinball(q, y, model.spec.quantiles, model.spec.step_weights())


def learning_rate(peak: float, progress: float) -> float:
    """One-cycle shape over progress 0..1: linear warm-up to `peak` over the first 15 %, then cosine down to 1 % of it."""
    import math

    if progress < 0.15:
        return peak * (0.04 + 0.96 * progress / 0.15)
    return peak * (0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * (progress - 0.15) / 0.85)))


def source_shares(hosts: List[Host], idx: np.ndarray) -> Dict[str, np.ndarray]:
    out: Dict[str, np.ndarray] = {}
    for s in sorted({h.source for h in hosts}):
        mask = np.array([hosts[hi].source == s for hi in idx[:, 0]], dtype=bool)
        if mask.any():
            out[s] = idx[mask]
    return out


def main(argv: List[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--data", type=Path, default=DEFAULT_DATA)
    p.add_argument("--simulator-csv", type=Path, default=None)
    p.add_argument("--simulator-args", default="", help="how the simulator CSV was made (recorded in model.json)")
    p.add_argument("--smoke", action="store_true", help="tiny model and data: about a minute, for the test suite")
    p.add_argument("--synthetic-per-shape", type=int, default=40)
    p.add_argument("--synthetic-days", type=int, default=21)
    add_optimiser_args(p, epochs=16, windows_per_epoch=8000, lr=3e-3, seed=42)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default="cpu", help="cpu, cuda or auto (cuda when available); export always runs on CPU")
    p.add_argument("--max-minutes", type=float, default=70.0, help="time budget of the whole run; the learning-rate schedule anneals within it")
    a = p.parse_args(argv)
    if a.smoke:
        a.batch = 32

    seed_everything(a.seed, a.threads)
    spec = smoke_spec() if a.smoke else ModelSpecV2()
    started = time.time()
    sources = [] if a.smoke else [s for s in REAL_SOURCES if (a.data / s).exists()]
    hosts: List[Host] = load_all(a.data, a.simulator_csv, sources)
    per_shape, days = (3, 12) if a.smoke else (a.synthetic_per_shape, a.synthetic_days)
    hosts += synthetic_hosts(per_shape, days, a.seed)
    split = split_names(hosts, a.seed)
    stride = 12
    train_idx = window_index(hosts, split["train"], spec, "train", stride)
    val_idx = window_index(hosts, split["val"], spec, "holdout", spec.decoder_length // 2)
    log(f"data: {len(hosts)} hosts ({', '.join(sorted({h.source for h in hosts}))}); "
        f"{len(train_idx)} training windows, {len(val_idx)} validation windows; {time.time() - started:.0f} s")
    if len(train_idx) == 0 or len(val_idx) == 0:
        log("error: not enough history for one training and one validation window")
        return 2

    rng = np.random.default_rng(a.seed)
    by_source = source_shares(hosts, train_idx)
    events = window_index(hosts, split["train"], spec, "train", stride, event_origins)
    if len(events):
        by_source["events"] = events
    log(f"{len(events)} event windows (just after a level shift or on a climb)")
    rest = [s for s in by_source if s not in SOURCE_WEIGHTS]
    left = 1.0 - sum(SOURCE_WEIGHTS.get(s, 0.0) for s in by_source)
    weights = {s: SOURCE_WEIGHTS.get(s, left / max(1, len(rest))) for s in by_source}
    val_sample = val_idx[rng.choice(len(val_idx), size=min(len(val_idx), 64 if a.smoke else 640), replace=False)]

    device = torch.device("cuda" if a.device == "cuda" or (a.device == "auto" and torch.cuda.is_available()) else "cpu")
    log(f"training on {device}")
    t_train = time.time()
    model = ServerTemporalFusionTransformer(spec).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=1e-4)
    epochs = 2 if a.smoke else a.epochs
    per_epoch = 128 if a.smoke else a.windows_per_epoch
    steps_per_epoch = max(1, per_epoch // a.batch)
    total_steps = epochs * steps_per_epoch
    budget = max(60.0, a.max_minutes * 60 - (time.time() - started))  # seconds left for the optimisation itself (at least a minute)
    best = (float("inf"), None, -1)
    history = []
    done = 0
    out_of_time = False
    for epoch in range(epochs):
        if out_of_time:
            break
        model.train()
        chosen = np.concatenate([
            idx[rng.choice(len(idx), size=max(1, int(weights[s] * per_epoch)), replace=len(idx) < weights[s] * per_epoch)]
            for s, idx in by_source.items()
        ])
        rng.shuffle(chosen)
        chosen = np.resize(chosen, (steps_per_epoch * a.batch, 2))  # rounding of the shares: wrap around to fill every batch
        t_epoch, total, steps = time.time(), 0.0, 0
        for k in range(steps_per_epoch):
            # progress is the larger of steps done and time used: on a slower (or busier) machine the
            # schedule anneals on time and the run still ends within --max-minutes
            progress = max(done / total_steps, (time.time() - t_train) / budget)
            if progress >= 1.0:
                out_of_time = True
                log(f"stopping at epoch {epoch + 1} step {k + 1}: --max-minutes {a.max_minutes} reached ({done} of {total_steps} steps)")
                break
            for g in opt.param_groups:
                g["lr"] = learning_rate(a.lr, progress)
            batch = make_batch(hosts, chosen[k * a.batch : (k + 1) * a.batch], spec, rng)
            loss = batch_loss(model, batch, device)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            done += 1
            steps += 1
            total += float(loss)
            if k % 25 == 0 or k == steps_per_epoch - 1:
                log(f"epoch {epoch + 1}/{epochs} step {k + 1}/{steps_per_epoch} loss {total / (k + 1):.4f} ({time.time() - t_epoch:.0f} s)")
        if steps == 0:
            break
        model.eval()
        with torch.no_grad():
            vl = [float(batch_loss(model, make_batch(hosts, val_sample[i : i + 128], spec), device)) for i in range(0, len(val_sample), 128)]
        val = float(np.mean(vl))
        history.append({"epoch": epoch + 1, "steps": steps, "train_loss": round(total / steps, 5), "val_loss": round(val, 5), "seconds": round(time.time() - t_epoch)})
        log(f"epoch {epoch + 1}: {steps} steps, train {total / steps:.4f} validation {val:.4f} ({time.time() - t_epoch:.0f} s)")
        if val < best[0]:
            best = (val, {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}, epoch + 1)
    model = model.cpu()
    model.load_state_dict(best[1])

    training_calibration = fit_band_scale(model, hosts, split["val"], spec, 16 if a.smoke else 48, log)
    fixture_idx = val_idx[np.linspace(0, len(val_idx) - 1, 3).astype(int)]
    fixture = make_batch(hosts, fixture_idx, spec)
    for k in ("future", "valid"):
        fixture.pop(k)
    training = {
        "seed": a.seed,
        "smoke": a.smoke,
        "torch": torch.__version__,
        "device": str(device),
        "data": {
            "real_sources": sources,
            "simulator_csv": a.simulator_csv.name if a.simulator_csv else None,
            "simulator_args": a.simulator_args,
            "synthetic": {"shapes": SHAPES, "hosts_per_shape": per_shape, "days": days, "seed": a.seed, "generator": "foresight_tft2.synthetic"},
            "source_weights": {s: round(w, 3) for s, w in weights.items()},
            "step_seconds": STEP,
            "split": {
                "method": "by host (70/15/15 % of each source, seeded shuffle; real and simulator hosts as in v1) and by time "
                "(training windows' decoders end in the first 75 % of a training host's time; validation/test windows forecast its last 25 %)",
                "time_split": TIME_SPLIT,
                "hosts": split,
            },
            "training_windows_available": int(len(train_idx)),
            "event_windows_available": int(len(events)),
            "windows_seen": int(done * a.batch),
        },
        "epochs": history,
        "best_epoch": best[2],
        "best_val_loss": round(best[0], 5),
        "calibration": training_calibration,
        "minutes": round((time.time() - started) / 60, 1),
    }
    export(model, spec, a.out, fixture, training, "foresight-tft2-smoke" if a.smoke else "foresight-tft2")
    size = (a.out / "model.onnx").stat().st_size
    log(f"exported {a.out / 'model.onnx'} ({size / 1e6:.2f} MB), model.json, fixture.json in {training['minutes']} min; best epoch {best[2]}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    sys.exit(main(sys.argv[1:]))
