"""The Temporal Fusion Transformer assembled from modules.py, with scaling inside the graph:
serving feeds raw values in each metric's unit and gets quantiles back in that unit."""
from __future__ import annotations

from typing import Dict, Tuple

import torch
from torch import nn

from .modules import (
    AddNorm,
    GatedLinearUnit,
    GatedResidualNetwork,
    InterpretableMultiHeadAttention,
    LstmEncoderDecoder,
    QuantileHead,
    StaticCovariateEncoders,
    VariableSelectionNetwork,
)
from .spec import LOG_METRICS, ModelSpec

# Input and output names, in order: the export contract (model.json repeats them).
INPUT_NAMES = ["past_target", "past_target_mask", "past_observed", "past_observed_mask", "known", "static_profile", "static_metric"]
OUTPUT_NAMES = ["quantiles", "static_weights", "encoder_weights", "decoder_weights", "attention"]

SCALE_FLOOR = 0.01  # in transformed units: 1 percentage point, or ~1 % relative for log metrics
LOG_CLAMP = 25.0  # exp(25) ~ 7e10: caps log-metric forecasts far above any real NIC


class Scaler(nn.Module):
    """Per-window scaling of one kind of value: percent metrics as x/100, load and network as
    log1p(x); then standardised by the masked mean and std of the encoder window."""

    def forward(self, x: torch.Tensor, mask: torch.Tensor, is_log: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        # x, mask: [B,T] (or [B,T,M] with is_log [1,1,M]); is_log broadcast to x
        z = is_log * torch.log1p(torch.relu(x)) + (1.0 - is_log) * (x / 100.0)
        z = z * mask
        n = mask.sum(dim=1, keepdim=True).clamp(min=1.0)  # [B,1] / [B,1,M]
        loc = z.sum(dim=1, keepdim=True) / n
        var = (((z - loc) * mask) ** 2).sum(dim=1, keepdim=True) / n
        scale = torch.sqrt(var + 1e-8) + SCALE_FLOOR
        return (z - loc) / scale * mask, loc, scale


class TemporalFusionTransformer(nn.Module):
    def __init__(self, spec: ModelSpec):
        super().__init__()
        self.spec = spec
        h = spec.hidden
        d = spec.dropout
        n_metrics = len(spec.metrics)
        is_log = torch.tensor([1.0 if m in LOG_METRICS else 0.0 for m in spec.metrics])
        self.register_buffer("metric_is_log", is_log)  # [M]
        te, td = spec.encoder_length, spec.decoder_length
        t = te + td
        # decoder step i sits at position te+i and may attend to positions <= te+i
        pos = torch.arange(t).unsqueeze(0)  # [1,T]
        qpos = torch.arange(te, t).unsqueeze(1)  # [Td,1]
        self.register_buffer("causal_mask", torch.where(pos <= qpos, 0.0, -1e9))  # [Td,T]
        # post-hoc band calibration (calibrate.py, fitted on validation hosts after training):
        # every quantile's distance from p50 is multiplied by band_scale[profile, step] > 0, which
        # keeps the quantiles ordered. Ones = uncalibrated; training never touches it.
        self.register_buffer("band_scale", torch.ones(len(spec.profiles), td))  # [P,Td]
        self.scaler = Scaler()

        # input embeddings: one per variable (value and presence for observed ones)
        self.profile_embedding = nn.Embedding(len(spec.profiles), h)
        self.metric_embedding = nn.Embedding(n_metrics, h)
        self.level_embedding = nn.Linear(1, h)
        self.spread_embedding = nn.Linear(1, h)
        self.target_embedding = nn.Linear(2, h)
        self.observed_embeddings = nn.ModuleList([nn.Linear(2, h) for _ in spec.metrics])
        self.known_embeddings = nn.ModuleList([nn.Linear(1, h) for _ in spec.known])

        n_static = 4
        self.static_selection = VariableSelectionNetwork(n_static, h, d)
        self.static_encoders = StaticCovariateEncoders(h, d)
        self.past_selection = VariableSelectionNetwork(len(spec.past_variables), h, d, d_context=h)
        self.future_selection = VariableSelectionNetwork(len(spec.future_variables), h, d, d_context=h)
        self.seq2seq = LstmEncoderDecoder(h, d, spec.lstm_layers)
        self.static_enrichment = GatedResidualNetwork(h, h, h, d, d_context=h)
        self.attention = InterpretableMultiHeadAttention(h, spec.heads, d)
        self.attention_glu = GatedLinearUnit(h, h, d)
        self.attention_norm = AddNorm(h)
        self.positionwise = GatedResidualNetwork(h, h, h, d)
        self.output_glu = GatedLinearUnit(h, h, d)
        self.output_norm = AddNorm(h)
        self.head = QuantileHead(h, spec.quantiles)

    def forward(
        self,
        past_target: torch.Tensor,
        past_target_mask: torch.Tensor,
        past_observed: torch.Tensor,
        past_observed_mask: torch.Tensor,
        known: torch.Tensor,
        static_profile: torch.Tensor,
        static_metric: torch.Tensor,
    ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """The exported graph: raw inputs in, quantiles in metric units and interpretability weights out."""
        q, loc, scale, is_log, static_weights, past_weights, future_weights, attention = self.normalised(
            past_target, past_target_mask, past_observed, past_observed_mask, known, static_profile, static_metric
        )
        q = self.calibrated(q, static_profile)
        z = loc.unsqueeze(-1) + scale.unsqueeze(-1) * q  # [B,1,1] broadcast -> [B,Td,Q]
        log_flag = is_log.unsqueeze(-1)  # [B,1,1]
        # back to metric units; both maps are monotone, so quantiles stay ordered
        pct = torch.clamp(z * 100.0, 0.0, 100.0)
        logv = torch.exp(torch.clamp(z, 0.0, LOG_CLAMP)) - 1.0
        quantiles = log_flag * logv + (1.0 - log_flag) * pct
        return (
            quantiles,
            static_weights,
            past_weights.mean(dim=1),  # [B,Vp]
            future_weights.mean(dim=1),  # [B,Vf]
            attention.mean(dim=1),  # [B,T]: how much each position mattered to the forecast
        )

    def calibrated(self, q: torch.Tensor, static_profile: torch.Tensor) -> torch.Tensor:
        """q [B,Td,Q] in scaled units -> the same with each band around p50 widened or narrowed by
        band_scale (monotone for any positive scale, so quantiles still cannot cross)."""
        mid = q[..., self.spec.quantiles.index(0.5)].unsqueeze(-1)  # [B,Td,1]
        return mid + self.band_scale[static_profile].unsqueeze(-1) * (q - mid)

    def normalised(
        self,
        past_target: torch.Tensor,  # [B,Te] raw, metric units
        past_target_mask: torch.Tensor,  # [B,Te] 1 = observed
        past_observed: torch.Tensor,  # [B,Te,M] the server's metrics, raw, in spec.metrics order
        past_observed_mask: torch.Tensor,  # [B,Te,M]
        known: torch.Tensor,  # [B,T,K] known-future features over encoder + decoder
        static_profile: torch.Tensor,  # [B] int64
        static_metric: torch.Tensor,  # [B] int64
    ):
        """The network in scaled units: quantiles [B,Td,Q] of (transform(x) - loc) / scale, the
        scaling (loc, scale, is_log), and the interpretability weights. Training's loss lives here."""
        te = self.spec.encoder_length
        is_log = self.metric_is_log[static_metric].unsqueeze(1)  # [B] -> [B,1]
        y, loc, scale = self.scaler(past_target, past_target_mask, is_log)  # [B,Te], [B,1], [B,1]
        # the target's own slot among the observed metrics would duplicate it: mask it out
        own = nn.functional.one_hot(static_metric, len(self.spec.metrics)).to(past_observed_mask.dtype)  # [B,M]
        obs_mask = past_observed_mask * (1.0 - own.unsqueeze(1))  # [B,Te,M]
        obs, _, _ = self.scaler(past_observed, obs_mask, self.metric_is_log.view(1, 1, -1))  # [B,Te,M]

        # static variables: profile, metric kind, level and spread of the target window
        static = torch.stack(
            [
                self.profile_embedding(static_profile),
                self.metric_embedding(static_metric),
                self.level_embedding(loc),
                self.spread_embedding(torch.log(scale)),
            ],
            dim=1,
        )  # [B,4,H]
        zeta, static_weights = self.static_selection(static)  # [B,H], [B,4]
        c_s, c_e, c_h, c_c = self.static_encoders(zeta)  # 4 x [B,H]

        past_vars = [self.target_embedding(torch.stack([y, past_target_mask], dim=-1))]  # [B,Te,2] -> [B,Te,H]
        for j, emb in enumerate(self.observed_embeddings):
            past_vars.append(emb(torch.stack([obs[..., j], obs_mask[..., j]], dim=-1)))
        known_vars = [emb(known[..., k : k + 1]) for k, emb in enumerate(self.known_embeddings)]  # K x [B,T,H]
        past_vars += [v[:, :te] for v in known_vars]
        past_in = torch.stack(past_vars, dim=2)  # [B,Te,Vp,H]
        future_in = torch.stack([v[:, te:] for v in known_vars], dim=2)  # [B,Td,Vf,H]
        past, past_weights = self.past_selection(past_in, c_s.unsqueeze(1))  # [B,Te,H], [B,Te,Vp]
        future, future_weights = self.future_selection(future_in, c_s.unsqueeze(1))  # [B,Td,H], [B,Td,Vf]

        phi = self.seq2seq(past, future, c_h, c_c)  # [B,T,H]
        theta = self.static_enrichment(phi, c_e.unsqueeze(1))  # [B,T,H]
        attended, attention = self.attention(theta[:, te:], theta, self.causal_mask)  # [B,Td,H], [B,Td,T]
        delta = self.attention_norm(self.attention_glu(attended), theta[:, te:])  # [B,Td,H]
        psi = self.positionwise(delta)  # [B,Td,H]
        out = self.output_norm(self.output_glu(psi), phi[:, te:])  # [B,Td,H]
        q = self.head(out)  # [B,Td,Q], normalised units, non-crossing

        return q, loc, scale, is_log, static_weights, past_weights, future_weights, attention


def scaled_target(model: TemporalFusionTransformer, future: torch.Tensor, loc, scale, is_log) -> torch.Tensor:
    """The future target in the model's normalised units (the space its quantiles and loss live in)."""
    z = is_log * torch.log1p(torch.relu(future)) + (1.0 - is_log) * (future / 100.0)
    return (z - loc) / scale
