"""Foresight TFT v2: the Temporal Fusion Transformer of foresight_tft.modules, fed one server at
a time. Scaling stays inside the graph: serving feeds raw values in each metric's unit and gets
quantiles back in that unit, for every metric of the server at once.

Data flow of one forward pass (B servers, M metrics, Te encoder, Td decoder, T = Te + Td):
  per server, once: scaling of every metric, time features, the cross-metric "server" context
  per series (B*M rows): static selection -> temporal selection over [target, lag_day, lag_week,
  time] -> LSTM encoder/decoder -> static enrichment -> attention -> quantile head, around a
  per-step mix of naive forecasts that the shape gate leans towards a held level or a climb
"""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import torch
from torch import nn

from foresight_tft.model import LOG_CLAMP, SCALE_FLOOR
from foresight_tft.modules import (
    AddNorm,
    GatedLinearUnit,
    GatedResidualNetwork,
    InterpretableMultiHeadAttention,
    LstmEncoderDecoder,
    QuantileHead,
    StaticCovariateEncoders,
    VariableSelectionNetwork,
)

from .spec import DAY_STEPS, HOUR_STEPS, LOG_METRICS, ORIGIN_FEATURES, REGIME_LAGS_HOURS, SHAPE_FEATURES, SHAPE_GATE_HIDDEN, TREND_CLAMP, ModelSpecV2

HALF_HOUR = HOUR_STEPS // 2


