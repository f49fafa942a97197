"""`npm run train`: trains the shipped TFT reproducibly and exports it.

    /usr/bin/python3 -m foresight_tft.train --out models/foresight-tft-v1 --simulator-csv sim.csv
    /usr/bin/python3 -m foresight_tft.train --smoke --out /tmp/smoke --simulator-csv tiny.csv
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Dict, List

import numpy as np
import torch

from .calibrate import fit_band_scale
from .data import DEFAULT_DATA, REAL_SOURCES, STEP, TIME_SPLIT, Host, load_all, make_batch, split_hosts, window_index
from .export import export
from .model import INPUT_NAMES, TemporalFusionTransformer, scaled_target
from .spec import LOG_METRICS, ModelSpec, smoke_spec

def pinball(q: torch.Tensor, y: torch.Tensor, quantiles: List[float]) -> torch.Tensor:
    """Mean pinball loss: q [B,Td,Q] and y [B,Td] in the same (scaled) units."""
    levels = torch.tensor(quantiles, dtype=q.dtype).view(1, 1, -1)
    diff = y.unsqueeze(-1) - q  # [B,Td,Q]
    return torch.maximum(levels * diff, (levels - 1) * diff).mean()


def batch_loss(model: TemporalFusionTransformer, batch: Dict[str, np.ndarray]) -> torch.Tensor:
    tensors = {k: torch.from_numpy(v) for k, v in batch.items()}
    q, loc, scale, is_log, *_ = model.normalised(*(tensors[n] for n in INPUT_NAMES))
    y = scaled_target(model, tensors["future_target"], loc, scale, is_log)
    return pinball(q, y, model.spec.quantiles)


def log(msg: str) -> None:
    print(msg, flush=True)


def add_optimiser_args(p: argparse.ArgumentParser, *, epochs: int, windows_per_epoch: int, lr: float, seed: int) -> None:
    """--epochs, --windows-per-epoch, --batch, --lr, --seed: shared by v1 and v2 training, each with its own defaults."""
    p.add_argument("--epochs", type=int, default=epochs)
    p.add_argument("--windows-per-epoch", type=int, default=windows_per_epoch)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=lr)
    p.add_argument("--seed", type=int, default=seed)


def windows_by_source(hosts: List[Host], idx: np.ndarray) -> Dict[str, np.ndarray]:
    """The window index split by the hosts' data source (for equal shares per epoch)."""
    by_source: Dict[str, np.ndarray] = {}
    for s in sorted({h.source for h in hosts}):
        mask = np.array([hosts[hi].source == s for hi in idx[:, 0]])
        if mask.any():
            by_source[s] = idx[mask]
    return by_source


