"""The feature spec: the single declaration every size, input and `model.json` field derives from.

Serving (the sidecar) feeds raw values in the metric's own unit; scaling happens inside the
graph (see model.Scaler), so this spec is all the sidecar needs to build inputs.
"""
from __future__ import annotations

from dataclasses import dataclass, field, asdict
from typing import List

# Contract names (README "Profiles" and "Default metrics"): profiles and metric kinds, in vocabulary order.
PROFILES = ["ml_compute", "database", "web_api", "conductor_mgmt", "data_ingest", "risk_analytics", "generic"]
METRICS = ["cpu", "memory", "disk", "iowait", "load", "network"]
# Metrics bounded to 0-100 (clamped in the graph); the others are >= 0 and modelled in log1p space.
PERCENT_METRICS = ["cpu", "memory", "disk", "iowait"]
LOG_METRICS = ["load", "network"]
QUANTILES = [0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95]
# Known-future inputs: time of day and day of week as sin/cos pairs (UTC).
KNOWN_FEATURES = ["tod_sin", "tod_cos", "dow_sin", "dow_cos"]


@dataclass
class ModelSpec:
    """Sizes and features of one TFT. Everything else (tensor shapes, model.json) derives from it."""

    encoder_length: int = 288  # 24 h of 5-minute steps
    decoder_length: int = 96  # 8 h
    step_seconds: int = 300
    hidden: int = 32
    heads: int = 4
    dropout: float = 0.1
    lstm_layers: int = 1
    quantiles: List[float] = field(default_factory=lambda: list(QUANTILES))
    profiles: List[str] = field(default_factory=lambda: list(PROFILES))
    metrics: List[str] = field(default_factory=lambda: list(METRICS))
    known: List[str] = field(default_factory=lambda: list(KNOWN_FEATURES))

    @property
    def total_length(self) -> int:
        return self.encoder_length + self.decoder_length

    @property
    def past_variables(self) -> List[str]:
        """Variables the encoder's variable selection weighs, in order: the target, the
        server's metrics (the target's own slot is masked out), then the known inputs."""
        return ["target"] + [f"observed_{m}" for m in self.metrics] + self.known

    @property
    def future_variables(self) -> List[str]:
        return list(self.known)

    @property
    def static_variables(self) -> List[str]:
        return ["profile", "metric"]

    def to_json(self) -> dict:
        d = asdict(self)
        d["past_variables"] = self.past_variables
        d["future_variables"] = self.future_variables
        d["static_variables"] = self.static_variables
        return d


def smoke_spec() -> ModelSpec:
    """A tiny model for the smoke test: same structure, seconds to train."""
    return ModelSpec(encoder_length=48, decoder_length=12, hidden=8, heads=2)
