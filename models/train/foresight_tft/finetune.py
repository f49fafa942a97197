"""Fine-tunes a trained TFT so it continues sustained ramps (memory leaks, disks filling).

The 60 incidents in the simulator history are ~0.03 % of its windows, so the base model learns
mean reversion and, on an incident ramp, never forecasts the crossing (eval:risk showed p90
time-to-breach staying at +Inf until the threshold was crossed). This pass mixes windows whose
forecast origin lies on an incident ramp of a *training* host (never a validation or test host)
into every batch with the ordinary balanced windows, at a low learning rate, then re-fits the
band calibration and re-exports.

    /usr/bin/python3 -m foresight_tft.finetune --model models/foresight-tft --simulator-csv sim.csv
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Dict, List

import numpy as np
import torch

from .calibrate import fit_band_scale
from .data import DEFAULT_DATA, STEP, load_all, make_batch, window_index
from .export import export
from .model import TemporalFusionTransformer
from .spec import METRICS, ModelSpec
from .train import REAL_SOURCES, add_optimiser_args, batch_loss, seed_everything, windows_by_source


def incident_windows(hosts, train_names, incidents, spec: ModelSpec) -> np.ndarray:
    """[N,3] windows (host, metric, start) whose origin is on an incident's ramp or just after."""
    names = set(train_names)
    index = {h.name: i for i, h in enumerate(hosts) if h.source == "simulator"}
    rows = []
    for inc in incidents:
        hi = index.get(inc["instance"])
        if hi is None or inc["instance"] not in names:
            continue
        h = hosts[hi]
        mi = METRICS.index(inc["metric"])
        first = int((inc["onset"] - h.start) // STEP) + 4  # 20 min into the ramp
        last = int((inc["crossing"] - h.start) // STEP) + 6
        for origin in range(first, last + 1):
            s = origin - spec.encoder_length + 1
            if s >= 0 and s + spec.total_length <= h.length:
                rows.append((hi, mi, s))
    return np.array(rows, dtype=np.int64).reshape(-1, 3)


def main(argv: List[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", type=Path, required=True)
    p.add_argument("--data", type=Path, default=DEFAULT_DATA)
    p.add_argument("--simulator-csv", type=Path, required=True)
    add_optimiser_args(p, epochs=6, windows_per_epoch=6000, lr=3e-4, seed=43)
    p.add_argument("--incident-share", type=float, default=0.25)
    a = p.parse_args(argv)
    seed_everything(a.seed, 2)
    started = time.time()

    manifest = json.loads((a.model / "model.json").read_text())
    training = manifest["training"]
    spec = ModelSpec(**{k: v for k, v in manifest["spec"].items() if k in ModelSpec.__dataclass_fields__})
    model = TemporalFusionTransformer(spec)
    model.load_state_dict(torch.load(a.model / "weights.pt"))
    model.band_scale.fill_(1.0)  # calibration is re-fitted after fine-tuning
    sources = [s for s in REAL_SOURCES if s in training["data"]["real_sources"]]
    hosts = load_all(a.data, a.simulator_csv, sources)
    split = training["data"]["split"]["hosts"]
    incidents = json.loads(Path(str(a.simulator_csv) + ".incidents.json").read_text())
    ramps = incident_windows(hosts, split["train"], incidents, spec)
    train_idx = window_index(hosts, split["train"], spec, "train", 12)
    val_idx = window_index(hosts, split["val"], spec, "holdout", spec.decoder_length)
    val_ramps = incident_windows(hosts, split["val"], incidents, spec)
    print(f"fine-tune: {len(ramps)} incident-ramp windows on training hosts, {len(train_idx)} ordinary; "
          f"{len(val_ramps)} ramp windows on validation hosts", flush=True)
    rng = np.random.default_rng(a.seed)
    by_source = windows_by_source(hosts, train_idx)
    val_sample = val_idx[rng.choice(len(val_idx), size=min(len(val_idx), 2000), replace=False)]

    def evaluate() -> Dict[str, float]:
        model.eval()
        with torch.no_grad():
            ordinary = float(np.mean([float(batch_loss(model, make_batch(hosts, val_sample[i : i + 256], spec))) for i in range(0, len(val_sample), 256)]))
            ramp = float(np.mean([float(batch_loss(model, make_batch(hosts, val_ramps[i : i + 256], spec))) for i in range(0, len(val_ramps), 256)])) if len(val_ramps) else float("nan")
        return {"ordinary": round(ordinary, 5), "ramps": round(ramp, 5)}

    before = evaluate()
    print(f"validation loss before: {before}", flush=True)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=1e-4)
    steps = a.windows_per_epoch // a.batch
    n_ramp = int(a.batch * a.incident_share)
    history = []
    for epoch in range(a.epochs):
        model.train()
        share = (a.windows_per_epoch - steps * n_ramp) // len(by_source)
        chosen = np.concatenate([idx[rng.choice(len(idx), size=share, replace=len(idx) < share)] for idx in by_source.values()])
        rng.shuffle(chosen)
        per = a.batch - n_ramp
        total = 0.0
        for k in range(steps):
            part = chosen[k * per : (k + 1) * per]
            rb = ramps[rng.choice(len(ramps), size=n_ramp, replace=True)]
            loss = batch_loss(model, make_batch(hosts, np.concatenate([part, rb]), spec))
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            total += float(loss)
        v = evaluate()
        history.append({"epoch": epoch + 1, "train_loss": round(total / steps, 5), "val_loss": v})
        print(f"fine-tune epoch {epoch + 1}/{a.epochs}: train {total / steps:.4f} validation {v} ({time.time() - started:.0f} s)", flush=True)

    training["finetune"] = {
        "purpose": "continue sustained ramps: incident-ramp windows of training hosts mixed into every batch",
        "incident_ramp_windows": int(len(ramps)),
        "incident_share": a.incident_share,
        "lr": a.lr,
        "seed": a.seed,
        "validation_before": before,
        "epochs": history,
        "minutes": round((time.time() - started) / 60, 1),
    }
    training["calibration"] = fit_band_scale(model, hosts, split["val"], spec, 12)
    fixture = make_batch(hosts, val_idx[np.linspace(0, len(val_idx) - 1, 4).astype(int)], spec)
    fixture.pop("future_target")
    export(model, spec, a.model, fixture, training, manifest["name"])
    print(f"exported {a.model} in {(time.time() - started) / 60:.1f} min", flush=True)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    sys.exit(main(sys.argv[1:]))