def masked_mean(values: torch.Tensor, observed: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """[R,1] mean of the observed values of each row, and [R,1] how many were observed."""
    n = observed.sum(dim=1, keepdim=True)
    return (values * observed).sum(dim=1, keepdim=True) / n.clamp(min=1.0), n


def masked_median(values: torch.Tensor, observed: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """[R,1] median of the observed values of each row (the mean of the two middle ones for an even
    count), and [R,1] how many were observed; 0 for a row with none."""
    n = observed.sum(dim=1, keepdim=True)  # [R,1]
    ordered = torch.sort(values + 1e9 * (1.0 - observed), dim=1).values  # unobserved last
    lo = torch.clamp(torch.floor((n - 1.0) / 2.0), min=0.0).long()
    hi = torch.clamp(torch.floor(n / 2.0), min=0.0).long()
    mid = 0.5 * (ordered.gather(1, lo) + ordered.gather(1, hi))
    return mid * (n > 0).to(values.dtype), n


def last_hour_line(values: torch.Tensor, observed: torch.Tensor, steps: int = HOUR_STEPS) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """The least-squares line through the observed values of the last `steps` (default an hour) of
    each row ([R,Te] in): its slope per step, its value at the origin (the last step), the residuals'
    root mean square ([R,1] each) and whether at least three samples were observed ([R,1], 0 or 1)."""
    v, o = values[:, -steps:], observed[:, -steps:]  # [R,steps]
    x = torch.arange(v.shape[1], dtype=v.dtype, device=v.device).unsqueeze(0)  # [1,steps]
    xm, n = masked_mean(x + 0.0 * v, o)
    ym, _ = masked_mean(v, o)
    dx = (x - xm) * o
    sxx = (dx * dx).sum(dim=1, keepdim=True)
    slope = (dx * (v - ym)).sum(dim=1, keepdim=True) / sxx.clamp(min=1e-6)
    at_origin = ym + slope * (v.shape[1] - 1 - xm)
    resid = (v - ym - slope * (x - xm)) * o
    rms = torch.sqrt((resid * resid).sum(dim=1, keepdim=True) / n.clamp(min=1.0) + 1e-8)
    ok = (n >= 3).to(v.dtype)
    return slope * ok, at_origin, rms, ok


def slog(x: torch.Tensor) -> torch.Tensor:
    """sign(x) log(1 + |x|): signed magnitudes of any size on a scale a linear layer can use."""
    return torch.sign(x) * torch.log1p(torch.abs(x))


def shape_features(values: torch.Tensor, observed: torch.Tensor, bounds: torch.Tensor) -> torch.Tensor:
    """[R,SHAPE_FEATURES] scale-free descriptions of the last two hours ([R,Te] in, scaled units;
    bounds [R,2]: the scaled values of the metric's floor and ceiling): how straight the 1 h and 2 h
    least-squares lines are (R^2), their rise over the window against their residual noise, whether the
    two slopes agree, the room left towards the bound the line heads for (in units of the hour's rise),
    the step of the last 30 minutes from the hour before it against the 30 minutes' spread, and
    availability. What tells a steady climb or a held step from noise, whatever the series' scale."""
    feats, oks = [], []
    lines = []
    for steps in (HOUR_STEPS, 2 * HOUR_STEPS):
        slope, at_origin, rms, ok = last_hour_line(values, observed, steps)
        v, o = values[:, -steps:], observed[:, -steps:]
        mean, n = masked_mean(v, o)
        var = (((v - mean) * o) ** 2).sum(dim=1, keepdim=True) / n.clamp(min=1.0)
        feats += [(1.0 - rms * rms / (var + 1e-6)).clamp(0.0, 1.0) * ok, slog(slope * steps / (rms + 1e-3)) * ok]
        oks.append(ok)
        lines.append((slope, at_origin))
    (s1, a1), (s2, _) = lines
    agree = (s1 * s2) / (s1 * s1 + s2 * s2 + 1e-6) * 2.0  # 1 when the slopes are equal, <= 0 when they disagree in sign
    rise = (s1 * HOUR_STEPS).abs() + 1e-3
    room = (torch.where(s1 >= 0, bounds[:, 1:2] - a1, a1 - bounds[:, 0:1]).clamp(min=0.0) / rise).clamp(max=100.0)  # hours of this rise left (at most 100)
    recent, n_recent = masked_mean(values[:, -HALF_HOUR:], observed[:, -HALF_HOUR:])
    before, n_before = masked_mean(values[:, -3 * HALF_HOUR : -HALF_HOUR], observed[:, -3 * HALF_HOUR : -HALF_HOUR])
    dev = (values[:, -HALF_HOUR:] - recent) * observed[:, -HALF_HOUR:]
    spread = torch.sqrt((dev * dev).sum(dim=1, keepdim=True) / n_recent.clamp(min=1.0) + 1e-8)
    has_step = (n_recent > 0).to(values.dtype) * (n_before > 0).to(values.dtype)
    both = oks[0] * oks[1]
    feats += [agree * both, torch.log1p(room) * oks[0], slog((recent - before) / (spread + 1e-2)) * has_step, both]
    return torch.cat(feats, dim=1)


def origin_features(values: torch.Tensor, observed: torch.Tensor) -> torch.Tensor:
    """[R,ORIGIN_FEATURES] ([R,Te] in, scaled units): how far the last value and the median of the
    last three values (15 minutes) sit from the median of the six values before the last one, as
    sign(x) log(1 + |x|); 0 where those are not observed. A one-sample spike moves the first only; a
    step that has held for 15 minutes moves both."""
    base, n_base = masked_median(values[:, -7:-1], observed[:, -7:-1])
    recent, n_recent = masked_median(values[:, -3:], observed[:, -3:])
    has = (n_base > 0).to(values.dtype) * observed[:, -1:]
    return torch.cat([slog(values[:, -1:] - base) * has, slog(recent - base) * has * (n_recent > 0).to(values.dtype)], dim=1)


def widen_shape_gate(state: Dict[str, torch.Tensor], spec: ModelSpecV2) -> Dict[str, torch.Tensor]:
    """state (weights of a model without spec.origin_features) with zero input weights for the
    origin features inserted after the shape features, so the loaded model gates as before."""
    key = "shape_gate.0.weight"
    if not spec.origin_features or key not in state or state[key].shape[1] != SHAPE_FEATURES + len(spec.metrics) + spec.regime_width:
        return state
    w = state[key]
    out = dict(state)
    out[key] = torch.cat([w[:, :SHAPE_FEATURES], torch.zeros(w.shape[0], ORIGIN_FEATURES, dtype=w.dtype), w[:, SHAPE_FEATURES:]], dim=1)
    return out


# Input and output names, in order: the export contract (model.json repeats them).
INPUT_NAMES = ["history", "history_mask", "week", "week_mask", "known", "static_profile"]
OUTPUT_NAMES = ["quantiles", "static_weights", "encoder_weights", "decoder_weights", "attention"]


class LinearVariableSelection(VariableSelectionNetwork):
    """Variable selection whose per-variable transform is the input embedding itself (no
    per-variable GRN): the selection weights are the paper's (eq. 6), eq. 7's GRNs are dropped
    because they ran at every time step of every variable and dominated inference time."""

    def __init__(self, n_vars: int, d: int, dropout: float, d_context: Optional[int] = None):
        nn.Module.__init__(self)
        self.n_vars = n_vars
        self.weights_grn = GatedResidualNetwork(n_vars * d, d, n_vars, dropout, d_context)

    def forward(self, xi: torch.Tensor, c: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, torch.Tensor]:
        v = torch.softmax(self.weights_grn(xi.flatten(start_dim=-2), c), dim=-1)  # [B,T,V*H] -> [B,T,V]
        return (xi * v.unsqueeze(-1)).sum(dim=-2), v  # [B,T,V,H] x [B,T,V] -> [B,T,H]


class ServerScaler(nn.Module):
    """Per series scaling: percent metrics as x/100, load and network as log1p(x); standardised by
    the masked mean and std of the last day of 5-minute history. The week input is scaled with the
    same loc and scale, so a lag and the value it predicts are on one scale."""

    def __init__(self, spec: ModelSpecV2):
        super().__init__()
        is_log = torch.tensor([1.0 if m in LOG_METRICS else 0.0 for m in spec.metrics])
        self.register_buffer("is_log", is_log.view(1, 1, -1))  # [1,1,M]

    def transform(self, x: torch.Tensor) -> torch.Tensor:
        return self.is_log * torch.log1p(torch.relu(x)) + (1.0 - self.is_log) * (x / 100.0)

    def forward(self, history, history_mask, week, week_mask):
        z = self.transform(history) * history_mask  # [B,L,M]
        recent, recent_mask = z[:, -DAY_STEPS:], history_mask[:, -DAY_STEPS:]  # [B,288,M]
        n = recent_mask.sum(dim=1, keepdim=True).clamp(min=1.0)  # [B,1,M]
        loc = recent.sum(dim=1, keepdim=True) / n
        var = (((recent - loc) * recent_mask) ** 2).sum(dim=1, keepdim=True) / n
        scale = torch.sqrt(var + 1e-8) + SCALE_FLOOR  # [B,1,M]
        y = (z - loc) / scale * history_mask  # [B,L,M]
        w = (self.transform(week) - loc) / scale * week_mask  # [B,W,M]
        return y, w, loc, scale


def match_candidates(state: Dict[str, torch.Tensor], old: List[str], new: List[str]) -> Dict[str, torch.Tensor]:
    """state (weights trained with the naive candidates `old`) with the mix's and the shape gate's rows
    laid out for the candidates `new`, matched by name: a candidate kept keeps its rows; a new one
    starts with no input weights, the lowest bias the mix had and no gate shift, so the loaded model
    forecasts nearly as before and training decides what the new candidate is worth."""
    if old == new:
        return state
    out = dict(state)
    rows = {k: v for k, v in state.items() if k in ("naive_mix.weight", "naive_mix.bias", "shape_gate.2.weight", "shape_gate.2.bias")}
    for key, value in rows.items():
        blocks = 2 if key.startswith("shape_gate") else 1  # the gate: a shift per candidate, then a growth per candidate
        parts = []
        for b in range(blocks):
            block = value[b * len(old) : (b + 1) * len(old)]
            fill = block.min() if key == "naive_mix.bias" else 0.0
            parts += [block[old.index(n)] if n in old else torch.full_like(block[0], float(fill)) for n in new]
        out[key] = torch.stack(parts)
    return out


class ServerTemporalFusionTransformer(nn.Module):
    def __init__(self, spec: ModelSpecV2):
        super().__init__()
        self.spec = spec
        h, d = spec.hidden, spec.dropout
        te, td = spec.encoder_length, spec.decoder_length
        t = te + td
        n_metrics = len(spec.metrics)
        self.scaler = ServerScaler(spec)
        pos = torch.arange(t).unsqueeze(0)  # [1,T]
        qpos = torch.arange(te, t).unsqueeze(1)  # [Td,1]
        self.register_buffer("causal_mask", torch.where(pos <= qpos, 0.0, -1e9))  # [Td,T]
        self.register_buffer("week_lag_index", torch.tensor([spec.week_lag_index(p) for p in range(t)]))  # [T]
        # post-hoc band calibration (see foresight_tft.calibrate): per metric and decoder step; ones = uncalibrated
        self.register_buffer("band_scale", torch.ones(n_metrics, td))  # [M,Td]

        # embeddings
        self.profile_embedding = nn.Embedding(len(spec.profiles), h)
        self.metric_embedding = nn.Embedding(n_metrics, h)
        self.level_embedding = nn.Linear(1, h)
        self.spread_embedding = nn.Linear(1, h)
        self.week_embedding = nn.Linear(2 * spec.week_length + spec.regime_width, h)  # the scaled week and its mask, flattened (+ regime)
        self.summary_embedding = nn.Linear(2 * te + 2, h)  # one series' recent values, mask, level, spread
        self.server_grn = GatedResidualNetwork(h, h, h, d)
        self.target_embedding = nn.Linear(2, h)
        self.lag_day_embedding = nn.Linear(2, h)
        self.lag_week_embedding = nn.Linear(2, h)
        self.time_embedding = nn.Linear(len(spec.known), h)

        selection = VariableSelectionNetwork if spec.variable_grns else LinearVariableSelection
        self.static_selection = VariableSelectionNetwork(len(spec.static_variables), h, d)
        self.static_encoders = StaticCovariateEncoders(h, d)
        self.past_selection = selection(len(spec.past_variables), h, d, d_context=h)
        self.future_selection = selection(len(spec.future_variables), h, d, d_context=h)
        self.seq2seq = LstmEncoderDecoder(h, d, 1)
        self.static_enrichment = GatedResidualNetwork(h, h, h, d, d_context=h)
        self.attention = InterpretableMultiHeadAttention(h, spec.heads, d)
        self.attention_glu = GatedLinearUnit(h, h, d)
        self.attention_norm = AddNorm(h)
        self.positionwise = GatedResidualNetwork(h, h, h, d)
        self.output_glu = GatedLinearUnit(h, h, d)
        self.output_norm = AddNorm(h)
        self.head = QuantileHead(h, spec.quantiles)
        # per decoder step, weights of the naive candidates (spec.naive_candidates; spec.naive_skip)
        n_cands = len(spec.naive_candidates)
        self.naive_mix = nn.Linear(h + spec.regime_width, n_cands) if spec.naive_skip else None
        self.shape_gate = None
        if spec.naive_skip and spec.shape_gate:
            last = nn.Linear(SHAPE_GATE_HIDDEN, 2 * n_cands)  # per candidate: a shift, and one that grows along the decoder
            nn.init.zeros_(last.weight)
            nn.init.zeros_(last.bias)
            inputs = SHAPE_FEATURES + (ORIGIN_FEATURES if spec.origin_features else 0) + n_metrics + spec.regime_width
            self.shape_gate = nn.Sequential(nn.Linear(inputs, SHAPE_GATE_HIDDEN), nn.ELU(), last)
            self.register_buffer("decoder_fraction", torch.arange(1, td + 1, dtype=torch.float32).view(1, td, 1) / td)  # [1,Td,1]

    def forward(self, history, history_mask, week, week_mask, known, static_profile):
        """The exported graph: raw inputs of B servers in; quantiles [B,M,Td,Q] in metric units and
        the interpretability weights per series out."""
        m = len(self.spec.metrics)
        q, loc, scale, static_w, past_w, future_w, attn = self.normalised(history, history_mask, week, week_mask, known, static_profile)
        metric = self.metric_rows(history)  # [B*M]: row r is metric r mod M
        mid = q[..., self.spec.quantiles.index(0.5)].unsqueeze(-1)  # [B*M,Td,1]
        q = mid + self.band_scale[metric].unsqueeze(-1) * (q - mid)  # calibrated, still ordered
        z = loc.reshape(-1, 1, 1) + scale.reshape(-1, 1, 1) * q  # [B*M,Td,Q]
        is_log = (self.scaler.is_log.reshape(1, m) + 0.0 * history[:, 0, :]).reshape(-1, 1, 1)  # [B,M] -> [B*M,1,1]
        # back to metric units; both maps are monotone, so quantiles stay ordered
        pct = torch.clamp(z * 100.0, 0.0, 100.0)
        zlog = torch.clamp(z, 0.0, LOG_CLAMP)
        if self.spec.log_headroom > 0:  # no log-metric quantile above e^headroom x (1 + the history's largest value)
            seen = self.scaler.transform(history) * history_mask + (history_mask - 1.0) * 1e9  # [B,L,M], unobserved -> -1e9
            top = seen.max(dim=1).values.clamp(min=0.0).reshape(-1, 1, 1)  # [B*M,1,1]
            zlog = torch.minimum(zlog, top + self.spec.log_headroom)
        logv = torch.exp(zlog) - 1.0
        quantiles = is_log * logv + (1.0 - is_log) * pct
        td, nq = self.spec.decoder_length, len(self.spec.quantiles)
        return (
            quantiles.reshape(-1, m, td, nq),  # [B*M,Td,Q] -> [B,M,Td,Q]
            static_w.reshape(-1, m, static_w.shape[-1]),  # [B,M,Vs]
            past_w.mean(dim=1).reshape(-1, m, past_w.shape[-1]),  # [B,M,Vp]
            future_w.mean(dim=1).reshape(-1, m, future_w.shape[-1]),  # [B,M,Vf]
            attn.reshape(-1, m, attn.shape[-1]),  # [B*M,T] (the mean over decoder steps) -> [B,M,T]
        )

    def naive_base(self, out: torch.Tensor, target: torch.Tensor, lag_day: torch.Tensor, lag_week: torch.Tensor, regime: Optional[torch.Tensor], info: torch.Tensor) -> torch.Tensor:
        """[R,Td]: a learned convex mix per decoder step of the naive forecasts (spec.naive_candidates:
        the last observed value, the means of the last hour and of the encoder, the value one day and
        one week before; scaled units); unavailable candidates (mask 0) get no weight. info [R,2+M]: the
        metric's floor and ceiling in scaled units (spec.trend_bounds holds the trend candidate inside),
        then which metric the row is (one-hot, for the shape gate)."""
        bounds = info[:, :2]  # [R,2]
        level = masked_median if self.spec.median_candidates else masked_mean
        te = target.shape[1]
        values, observed = target[..., 0], target[..., 1]  # [R,Te] x2
        last_pos = (observed * torch.arange(1, te + 1, dtype=observed.dtype, device=observed.device)).argmax(dim=1, keepdim=True)  # [R,1]
        last = values.gather(1, last_pos)  # [R,1], 0 when nothing was observed
        has_last = observed.max(dim=1, keepdim=True).values  # [R,1]
        td = lag_day.shape[1]
        cands, avail = [last.expand(-1, td)], [has_last.expand(-1, td)]
        levels: Dict[int, Tuple[torch.Tensor, torch.Tensor]] = {}  # by the window's length: the day's is the encoder's when Te < a day

        def level_of_last(n: int) -> Tuple[torch.Tensor, torch.Tensor]:
            k = min(n, te)
            if k not in levels:
                levels[k] = level(values[:, -k:], observed[:, -k:])  # [R,1] x2, computed once per length (a median sorts)
            return levels[k]

        if self.spec.smooth_candidates:
            for n in (HOUR_STEPS, te) + ((DAY_STEPS,) if self.spec.day_mean_candidate else ()):
                mean, seen = level_of_last(n)
                cands.append(mean.expand(-1, td))
                avail.append((seen > 0).to(values.dtype).expand(-1, td))
        if self.spec.change_candidates:
            mean, seen = level(values[:, -HALF_HOUR:], observed[:, -HALF_HOUR:])
            cands.append(mean.expand(-1, td))
            avail.append((seen > 0).to(values.dtype).expand(-1, td))
            slope, at_origin, _, ok = last_hour_line(values, observed)
            ahead = torch.arange(1, td + 1, dtype=values.dtype, device=values.device).unsqueeze(0)  # [1,Td]
            trend = at_origin + torch.clamp(slope * ahead, -TREND_CLAMP, TREND_CLAMP)  # [R,Td]
            if self.spec.trend_bounds:
                trend = torch.minimum(torch.maximum(trend, bounds[:, 0:1]), bounds[:, 1:2])
            cands.append(trend)
            avail.append(ok.expand(-1, td))
        cands += [lag_day[..., 0], lag_week[..., 0]]
        avail += [lag_day[..., 1], lag_week[..., 1]]
        if self.spec.lag_median_candidate:
            ref, seen = level_of_last(HOUR_STEPS)  # [R,1] x2: the last hour's level
            a, b, c = ref.expand(-1, td), lag_day[..., 0], lag_week[..., 0]  # [R,Td] x3
            cands.append(torch.maximum(torch.minimum(a, b), torch.minimum(torch.maximum(a, b), c)))  # the middle one, exactly (no sums)
            avail.append((seen > 0).to(values.dtype) * lag_day[..., 1] * lag_week[..., 1])
        candidates, available = torch.stack(cands, dim=-1), torch.stack(avail, dim=-1)  # [R,Td,C] x2
        if self.spec.candidate_margin > 0:
            candidates = self.within_observed_range(candidates, values, observed)
        x = out if regime is None else torch.cat([out, regime.unsqueeze(1).expand(-1, td, -1)], dim=-1)  # [R,Td,H(+F)]
        logits = self.naive_mix(x)  # [R,Td,C]
        if self.shape_gate is not None:
            shape = [shape_features(values, observed, bounds)] + ([origin_features(values, observed)] if self.spec.origin_features else [])
            g = self.shape_gate(torch.cat(shape + [info[:, 2:]] + ([] if regime is None else [regime]), dim=1))  # [R,2C]
            g = 4.0 * torch.tanh(g / 4.0)  # at most 4 logits either way: an input far outside training cannot swamp the mix
            c = logits.shape[-1]
            logits = logits + g[:, :c].unsqueeze(1) + g[:, c:].unsqueeze(1) * self.decoder_fraction  # [R,Td,C]
        w = torch.softmax(logits + (available - 1.0) * 1e9, dim=-1) * available  # [R,Td,C]
        return (w * candidates).sum(dim=-1)  # [R,Td,C] -> [R,Td]

    def within_observed_range(self, candidates: torch.Tensor, values: torch.Tensor, observed: torch.Tensor) -> torch.Tensor:
        """candidates [R,Td,C] held within spec.candidate_margin scale units of the range the encoder
        observed (values, observed [R,Te]); a series with nothing observed is left as it is."""
        far = 1e9 * (1.0 - observed)
        lo = (values + far).min(dim=1).values - self.spec.candidate_margin  # [R]
        hi = (values - far).max(dim=1).values + self.spec.candidate_margin  # [R]
        none = (observed.max(dim=1).values <= 0).to(values.dtype)  # [R]
        lo = (lo * (1.0 - none) - 1e9 * none).reshape(-1, 1, 1)
        hi = (hi * (1.0 - none) + 1e9 * none).reshape(-1, 1, 1)
        return torch.minimum(torch.maximum(candidates, lo), hi)

    def regime(self, y: torch.Tensor, ym: torch.Tensor, w: torch.Tensor, wm: torch.Tensor, te: int) -> torch.Tensor:
        """[R,F]: per series (scaled units), log mean absolute error of the naive forecasts on the series'
        own history, each followed by its availability (0 when no pair of observed samples exists):
        5-minute persistence and the day lag over the encoder, the REGIME_LAGS_HOURS lags over the week;
        then (spec.change_features) the shape of the last hour, see change_features."""

        def err(a, am, b, bm):
            both = am * bm
            n = both.sum(dim=1, keepdim=True)  # [R,1]
            e = ((a - b).abs() * both).sum(dim=1, keepdim=True) / n.clamp(min=1.0)
            has = (n > 0).to(a.dtype)
            return [torch.log(e + 0.05) * has, has]

        feats = err(y[:, -te + 1 :], ym[:, -te + 1 :], y[:, -te:-1], ym[:, -te:-1])  # 5-minute persistence
        feats += err(y[:, -te:], ym[:, -te:], y[:, :te], ym[:, :te])  # the day lag over the encoder
        for k in REGIME_LAGS_HOURS:
            feats += err(w[:, k:], wm[:, k:], w[:, :-k], wm[:, :-k])
        if self.spec.change_features:
            feats += self.change_features(y[:, -te:], ym[:, -te:], feats[0])
        return torch.cat(feats, dim=1)

    @staticmethod
    def change_features(v: torch.Tensor, o: torch.Tensor, log_noise: torch.Tensor) -> List[torch.Tensor]:
        """[R,1] x5 of the encoder ([R,Te] in, scaled units): the last hour's line (slope per hour and
        residual spread), the step from the encoder before the last hour to the last 30 minutes in units
        of the 5-minute noise (log_noise: log(persistence error + 0.05)), the spread of the last 30
        minutes, and their availability. Signed magnitudes go through sign(x) log(1 + |x|)."""

        slope, _, rms, ok = last_hour_line(v, o)
        recent, n_recent = masked_mean(v[:, -HALF_HOUR:], o[:, -HALF_HOUR:])
        before, n_before = masked_mean(v[:, :-HOUR_STEPS], o[:, :-HOUR_STEPS])
        dev = (v[:, -HALF_HOUR:] - recent) * o[:, -HALF_HOUR:]
        spread = torch.sqrt((dev * dev).sum(dim=1, keepdim=True) / n_recent.clamp(min=1.0) + 1e-8)
        has = ok * (n_recent > 0).to(v.dtype) * (n_before > 0).to(v.dtype)
        step = (recent - before) / torch.exp(log_noise)  # exp(log(noise + 0.05)) = noise + 0.05
        return [slog(slope * HOUR_STEPS) * has, torch.log(rms + 0.05) * has, slog(step) * has, torch.log(spread + 0.05) * has, has]

    def metric_rows(self, history: torch.Tensor) -> torch.Tensor:
        """[B*M] int64: the metric index of each series row. Built from a tensor of the batch so the
        exported graph keeps the batch axis dynamic (an arange repeated B times would freeze B)."""
        m = len(self.spec.metrics)
        return (torch.zeros_like(history[:, 0, :], dtype=torch.long) + torch.arange(m, device=history.device)).reshape(-1)  # [B,M] -> [B*M]

    def normalised(self, history, history_mask, week, week_mask, known, static_profile, rows: Optional[torch.Tensor] = None):
        """The network in scaled units, per series row (row = server * M + metric). `rows` (training)
        keeps only those series after the per-server work. Returns quantiles [R,Td,Q] of
        (transform(x) - loc) / scale, loc and scale [R], and the interpretability weights."""
        s = self.spec
        te, td, t = s.encoder_length, s.decoder_length, s.total_length
        m, h = len(s.metrics), s.hidden
        y, w, loc, scale = self.scaler(history, history_mask, week, week_mask)  # [B,L,M], [B,W,M], [B,1,M] x2

        def per_series(x: torch.Tensor) -> torch.Tensor:
            return x.transpose(1, 2).reshape(-1, x.shape[1])  # [B,T,M] -> [B,M,T] -> [B*M,T]

        y_s, ym_s = per_series(y), per_series(history_mask)  # [B*M,L]
        w_s, wm_s = per_series(w), per_series(week_mask)  # [B*M,W]
        loc_s, scale_s = loc.reshape(-1, 1), scale.reshape(-1, 1)  # [B*M,1]
        # the metric's floor (0 in either transform) and ceiling (100 % = 1.0 for percent metrics; none for log ones) in scaled units
        is_log_s = (self.scaler.is_log.reshape(1, m) + 0.0 * history[:, 0, :]).reshape(-1, 1)  # [B*M,1]
        metric = self.metric_rows(history)  # [B*M]
        which = (metric.unsqueeze(1) == torch.arange(m, device=history.device).unsqueeze(0)).to(y.dtype)  # [B*M,M] one-hot
        info = torch.cat([-loc_s / scale_s, (1.0 - loc_s) / scale_s + is_log_s * 1e4, which], dim=1)  # [B*M,2+M]
        level, spread = loc_s, torch.log(scale_s)
        regime = self.regime(y_s, ym_s, w_s, wm_s, te) if s.regime_features else None  # [B*M,F]
        week_in = [w_s, wm_s] if regime is None else [w_s, wm_s, regime]

        # per server, once: the cross-metric context, the mean of its present metrics' summaries
        recent = torch.cat([y_s[:, -te:], ym_s[:, -te:], level, spread], dim=1)  # [B*M,2Te+2]
        summary = nn.functional.elu(self.summary_embedding(recent)).reshape(-1, m, h)  # [B,M,H]
        present = (ym_s[:, -te:].sum(dim=1) > 0).to(y.dtype).reshape(-1, m, 1)  # [B,M,1]
        server = (summary * present).sum(dim=1) / present.sum(dim=1).clamp(min=1.0)  # [B,H]
        server = self.server_grn(server)  # [B,H]
        profile = self.profile_embedding(static_profile)  # [B,H]

        def per_row(x: torch.Tensor) -> torch.Tensor:
            # [B,...] -> [B,M,...] -> [B*M,...]: the server's value for each of its metrics (expand, not
            # repeat_interleave, which PyTorch 1.13 exports with the batch size frozen)
            return x.unsqueeze(1).expand(x.shape[0], m, *x.shape[1:]).reshape(-1, *x.shape[1:])

        static = torch.stack(
            [
                per_row(profile),
                self.metric_embedding(metric),
                self.level_embedding(level),
                self.spread_embedding(spread),
                self.week_embedding(torch.cat(week_in, dim=1)),
                per_row(server),
            ],
            dim=1,
        )  # [B*M,6,H]
        target = torch.stack([y_s[:, -te:], ym_s[:, -te:]], dim=-1)  # [B*M,Te,2]
        lag_day = torch.stack([y_s[:, :t], ym_s[:, :t]], dim=-1)  # [B*M,T,2]: history[p] is one day before position p
        lag_week = torch.stack([w_s[:, self.week_lag_index], wm_s[:, self.week_lag_index]], dim=-1)  # [B*M,T,2]
        known_rows = per_row(known)  # [B*M,T,K]
        if rows is not None:
            static, target, lag_day, lag_week, known_rows = (x[rows] for x in (static, target, lag_day, lag_week, known_rows))
            loc_s, scale_s, info = loc_s[rows], scale_s[rows], info[rows]
            regime = None if regime is None else regime[rows]

        zeta, static_weights = self.static_selection(static)  # [R,H], [R,6]
        c_s, c_e, c_h, c_c = self.static_encoders(zeta)  # 4 x [R,H]
        past_in = [(target, self.target_embedding), (lag_day[:, :te], self.lag_day_embedding), (lag_week[:, :te], self.lag_week_embedding), (known_rows[:, :te], self.time_embedding)]
        future_in = [(lag_day[:, te:], self.lag_day_embedding), (lag_week[:, te:], self.lag_week_embedding), (known_rows[:, te:], self.time_embedding)]
        past, past_weights = self.past_selection.embedded(past_in, c_s.unsqueeze(1))  # [R,Te,H], [R,Te,4]
        future, future_weights = self.future_selection.embedded(future_in, c_s.unsqueeze(1))  # [R,Td,H], [R,Td,3]

        phi = self.seq2seq(past, future, c_h, c_c)  # [R,T,H]
        theta = self.static_enrichment(phi, c_e.unsqueeze(1))  # [R,T,H]
        attended, attention = self.attention(theta[:, te:], theta, self.causal_mask, mean_queries=True)  # [R,Td,H], [R,T]
        delta = self.attention_norm(self.attention_glu(attended), theta[:, te:])  # [R,Td,H]
        psi = self.positionwise(delta)  # [R,Td,H]
        out = self.output_norm(self.output_glu(psi), phi[:, te:])  # [R,Td,H]
        q = self.quantiles_of(out, target, lag_day[:, te:], lag_week[:, te:], regime, info)
        return q, loc_s.squeeze(1), scale_s.squeeze(1), static_weights, past_weights, future_weights, attention

    def quantiles_of(self, out: torch.Tensor, target: torch.Tensor, lag_day: torch.Tensor, lag_week: torch.Tensor, regime: Optional[torch.Tensor], info: torch.Tensor) -> torch.Tensor:
        """[R,Td,Q] in scaled units from the decoder's output [R,Td,H]: the quantile head around the
        naive mix (the last layers, which the second training phase fine-tunes on cached inputs)."""
        q = self.head(out)  # [R,Td,Q], normalised units, non-crossing
        if self.naive_mix is not None and self.spec.mix_median_log:
            is_log = torch.tensor([1.0 if m in LOG_METRICS else 0.0 for m in self.spec.metrics], dtype=q.dtype)
            row_log = (info[:, 2:] * is_log).sum(dim=1).view(-1, 1, 1)  # [R,1,1]: 1 on a log metric's row (info: one-hot metric)
            i50 = self.spec.quantiles.index(0.5)
            q = q - row_log * q[..., i50 : i50 + 1]
        if self.naive_mix is not None:
            q = q + self.naive_base(out, target, lag_day, lag_week, regime, info).unsqueeze(-1)  # same shift for every quantile: still ordered
        return q