def seed_everything(seed: int, threads: int) -> None:
    """Same seed for Python, NumPy and torch; torch on `threads` CPU threads."""
    torch.set_num_threads(threads)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def main(argv: List[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--data", type=Path, default=DEFAULT_DATA)
    p.add_argument("--simulator-csv", type=Path, default=None)
    p.add_argument("--simulator-args", default="", help="how the simulator CSV was made (recorded in model.json)")
    p.add_argument("--smoke", action="store_true", help="tiny model and data: seconds, for the test suite")
    add_optimiser_args(p, epochs=8, windows_per_epoch=16000, lr=3e-3, seed=42)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--max-minutes", type=float, default=80.0, help="stop starting new epochs after this long")
    a = p.parse_args(argv)

    seed_everything(a.seed, a.threads)
    spec = smoke_spec() if a.smoke else ModelSpec()
    started = time.time()

    sources = [] if a.smoke else [s for s in REAL_SOURCES if (a.data / s).exists()]
    if not a.smoke:
        missing = [s for s in REAL_SOURCES if s not in sources]
        log(f"real traces from {a.data} (--data or $FORESIGHT_DATA): {', '.join(sources) or 'none'}"
            + (f"; not found, left out: {', '.join(missing)}" if missing else ""))
    hosts: List[Host] = load_all(a.data, a.simulator_csv, sources)
    if not hosts:
        log("error: no training data (no real traces found and no --simulator-csv)")
        return 2
    split = split_hosts(hosts, a.seed)
    stride = 6 if a.smoke else 12
    train_idx = window_index(hosts, split["train"], spec, "train", stride)
    val_idx = window_index(hosts, split["val"], spec, "holdout", spec.decoder_length)
    log(f"data: {len(hosts)} hosts ({', '.join(sorted({h.source for h in hosts}))}); "
        f"{len(train_idx)} training windows, {len(val_idx)} validation windows; {time.time() - started:.0f} s")
    if len(train_idx) == 0 or len(val_idx) == 0:
        log("error: not enough history for one training and one validation window")
        return 2

    rng = np.random.default_rng(a.seed)
    # balance sources: each source gets an equal share of every epoch
    by_source = windows_by_source(hosts, train_idx)
    val_sample = val_idx[rng.choice(len(val_idx), size=min(len(val_idx), 256 if a.smoke else 3000), replace=False)]

    model = TemporalFusionTransformer(spec)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=1e-4)
    epochs = 2 if a.smoke else a.epochs
    per_epoch = 256 if a.smoke else a.windows_per_epoch
    steps_per_epoch = max(1, per_epoch // a.batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=a.lr, total_steps=epochs * steps_per_epoch, pct_start=0.15)
    best = (float("inf"), None, -1)
    history = []
    for epoch in range(epochs):
        if epoch > 0 and (time.time() - started) / 60 > a.max_minutes:
            log(f"stopping after {epoch} epochs: --max-minutes {a.max_minutes} reached")
            break
        model.train()
        share = per_epoch // len(by_source)
        chosen = np.concatenate([idx[rng.choice(len(idx), size=share, replace=len(idx) < share)] for idx in by_source.values()])
        rng.shuffle(chosen)
        t_epoch, total = time.time(), 0.0
        for k in range(steps_per_epoch):
            batch = make_batch(hosts, chosen[k * a.batch : (k + 1) * a.batch], spec)
            loss = batch_loss(model, batch)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            total += float(loss)
            if k % 25 == 0 or k == steps_per_epoch - 1:
                log(f"epoch {epoch + 1}/{epochs} step {k + 1}/{steps_per_epoch} loss {total / (k + 1):.4f} ({time.time() - t_epoch:.0f} s)")
        model.eval()
        with torch.no_grad():
            vl = [float(batch_loss(model, make_batch(hosts, val_sample[i : i + 256], spec))) for i in range(0, len(val_sample), 256)]
        val = float(np.mean(vl))
        history.append({"epoch": epoch + 1, "train_loss": round(total / steps_per_epoch, 5), "val_loss": round(val, 5), "seconds": round(time.time() - t_epoch)})
        log(f"epoch {epoch + 1}: train {total / steps_per_epoch:.4f} validation {val:.4f} ({time.time() - t_epoch:.0f} s)")
        if val < best[0]:
            best = (val, {k: v.clone() for k, v in model.state_dict().items()}, epoch + 1)
    model.load_state_dict(best[1])
    calibration = fit_band_scale(model, hosts, split["val"], spec, stride, log)

    fixture_idx = val_idx[np.linspace(0, len(val_idx) - 1, 4).astype(int)]
    fixture = make_batch(hosts, fixture_idx, spec)
    fixture.pop("future_target")
    training = {
        "seed": a.seed,
        "smoke": a.smoke,
        "torch": torch.__version__,
        "data": {
            "real_sources": sources,
            "simulator_csv": a.simulator_csv.name if a.simulator_csv else None,
            "simulator_args": a.simulator_args,
            "step_seconds": STEP,
            "split": {
                "method": "by host (70/15/15 % of each source, seeded shuffle) and by time (training windows end in the first 75 % of a training host's time; validation/test windows forecast its last 25 %)",
                "time_split": TIME_SPLIT,
                "hosts": split,
            },
            "training_windows_available": int(len(train_idx)),
            "windows_seen": int(len(history) * steps_per_epoch * a.batch),
        },
        "epochs": history,
        "best_epoch": best[2],
        "best_val_loss": round(best[0], 5),
        "calibration": calibration,
        "minutes": round((time.time() - started) / 60, 1),
    }
    manifest = export(model, spec, a.out, fixture, training, "foresight-tft-smoke" if a.smoke else "foresight-tft")
    size = (a.out / "model.onnx").stat().st_size
    log(f"exported {a.out / 'model.onnx'} ({size / 1e6:.2f} MB), model.json, fixture.json in {training['minutes']} min; best epoch {best[2]}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    sys.exit(main(sys.argv[1:]))
