"""The v2 feature spec: the single declaration every size, input and `model.json` field derives from.

What changed from v1 (foresight_tft.spec), and why:
- One pass per server: the inputs are a server's metrics together ([B, T, M]); the graph
  forecasts every metric of the server ([B, M, Td, Q]). Per-server work (time features, the
  cross-metric context, the week context) is computed once and shared by its metrics.
- Seasonal lags as known-future inputs (DeepAR): the value one day and one week before every
  encoder and decoder step, so a daily on/off wave or a cron spike can be copied instead of
  averaged. The one-day lag comes from the 5-minute history, the one-week lag from a week of
  hourly samples (a second, cheap `query_range` at a 1 h step).
- A short 5-minute encoder (the lags carry seasonality): the encoder length dominates inference.
- Masks everywhere: hosts with less than a day or a week of history still get a forecast.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import List

from foresight_tft.spec import KNOWN_FEATURES, LOG_METRICS, METRICS, PERCENT_METRICS, PROFILES, QUANTILES

# Bumped whenever the inputs, outputs or their meaning change; the sidecar refuses another version.
CONTRACT_VERSION = 2
DAY_STEPS = 288  # 24 h of 5-minute steps
WEEK_HOURS = 168
HOUR_STEPS = 12
REGIME_LAGS_HOURS = [1, 4, 8, 24, 168]  # lags of the hourly week whose errors describe a series' regime
CHANGE_FEATURES = 5  # columns of the last hour's shape (spec.change_features)
SHAPE_FEATURES = 8  # columns of the shape gate's input (spec.shape_gate), besides the metric and the regime
ORIGIN_FEATURES = 2  # columns the shape gate's input gains with spec.origin_features
SHAPE_GATE_HIDDEN = 16
TREND_CLAMP = 30.0  # the trend candidate stays within this many scaled units of the line's last value


@dataclass
class ModelSpecV2:
    encoder_length: int = 72  # 6 h of 5-minute steps seen by the LSTM encoder and the attention
    decoder_length: int = 96  # 8 h
    step_seconds: int = 300
    week_step_seconds: int = 3600
    hidden: int = 32
    heads: int = 4
    dropout: float = 0.1
    # per-variable GRNs in the temporal variable selection (the TFT paper's eq. 7); False: the selection
    # weights the input embeddings themselves. The GRNs ran at every step of every variable (~17 % of
    # inference); without them, warm-started from a model with them, held-out accuracy was as good or
    # better and inference ~30 % faster (docs/model.md, VALIDATION.md)
    variable_grns: bool = False
    # quantiles around a learned per-step mix of the naive forecasts (last value, one day ago, one
    # week ago) instead of around 0: the network starts where seasonal naive and last value are and
    # learns corrections (run 1 without it, 130 steps, stayed worse than seasonal naive on on/off shapes)
    naive_skip: bool = True
    # two more naive candidates, the mean of the last hour and of the whole encoder (masked): on noisy
    # hosts a smoothed level beats the last value, which the mix otherwise anchors to
    smooth_candidates: bool = True
    # per series, how well each naive forecast did on its own history (log mean absolute error of the
    # 5-minute persistence and the day lag over the encoder, and of the 1, 4, 8, 24 and 168 h lags over
    # the hourly week, each with its availability): fed to the naive mix and the week embedding, so the
    # network can tell a daily on/off or cron host (day lag exact) from a noisy one (a level wins)
    regime_features: bool = True
    # a fifth smoothed candidate, the mean of the last day (masked): on noisy hosts whose level drifts
    # back over hours, the day's mean is the better long-horizon anchor than the encoder's 6 h
    day_mean_candidate: bool = True
    # training loss weights per decoder step that match the evaluation: MASE is scored over steps 1..H for
    # H = 30m, 1h, 2h, 4h and 8h, so step k counts in every horizon H >= k with weight 1/H; half of that
    # weighting, half uniform (so the far steps still learn); training only, the graph does not change
    horizon_weighted_loss: bool = True
    # log-scale metrics (load, network): no quantile above e^log_headroom x (1 + the largest value in the
    # history). Without a cap a flat series' small scale times a wide upper quantile exponentiates into
    # bands of 10^5 x the history (seen on Bitbrains network series). 0 = no cap (models before it).
    log_headroom: float = 1.0
    # two more naive candidates for changes that persist: the mean of the last 30 minutes (after a step
    # held 30 min it is all new level, where the hour's mean still mixes in the old one) and the least-squares
    # line of the last hour continued over the decoder (a ramp towards a threshold); without them the mix can
    # only revert to a smoothed level or copy a lag, and a held step or a climb is forecast to fade
    change_candidates: bool = True
    # per series, what the last hour looks like (scaled units): the slope of its least-squares line, the
    # line's residual spread, the step between the last 30 minutes and the encoder before the last hour
    # relative to the series' 5-minute noise, and the spread of the last 30 minutes; with an availability
    # flag. Fed with the regime errors, so the mix can tell a clean step or ramp from a noisy excursion
    change_features: bool = True
    # the trend candidate stops at what the metric can reach: a percent metric's line is held at 100 %
    # (and every metric's at 0) instead of running past it, so a climb to saturation is not punished for
    # the steps after it saturates (without it, training taught the mix that trends overshoot)
    trend_bounds: bool = True
    # a small network beside the naive mix that sees the shape of the last two hours in scale-free terms
    # (how straight the 1 h and 2 h lines are, their slopes against their noise, the room left to the
    # metric's bound, the step of the last 30 minutes) and shifts the mix's weights, per candidate, with
    # a part that grows along the decoder; its last layer starts at zero, so it begins as a no-op
    shape_gate: bool = True
    # every naive candidate is held within this many scale units (the last day's spread) of the range
    # the encoder observed: a lag that fell on an outlier (a zero in a series that has been busy all day,
    # hundreds of units away) would otherwise pull the mix with even a small weight; 0 = no limit
    candidate_margin: float = 10.0
    # the level candidates (last 30 min, hour, encoder, day) are medians of the observed values, not
    # means: the p50 is a median, and a mean taken after the log transform of a load or network series
    # that drops to 0 now and then sits far below both of its levels
    median_candidates: bool = True
    # one more candidate, the median of three per decoder step: the last hour's level, the value a day
    # before and the value a week before. A spike or a drop seen in only one of the two lags is left
    # out; a shape both lags show (a daily on/off load, a daily cron spike) is kept. On near-idle
    # hosts with rare, unrepeated spikes the mix copied a lagged spike that did not come back.
    lag_median_candidate: bool = True
    # for the log metrics (network, load), the p50 is the naive mix itself: the quantile head's
    # quantiles are shifted so that its median offset is 0 (still ordered). Measured on run 24's weights
    # without retraining (VALIDATION.md): on Bitbrains the head's offset made the p50 worse on network
    # series (bbrnd-146 1.7 x its best baseline); the Azure sources have no log metric. The shipped
    # model has it on (run 24 re-exported with it); off by default so that a run from other weights
    # trains as it was measured (its effect on training has not been measured).
    mix_median_log: bool = False
    # two more shape-gate inputs that tell a one-sample excursion at the origin from a step that has
    # held for a few samples: the last value's and the last 15 minutes' median's distance from the
    # median of the 30 minutes before the last sample. Without them the gate, trained to hold new
    # levels, read a single 77 x network spike at the origin as a step and held it (mix weight 0.97 on
    # the last value). Their weights start at zero when loaded from a model without them. On in the
    # shipped model (run 27); off by default so that a run from scratch trains as it was measured.
    origin_features: bool = False
    quantiles: List[float] = field(default_factory=lambda: list(QUANTILES))
    profiles: List[str] = field(default_factory=lambda: list(PROFILES))
    metrics: List[str] = field(default_factory=lambda: list(METRICS))
    known: List[str] = field(default_factory=lambda: list(KNOWN_FEATURES))

    @property
    def total_length(self) -> int:
        return self.encoder_length + self.decoder_length

    @property
    def history_length(self) -> int:
        """5-minute history fed per server: one day before the first encoder step, so the one-day lag
        of encoder position p is history[p] (and of decoder position p as well, up to a day ahead)."""
        return DAY_STEPS + self.encoder_length

    @property
    def week_length(self) -> int:
        """Hourly samples fed per server, the last at the origin: enough for the one-week lag of the
        first encoder position (7 days + the encoder, rounded up to whole hours, plus one)."""
        return WEEK_HOURS + -(-self.encoder_length // HOUR_STEPS) + 2

    def week_lag_index(self, p: int) -> int:
        """Index in the week input nearest to one week before position p (p at origin + (p - Te + 1) steps)."""
        s = p - self.encoder_length + 1  # steps after the origin
        hours_back = round((WEEK_HOURS * HOUR_STEPS - s) / HOUR_STEPS)
        return self.week_length - 1 - hours_back

    @property
    def naive_candidates(self) -> List[str]:
        smooth = (["mean_1h", "mean_encoder"] + (["mean_day"] if self.day_mean_candidate else [])) if self.smooth_candidates else []
        change = ["mean_30m", "trend_1h"] if self.change_candidates else []
        return ["last", *smooth, *change, "lag_day", "lag_week"] + (["median_lags"] if self.lag_median_candidate else [])

    def step_weights(self) -> List[float]:
        """Loss weight of each decoder step (mean 1): see horizon_weighted_loss."""
        td = self.decoder_length
        if not self.horizon_weighted_loss:
            return [1.0] * td
        horizons = [h for h in (6, 12, 24, 48, 96) if h <= td] or [td]
        mase = [sum(1.0 / h for h in horizons if h >= k) for k in range(1, td + 1)]
        total = sum(mase)
        return [0.5 + 0.5 * w * td / total for w in mase]

    @property
    def regime_width(self) -> int:
        """Columns of the regime features: a value and an availability flag per error."""
        if not self.regime_features:
            return 0
        return 2 * len(REGIME_LAGS_HOURS) + 4 + (CHANGE_FEATURES if self.change_features else 0)

    @property
    def past_variables(self) -> List[str]:
        return ["target", "lag_day", "lag_week", "time"]

    @property
    def future_variables(self) -> List[str]:
        return ["lag_day", "lag_week", "time"]

    @property
    def static_variables(self) -> List[str]:
        return ["profile", "metric", "level", "spread", "week", "server"]

    def to_json(self) -> dict:
        d = asdict(self)
        d["history_length"] = self.history_length
        d["week_length"] = self.week_length
        d["past_variables"] = self.past_variables
        d["future_variables"] = self.future_variables
        d["static_variables"] = self.static_variables
        d["naive_candidates"] = self.naive_candidates
        return d


# fields added after a model was exported, with the value that model was trained with
ADDED_FIELDS = {
    "naive_skip": False,
    "smooth_candidates": False,
    "regime_features": False,
    "day_mean_candidate": False,
    "horizon_weighted_loss": False,
    "log_headroom": 0.0,
    "change_candidates": False,
    "change_features": False,
    "trend_bounds": False,
    "shape_gate": False,
    "candidate_margin": 0.0,
    "median_candidates": False,
    "lag_median_candidate": False,
    "variable_grns": True,
}


def spec_from_json(d: dict) -> ModelSpecV2:
    """The spec recorded in a model.json (`spec`), for models exported by earlier versions of this code too."""
    fields = ModelSpecV2.__dataclass_fields__
    return ModelSpecV2(**{**ADDED_FIELDS, **{k: v for k, v in d.items() if k in fields}})


def smoke_spec() -> ModelSpecV2:
    """A tiny model for the smoke test: same structure and input lengths' rules, seconds to train."""
    return ModelSpecV2(encoder_length=24, decoder_length=12, hidden=8, heads=2)
