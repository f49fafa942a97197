"""Export of v2: model.onnx (flat, named, fixed-order tensors; only the batch axis, servers, is
dynamic), weights.pt, model.json (the serving contract, with its contract_version) and
fixture.json (inputs + expected outputs, the same tolerance as v1)."""
from __future__ import annotations

import contextlib
import json
import time
import warnings
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

import numpy as np
import onnx
import torch
from torch import nn

from foresight_tft.export import OPSET, PARITY_ATOL, PARITY_RTOL, sha256
from foresight_tft.modules import GatedLinearUnit
from foresight_tft.spec import LOG_METRICS, PERCENT_METRICS

from .model import INPUT_NAMES, OUTPUT_NAMES, LinearVariableSelection, ServerTemporalFusionTransformer
from .spec import CONTRACT_VERSION, DAY_STEPS, ModelSpecV2


@contextlib.contextmanager
def linears_as_gemm() -> Iterator[None]:
    """While exporting: every nn.Linear applied to an input of rank > 2 is traced as reshape to 2-D,
    linear, reshape back, so ONNX gets one Gemm with its bias added inside the product, where the
    tracer would otherwise write MatMul then Add. Measured on the 2-core machine: the separate bias
    Adds took ~11 % of CPU inference. Same arithmetic; only axis 0 (the batch) is dynamic, so the
    other axes are fixed in the graph (the tracer warns that it treats them as constants)."""
    plain = nn.Linear.forward

    def as_gemm(x: torch.Tensor, *layers: Tuple[torch.Tensor, Optional[torch.Tensor]]) -> List[torch.Tensor]:
        """Each (weight, bias) applied to x flattened to 2-D once, the results shaped back."""
        kept = [int(n) for n in x.shape[1:-1]]
        flat = x.reshape(-1, int(x.shape[-1]))
        return [nn.functional.linear(flat, w, b).reshape([-1] + kept + [w.shape[0]]) for w, b in layers]

    def forward(self: nn.Linear, x: torch.Tensor) -> torch.Tensor:
        return plain(self, x) if x.dim() <= 2 else as_gemm(x, (self.weight, self.bias))[0]

    def glu(self: GatedLinearUnit, x: torch.Tensor) -> torch.Tensor:
        # the value and the gate as two products (halves of the weights) instead of one product
        # sliced in two: the slices were copies (~3 % of inference). Export is in eval mode: no dropout.
        w, b = self.fc.weight, self.fc.bias
        d = w.shape[0] // 2
        value, gate = as_gemm(x, (w[:d], b[:d]), (w[d:], b[d:]))
        return value * torch.sigmoid(gate)

    def embedded(self: LinearVariableSelection, parts: List[Tuple[torch.Tensor, nn.Linear]], c: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, torch.Tensor]:
        # Everything before the selection weights' ELU, and the weighted sum itself, is linear in the
        # raw inputs (a few per variable), so the embeddings fold into those layers' weights: no
        # [R,T,V,H] stack of embedded variables, and the first products read D = sum(d_v) inputs, not
        # V*H. Measured on the 2-core machine: the stack, its weighting and sum took ~7 % of inference.
        # the folded weights, computed in numpy so that the tracer records them as constants
        weight = [e.weight.detach().numpy().astype(np.float64) for _, e in parts]  # [H, d_v] each
        bias = [e.bias.detach().numpy().astype(np.float64) for _, e in parts]  # [H] each
        grn = self.weights_grn
        embed = block_diag(weight)  # [V*H, D]: the flat embedding is embed x + concat(bias)
        flat_bias = np.concatenate(bias)  # [V*H]

        def fold(layer: nn.Linear) -> Tuple[torch.Tensor, torch.Tensor]:
            w, b = layer.weight.detach().numpy().astype(np.float64), layer.bias.detach().numpy().astype(np.float64)
            return const(w @ embed), const(w @ flat_bias + b)

        first, skip = fold(grn.fc2), fold(grn.skip)  # [Hd, D] and [V, D], with their biases
        spread = const(block_diag([np.ones((1, int(x.shape[-1]))) for x, _ in parts]).T)  # [D, V]: variable v's weight onto its inputs
        # sum_v w_v (A_v x_v + b_v) = [A_1 .. A_V] (w spread over x) + [b_1 .. b_V] w
        combine = const(np.concatenate([np.concatenate(weight, axis=1), np.stack(bias, axis=1)], axis=1))  # [H, D+V]
        x = torch.cat([raw for raw, _ in parts], dim=-1)  # [R,T,D]
        eta2, = as_gemm(x, first)
        if grn.context is not None and c is not None:
            eta2 = eta2 + grn.context(c)
        eta1 = grn.fc1(grn.elu(eta2))
        skipped, = as_gemm(x, skip)
        w = torch.softmax(grn.add_norm(grn.glu(eta1), skipped), dim=-1)  # [R,T,V]
        spread_w, = as_gemm(w, (spread, None))  # [R,T,V] -> [R,T,D]
        selected, = as_gemm(torch.cat([spread_w * x, w], dim=-1), (combine, None))  # [R,T,H]
        return selected, w

    def const(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))

    def block_diag(blocks: List[np.ndarray]) -> np.ndarray:
        out = np.zeros((sum(b.shape[0] for b in blocks), sum(b.shape[1] for b in blocks)))
        r = c = 0
        for b in blocks:
            out[r : r + b.shape[0], c : c + b.shape[1]] = b
            r, c = r + b.shape[0], c + b.shape[1]
        return out

    plain_glu = GatedLinearUnit.forward
    plain_embedded = LinearVariableSelection.embedded
    nn.Linear.forward = forward  # type: ignore[method-assign]
    GatedLinearUnit.forward = glu  # type: ignore[method-assign]
    LinearVariableSelection.embedded = embedded  # type: ignore[method-assign]
    try:
        yield
    finally:
        nn.Linear.forward = plain  # type: ignore[method-assign]
        GatedLinearUnit.forward = plain_glu  # type: ignore[method-assign]
        LinearVariableSelection.embedded = plain_embedded  # type: ignore[method-assign]


