"""Export: model.onnx (flat, named, fixed-order tensors; only the batch axis is dynamic),
weights.pt, model.json (the serving contract) and fixture.json (inputs + expected outputs)."""
from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Dict

import numpy as np
import onnx
import torch

from .model import INPUT_NAMES, OUTPUT_NAMES, TemporalFusionTransformer
from .spec import LOG_METRICS, PERCENT_METRICS, ModelSpec

OPSET = 17
# Parity tolerance, asserted in Python (PyTorch vs fixture) and in the sidecar (onnxruntime-node
# vs fixture): |a - b| <= ATOL + RTOL * |b|, in the metric's units.
PARITY_ATOL = 1e-3
PARITY_RTOL = 1e-3


def input_shapes(spec: ModelSpec) -> Dict[str, list]:
    te, t, m, k = spec.encoder_length, spec.total_length, len(spec.metrics), len(spec.known)
    return {
        "past_target": ["batch", te],
        "past_target_mask": ["batch", te],
        "past_observed": ["batch", te, m],
        "past_observed_mask": ["batch", te, m],
        "known": ["batch", t, k],
        "static_profile": ["batch"],
        "static_metric": ["batch"],
    }


def output_shapes(spec: ModelSpec) -> Dict[str, list]:
    return {
        "quantiles": ["batch", spec.decoder_length, len(spec.quantiles)],
        "static_weights": ["batch", len(spec.static_variables) + 2],
        "encoder_weights": ["batch", len(spec.past_variables)],
        "decoder_weights": ["batch", len(spec.future_variables)],
        "attention": ["batch", spec.total_length],
    }


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def export(model: TemporalFusionTransformer, spec: ModelSpec, out: Path, fixture_batch: Dict[str, np.ndarray], training: dict, name: str) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    model.eval()
    example = tuple(torch.from_numpy(fixture_batch[n]) for n in INPUT_NAMES)
    onnx_path = out / "model.onnx"
    dynamic = {n: {0: "batch"} for n in INPUT_NAMES + OUTPUT_NAMES}
    torch.onnx.export(
        model, example, str(onnx_path), input_names=INPUT_NAMES, output_names=OUTPUT_NAMES,
        dynamic_axes=dynamic, opset_version=OPSET, do_constant_folding=True,
    )
    onnx.checker.check_model(onnx.load(str(onnx_path)))
    torch.save(model.state_dict(), out / "weights.pt")

    with torch.no_grad():
        expected = model(*example)
    fixture = {
        "tolerance": {"atol": PARITY_ATOL, "rtol": PARITY_RTOL},
        "inputs": {n: {"shape": list(fixture_batch[n].shape), "dtype": str(fixture_batch[n].dtype), "data": fixture_batch[n].ravel().tolist()} for n in INPUT_NAMES},
        "outputs": {n: {"shape": list(t.shape), "data": [round(float(x), 6) for x in t.numpy().ravel()]} for n, t in zip(OUTPUT_NAMES, expected)},
    }
    (out / "fixture.json").write_text(json.dumps(fixture, separators=(",", ":")) + "\n")

    shapes_in, shapes_out = input_shapes(spec), output_shapes(spec)
    manifest = {
        "name": name,
        "contract_version": 1,
        "format": "onnx",
        "version": time.strftime("%Y%m%d", time.gmtime()),
        "architecture": "temporal-fusion-transformer",
        "opset": OPSET,
        "checksum": {"algorithm": "sha256", "model.onnx": sha256(onnx_path)},
        "encoder_length": spec.encoder_length,
        "decoder_length": spec.decoder_length,
        "step_seconds": spec.step_seconds,
        "quantiles": spec.quantiles,
        "inputs": [{"name": n, "dtype": "int64" if n.startswith("static_") else "float32", "shape": shapes_in[n]} for n in INPUT_NAMES],
        "outputs": [{"name": n, "dtype": "float32", "shape": shapes_out[n]} for n in OUTPUT_NAMES],
        "features": {
            "static": [
                {"name": "profile", "role": "static", "type": "categorical", "input": "static_profile", "vocabulary": spec.profiles},
                {"name": "metric", "role": "static", "type": "categorical", "input": "static_metric", "vocabulary": spec.metrics},
                {"name": "level", "role": "static", "type": "derived", "description": "mean of the scaled target over the encoder (computed in the graph)"},
                {"name": "spread", "role": "static", "type": "derived", "description": "log std of the scaled target over the encoder (computed in the graph)"},
            ],
            "known": [
                {"name": n, "role": "known", "input": "known", "index": i} for i, n in enumerate(spec.known)
            ],
            "known_encoding": {
                "times": "position p (0..encoder_length+decoder_length-1) is at origin + (p - encoder_length + 1) * step_seconds; origin = time of the last encoder step, unix seconds, UTC",
                "tod_sin": "sin(2*pi*(t mod 86400)/86400)",
                "tod_cos": "cos(2*pi*(t mod 86400)/86400)",
                "dow_sin": "sin(2*pi*((floor(t/86400)+4) mod 7)/7)",
                "dow_cos": "cos(2*pi*((floor(t/86400)+4) mod 7)/7)",
            },
            "observed": [
                {"name": "target", "role": "observed", "input": "past_target", "mask": "past_target_mask"},
            ] + [
                {"name": f"observed_{m}", "role": "observed", "input": "past_observed", "index": i, "mask": "past_observed_mask", "metric": m}
                for i, m in enumerate(spec.metrics)
            ],
            "past_variables": spec.past_variables,
            "future_variables": spec.future_variables,
            "static_weights_order": ["profile", "metric", "level", "spread"],
        },
        "scaling": {
            "where": "inside the graph: feed raw values in the metric's unit; quantiles come back in that unit",
            "percent_metrics": PERCENT_METRICS,
            "log_metrics": LOG_METRICS,
            "transform": {"percent": "x/100, outputs clamped to 0-100", "log": "log1p(max(x,0)), outputs >= 0"},
            "standardisation": "per window: masked mean and std of the transformed encoder values",
            "missing": "mask 0 where a value is missing (its value is ignored); the target's own slot in past_observed is masked in the graph",
        },
        "spec": spec.to_json(),
        "training": training,
        "parity": {"atol": PARITY_ATOL, "rtol": PARITY_RTOL, "fixture": "fixture.json"},
        "evaluation": None,
    }
    (out / "model.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def parity_errors(actual: np.ndarray, expected: np.ndarray) -> int:
    """Number of elements outside the parity tolerance."""
    return int((np.abs(actual - expected) > PARITY_ATOL + PARITY_RTOL * np.abs(expected)).sum())