def export_onnx(model: ServerTemporalFusionTransformer, example: tuple, onnx_path: Path) -> None:
    """model.onnx from the model in eval mode (the TorchScript exporter, opset OPSET, batch axis dynamic)."""
    # PyTorch 2.x exports with dynamo by default; this graph is written for the TorchScript exporter
    legacy = {"dynamo": False} if int(torch.__version__.split(".")[0]) >= 2 else {}
    with linears_as_gemm(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
        torch.onnx.export(
            model, example, str(onnx_path), input_names=INPUT_NAMES, output_names=OUTPUT_NAMES,
            dynamic_axes={n: {0: "batch"} for n in INPUT_NAMES + OUTPUT_NAMES}, opset_version=OPSET, do_constant_folding=True, **legacy,
        )
    onnx.checker.check_model(onnx.load(str(onnx_path)))


def input_shapes(spec: ModelSpecV2) -> Dict[str, list]:
    m = len(spec.metrics)
    return {
        "history": ["batch", spec.history_length, m],
        "history_mask": ["batch", spec.history_length, m],
        "week": ["batch", spec.week_length, m],
        "week_mask": ["batch", spec.week_length, m],
        "known": ["batch", spec.total_length, len(spec.known)],
        "static_profile": ["batch"],
    }


def output_shapes(spec: ModelSpecV2) -> Dict[str, list]:
    m = len(spec.metrics)
    return {
        "quantiles": ["batch", m, spec.decoder_length, len(spec.quantiles)],
        "static_weights": ["batch", m, len(spec.static_variables)],
        "encoder_weights": ["batch", m, len(spec.past_variables)],
        "decoder_weights": ["batch", m, len(spec.future_variables)],
        "attention": ["batch", m, spec.total_length],
    }


def export(model: ServerTemporalFusionTransformer, spec: ModelSpecV2, out: Path, fixture_batch: Dict[str, np.ndarray], training: dict, name: str) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    model.eval()
    example = tuple(torch.from_numpy(fixture_batch[n]) for n in INPUT_NAMES)
    onnx_path = out / "model.onnx"
    torch.save(model.state_dict(), out / "weights.pt")  # first: the weights survive an export failure
    export_onnx(model, example, onnx_path)
    with torch.no_grad():
        expected = model(*example)
    fixture = {
        "tolerance": {"atol": PARITY_ATOL, "rtol": PARITY_RTOL},
        "inputs": {n: {"shape": list(fixture_batch[n].shape), "dtype": str(fixture_batch[n].dtype), "data": [round(float(x), 6) if fixture_batch[n].dtype != np.int64 else int(x) for x in fixture_batch[n].ravel()]} for n in INPUT_NAMES},
        "outputs": {n: {"shape": list(t.shape), "data": [round(float(x), 6) for x in t.numpy().ravel()]} for n, t in zip(OUTPUT_NAMES, expected)},
    }
    (out / "fixture.json").write_text(json.dumps(fixture, separators=(",", ":")) + "\n")

    shapes_in, shapes_out = input_shapes(spec), output_shapes(spec)
    te, ln, wn = spec.encoder_length, spec.history_length, spec.week_length
    manifest = {
        "name": name,
        "contract_version": CONTRACT_VERSION,
        "format": "onnx",
        "version": time.strftime("%Y%m%d", time.gmtime()),
        "architecture": "temporal-fusion-transformer, one pass per server",
        "opset": OPSET,
        "checksum": {"algorithm": "sha256", "model.onnx": sha256(onnx_path)},
        "encoder_length": te,
        "decoder_length": spec.decoder_length,
        "history_length": ln,
        "week_length": wn,
        "step_seconds": spec.step_seconds,
        "week_step_seconds": spec.week_step_seconds,
        "quantiles": spec.quantiles,
        "metrics": spec.metrics,
        "inputs": [{"name": n, "dtype": "int64" if n.startswith("static_") else "float32", "shape": shapes_in[n]} for n in INPUT_NAMES],
        "outputs": [{"name": n, "dtype": "float32", "shape": shapes_out[n]} for n in OUTPUT_NAMES],
        "features": {
            "static": [
                {"name": "profile", "role": "static", "type": "categorical", "input": "static_profile", "vocabulary": spec.profiles},
                {"name": "metric", "role": "static", "type": "categorical", "vocabulary": spec.metrics,
                 "description": "not an input: axis 1 of every output is the metric, in this order"},
                {"name": "level", "role": "static", "type": "derived", "description": "mean of the scaled series over the last day (computed in the graph)"},
                {"name": "spread", "role": "static", "type": "derived", "description": "log std of the scaled series over the last day (computed in the graph)"},
                {"name": "week", "role": "static", "type": "derived", "description": "the scaled week input (computed in the graph)"},
                {"name": "server", "role": "static", "type": "derived", "description": "the server's metrics together, computed once per server (in the graph)"},
            ],
            "known": [{"name": n, "role": "known", "input": "known", "index": i} for i, n in enumerate(spec.known)],
            "known_encoding": {
                "times": "position p (0..encoder_length+decoder_length-1) is at origin + (p - encoder_length + 1) * step_seconds; origin = time of the last encoder step, unix seconds, UTC",
                "tod_sin": "sin(2*pi*(t mod 86400)/86400)",
                "tod_cos": "cos(2*pi*(t mod 86400)/86400)",
                "dow_sin": "sin(2*pi*((floor(t/86400)+4) mod 7)/7)",
                "dow_cos": "cos(2*pi*((floor(t/86400)+4) mod 7)/7)",
            },
            "history_encoding": f"history[:, i, m] is metric m at origin - ({ln - 1} - i) * step_seconds (oldest first, the last row is the origin); mask 0 where missing or older than the host's data",
            "week_encoding": f"week[:, j, m] is metric m sampled at origin - ({wn - 1} - j) * week_step_seconds (a query_range at a 1 h step ending at the origin); mask 0 where missing",
            "lags": {
                "lag_day": f"one day before position p: history[p] (computed in the graph; history covers {DAY_STEPS} steps before the first encoder step)",
                "lag_week": "one week before position p: the nearest hourly sample of week (computed in the graph)",
            },
            "past_variables": spec.past_variables,
            "future_variables": spec.future_variables,
            "static_weights_order": spec.static_variables,
        },
        "scaling": {
            "where": "inside the graph: feed raw values in the metric's unit; quantiles come back in that unit",
            "percent_metrics": PERCENT_METRICS,
            "log_metrics": LOG_METRICS,
            "transform": {"percent": "x/100, outputs clamped to 0-100", "log": "log1p(max(x,0)), outputs >= 0"},
            "standardisation": f"per series: masked mean and std of the transformed last {DAY_STEPS} history steps; the week input uses the same",
            "missing": "mask 0 where a value is missing (its value is ignored); a metric with no observed encoder step gets a forecast the server should not use",
        },
        "spec": spec.to_json(),
        "training": training,
        "parity": {"atol": PARITY_ATOL, "rtol": PARITY_RTOL, "fixture": "fixture.json"},
        "evaluation": None,
    }
    (out / "model.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest
