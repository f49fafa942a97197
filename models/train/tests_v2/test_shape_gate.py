"""The layers the second training phase moves: the naive candidates (medians, bounded trend, held
near the observed range), the shape gate and the features it reads. Independent of any exported model (a small freshly initialised network).

    /usr/bin/python3 -m unittest tests_v2.test_shape_gate   (in models/train)
"""
import unittest

import numpy as np
import torch

from foresight_tft.spec import METRICS
from foresight_tft2.model import INPUT_NAMES, ServerTemporalFusionTransformer, match_candidates, origin_features, shape_features, widen_shape_gate
from foresight_tft2.spec import ModelSpecV2, smoke_spec

CPU = METRICS.index("cpu")


def climbing_server(spec: ModelSpecV2) -> list:
    """One server whose cpu sat at 20 % for a day and has climbed to 80 % in the last two hours
    (2.6 points every 5 minutes; the other metrics flat): the model's raw inputs."""
    ln, wn, m = spec.history_length, spec.week_length, len(spec.metrics)
    history = np.full((1, ln, m), 30.0, dtype=np.float32)
    rng = np.random.default_rng(0)
    cpu = 20.0 + rng.normal(0, 0.3, ln)
    cpu[-24:] = np.linspace(20.0, 80.0, 24)
    history[0, :, CPU] = np.clip(cpu, 0, 100)
    week = np.full((1, wn, m), 30.0, dtype=np.float32)
    week[0, :, CPU] = 20.0
    known = np.zeros((1, spec.total_length, len(spec.known)), dtype=np.float32)
    return [torch.from_numpy(history), torch.ones(1, ln, m), torch.from_numpy(week), torch.ones(1, wn, m), torch.from_numpy(known), torch.zeros(1, dtype=torch.long)]


def trend_only(model: ServerTemporalFusionTransformer) -> None:
    """Every weight of the mix on the trend candidate and no correction around it, so the p50 is the candidate."""
    with torch.no_grad():
        model.naive_mix.weight.zero_()
        model.naive_mix.bias.fill_(-30.0)
        model.naive_mix.bias[model.spec.naive_candidates.index("trend_1h")] = 30.0
        model.head.fc.weight.zero_()
        model.head.fc.bias.zero_()


NETWORK = METRICS.index("network")


def candidate_only(model: ServerTemporalFusionTransformer, name: str) -> None:
    """Every weight of the mix on one candidate and no correction around it, so the p50 is that candidate."""
    with torch.no_grad():
        model.naive_mix.weight.zero_()
        model.naive_mix.bias.fill_(-30.0)
        model.naive_mix.bias[model.spec.naive_candidates.index(name)] = 30.0
        model.head.fc.weight.zero_()
        model.head.fc.bias.zero_()


def dropping_network_server(spec: ModelSpecV2, zeros_every: int = 4, week_value: float = 4600.0) -> list:
    """One server whose network runs at ~4,600 B/s and reads 0 every `zeros_every`-th sample (a VM
    whose traffic stops now and then), with the week's hourly samples at `week_value`."""
    ln, wn, m = spec.history_length, spec.week_length, len(spec.metrics)
    rng = np.random.default_rng(2)
    history = np.full((1, ln, m), 30.0, dtype=np.float32)
    net = 4600.0 + rng.normal(0, 50, ln)
    net[::zeros_every] = 0.0
    net[-1] = 4600.0
    history[0, :, NETWORK] = net
    week = np.full((1, wn, m), 30.0, dtype=np.float32)
    week[0, :, NETWORK] = week_value
    known = np.zeros((1, spec.total_length, len(spec.known)), dtype=np.float32)
    return [torch.from_numpy(history), torch.ones(1, ln, m), torch.from_numpy(week), torch.ones(1, wn, m), torch.from_numpy(known), torch.zeros(1, dtype=torch.long)]


def idle_network_server(spec: ModelSpecV2, day_spike: bool, week_spike: bool) -> list:
    """One server whose network idles at ~100 B/s, with a 50,000 B/s burst over the whole decoder's
    span one day before (day_spike) and one week before (week_spike)."""
    ln, wn, m, te, td = spec.history_length, spec.week_length, len(spec.metrics), spec.encoder_length, spec.decoder_length
    rng = np.random.default_rng(3)
    history = np.full((1, ln, m), 30.0, dtype=np.float32)
    history[0, :, NETWORK] = 100.0 + rng.normal(0, 5, ln)
    if day_spike:
        history[0, te : te + td, NETWORK] = 50000.0  # history[p] is one day before position p
    week = np.full((1, wn, m), 30.0, dtype=np.float32)
    week[0, :, NETWORK] = 100.0
    if week_spike:
        week[0, [spec.week_lag_index(te + s) for s in range(td)], NETWORK] = 50000.0
    known = np.zeros((1, spec.total_length, len(spec.known)), dtype=np.float32)
    return [torch.from_numpy(history), torch.ones(1, ln, m), torch.from_numpy(week), torch.ones(1, wn, m), torch.from_numpy(known), torch.zeros(1, dtype=torch.long)]


class ShapeGateTest(unittest.TestCase):
    def model(self, **changes) -> ServerTemporalFusionTransformer:
        torch.manual_seed(0)
        spec = ModelSpecV2(**{**smoke_spec().__dict__, **changes})
        return ServerTemporalFusionTransformer(spec).eval()

    def test_the_trend_candidate_stops_at_the_metrics_ceiling(self):
        # a climb of 31 points an hour continued for the decoder would pass 100 %; in scaled units the
        # ceiling is (1 - loc) / scale, and the p50 on the trend alone must stay at or under it
        for bounded in (True, False):
            model = self.model(trend_bounds=bounded)
            trend_only(model)
            inputs = climbing_server(model.spec)
            with torch.no_grad():
                q, loc, scale, *_ = model.normalised(*inputs)
            row = CPU  # one server: row = metric
            ceiling = (1.0 - float(loc[row])) / float(scale[row])
            top = float(q[row, :, model.spec.quantiles.index(0.5)].max())
            if bounded:
                self.assertLessEqual(top, ceiling + 1e-4)
            else:
                self.assertGreater(top, ceiling + 0.5, "without the bound the line runs past 100 % (the test would not see a missing bound)")

    def test_a_level_candidate_is_the_median_so_occasional_zeros_do_not_sink_it(self):
        # network at ~4,600 B/s with a quarter of its samples at 0: in the log space the model works in,
        # the mean sits near exp(0.75 log 4600) ~ 560 B/s, below both levels; the median is the busy level
        for median in (True, False):
            model = self.model(median_candidates=median)
            candidate_only(model, "mean_encoder")
            with torch.no_grad():
                p50 = model(*dropping_network_server(model.spec))[0][0, NETWORK, :, model.spec.quantiles.index(0.5)]
            if median:
                self.assertTrue(bool(((p50 > 4000) & (p50 < 5200)).all()), f"median level: {p50[:3]}")
            else:
                self.assertLess(float(p50.max()), 1500.0, "the mean must sink (else the test would not see a missing median)")

    def test_a_lag_far_outside_the_observed_range_is_held_near_it(self):
        # a week whose hourly samples were 0 (the host was idle, or the samples are garbage) while the
        # encoder saw ~4,600 B/s throughout: on the week lag alone, the p50 stays within the margin
        for margin in (10.0, 0.0):
            model = self.model(candidate_margin=margin)
            candidate_only(model, "lag_week")
            inputs = dropping_network_server(model.spec, zeros_every=10**6, week_value=0.0)
            with torch.no_grad():
                q, loc, scale, *_ = model.normalised(*inputs)
            p50 = q[NETWORK, :, model.spec.quantiles.index(0.5)]
            lowest_seen = (float(torch.log1p(inputs[0][0, -model.spec.encoder_length :, NETWORK]).min()) - float(loc[NETWORK])) / float(scale[NETWORK])
            if margin:
                self.assertGreaterEqual(float(p50.min()), lowest_seen - margin - 1e-3)
            else:
                self.assertLess(float(p50.min()), lowest_seen - 3 * 10.0, "unbounded, the zero lag is far below (else the test would not see a missing bound)")

    def test_a_fresh_shape_gate_changes_no_forecast(self):
        # its last layer starts at zero: weights trained without a gate load and forecast as before
        with_gate, without = self.model(shape_gate=True), self.model(shape_gate=False)
        without.load_state_dict(with_gate.state_dict(), strict=False)
        inputs = climbing_server(with_gate.spec)
        with torch.no_grad():
            a, b = with_gate(*inputs)[0], without(*inputs)[0]
        self.assertTrue(torch.allclose(a, b, atol=1e-6))
        with torch.no_grad():
            with_gate.shape_gate[2].bias[with_gate.spec.naive_candidates.index("trend_1h")] = 3.0
            c = with_gate(*inputs)[0]
        self.assertFalse(torch.allclose(a, c, atol=1e-3), "a trained gate must be able to move the forecast")

    def test_shape_features_tell_a_straight_climb_from_noise(self):
        te = 72
        x = torch.arange(te, dtype=torch.float32)
        rng = np.random.default_rng(1)
        climb = 0.1 * x + torch.from_numpy(rng.normal(0, 0.02, te).astype(np.float32))
        noise = torch.from_numpy(rng.normal(0, 1.0, te).astype(np.float32))
        values = torch.stack([climb, noise])
        bounds = torch.tensor([[-5.0, 20.0], [-5.0, 20.0]])
        f = shape_features(values, torch.ones_like(values), bounds)
        self.assertEqual(tuple(f.shape), (2, 8))
        r2_hour, rise_hour = f[:, 0], f[:, 1]
        self.assertGreater(float(r2_hour[0]), 0.95)
        self.assertLess(float(r2_hour[1]), 0.6)
        self.assertGreater(float(rise_hour[0]), float(rise_hour[1].abs()) + 2.0)
        # room: the climb's line is at ~7.1 and rises 1.2 per hour, so ~10.7 hours to the ceiling of 20
        self.assertAlmostEqual(float(torch.expm1(f[0, 5])), (20.0 - 7.1) / 1.2, delta=0.5)


    def test_the_lag_median_keeps_a_burst_only_when_both_lags_show_it(self):
        # a burst one day before but not one week before is not repeated (a one-off); one both lags
        # show is (a daily job); on the median candidate alone the p50 follows that rule
        model = self.model()
        candidate_only(model, "median_lags")
        for day, week, repeated in ((True, False, False), (False, True, False), (True, True, True)):
            with torch.no_grad():
                p50 = model(*idle_network_server(model.spec, day, week))[0][0, NETWORK, :, model.spec.quantiles.index(0.5)]
            if repeated:
                self.assertGreater(float(p50.min()), 20000.0, f"a burst both lags show is kept: {p50[:3]}")
            else:
                self.assertLess(float(p50.max()), 300.0, f"day {day}, week {week}: a burst one lag shows is left out: {p50[:3]}")
        model = self.model()
        candidate_only(model, "lag_day")
        with torch.no_grad():
            p50 = model(*idle_network_server(model.spec, True, False))[0][0, NETWORK, :, model.spec.quantiles.index(0.5)]
        self.assertGreater(float(p50.min()), 20000.0, "the day lag alone copies the burst (else the test would not see the median's effect)")

    def test_weights_from_fewer_candidates_load_with_their_rows_matched_by_name(self):
        # a model trained without the lag median, loaded into one with it: the old candidates keep
        # their rows; with the new candidate's bias far down the forecasts are the old ones
        without = self.model(lag_median_candidate=False)
        with torch.no_grad():
            without.shape_gate[2].bias.normal_()  # a trained gate: its rows must land on the same candidates
            without.shape_gate[2].weight.normal_()
        old, new = without.spec.naive_candidates, self.model().spec.naive_candidates
        self.assertEqual(new, old + ["median_lags"])
        state = match_candidates(without.state_dict(), old, new)
        widened = self.model()
        widened.load_state_dict(state)
        inputs = climbing_server(widened.spec)
        with torch.no_grad():
            self.assertTrue(bool((widened.naive_mix.weight[new.index("median_lags")] == 0).all()))
            self.assertEqual(float(widened.naive_mix.bias[-1]), float(without.naive_mix.bias.min()))
            widened.naive_mix.bias[new.index("median_lags")] = -1e4
            self.assertTrue(torch.allclose(widened(*inputs)[0], without(*inputs)[0], atol=1e-4))
        self.assertIs(match_candidates(state, new, new), state)


class MixMedianLogTest(unittest.TestCase):
    """spec.mix_median_log: on the log metrics' rows the p50 is the naive mix itself; other rows are unchanged."""

    def test_p50_is_the_mix_on_log_rows_only(self):
        import dataclasses

        torch.manual_seed(0)
        spec = smoke_spec()
        on = ServerTemporalFusionTransformer(dataclasses.replace(spec, mix_median_log=True)).eval()
        off = ServerTemporalFusionTransformer(spec).eval()
        off.load_state_dict(on.state_dict())
        with torch.no_grad():
            on.head.fc.bias.add_(0.3)  # a head whose median sits clearly off the mix
            off.head.fc.bias.add_(0.3)
        x = climbing_server(spec)
        got = {}
        for name, m in (("on", on), ("off", off)):
            inner = m.naive_base

            def grab(*a, _inner=inner, _name=name):
                got[_name + " base"] = _inner(*a)
                return got[_name + " base"]

            m.naive_base = grab
            with torch.no_grad():
                got[name] = m.normalised(*x)[0]  # [R,Td,Q] scaled units
        i50 = spec.quantiles.index(0.5)
        from foresight_tft.spec import LOG_METRICS

        for r, metric in enumerate(spec.metrics):
            with self.subTest(metric=metric):
                if metric in LOG_METRICS:
                    self.assertTrue(torch.allclose(got["on"][r, :, i50], got["on base"][r], atol=1e-5))
                    self.assertFalse(torch.allclose(got["off"][r, :, i50], got["off base"][r], atol=1e-3))
                else:
                    self.assertTrue(torch.allclose(got["on"][r], got["off"][r], atol=1e-6))
                qs = got["on"][r]
                self.assertTrue(bool((qs[:, 1:] >= qs[:, :-1] - 1e-6).all()))  # still ordered


class OriginFeaturesTest(unittest.TestCase):
    """spec.origin_features: the shape gate sees whether the origin's jump is one sample or has held."""

    def test_a_one_sample_spike_moves_only_the_first_feature_and_a_held_step_both(self):
        flat = [0.0] * 9
        spike = torch.tensor([flat[:-1] + [5.0]])
        held = torch.tensor([flat[:-3] + [5.0] * 3])
        settled = torch.tensor([[0.0, 0.0] + [5.0] * 7])
        got = {name: origin_features(v, torch.ones_like(v))[0].tolist() for name, v in (("spike", spike), ("held", held), ("settled", settled))}
        self.assertGreater(got["spike"][0], 1.0)
        self.assertAlmostEqual(got["spike"][1], 0.0)
        self.assertGreater(got["held"][0], 1.0)
        self.assertAlmostEqual(got["held"][1], got["held"][0], places=5)
        self.assertEqual(got["settled"], [0.0, 0.0])  # a step 35 minutes old is the other features' business
        unseen = spike.clone()
        self.assertEqual(origin_features(unseen, torch.cat([torch.ones(1, 8), torch.zeros(1, 1)], dim=1))[0].tolist(), [0.0, 0.0])

    def test_weights_without_them_load_with_zero_input_weights_and_forecast_as_before(self):
        import dataclasses

        torch.manual_seed(0)
        spec = smoke_spec()
        without = ServerTemporalFusionTransformer(spec).eval()
        with torch.no_grad():
            without.shape_gate[2].weight.normal_()  # a trained gate, so the features would matter
            without.shape_gate[2].bias.normal_()
        wide_spec = dataclasses.replace(spec, origin_features=True)
        wide = ServerTemporalFusionTransformer(wide_spec).eval()
        wide.load_state_dict(widen_shape_gate(without.state_dict(), wide_spec))
        x = climbing_server(spec)
        with torch.no_grad():
            self.assertTrue(torch.allclose(wide(*x)[0], without(*x)[0], atol=1e-4))
            self.assertEqual(float(wide.shape_gate[0].weight[:, 8:10].abs().sum()), 0.0)
        narrow, wide_state = without.state_dict(), wide.state_dict()
        self.assertIs(widen_shape_gate(narrow, spec), narrow)  # a spec without them: untouched
        self.assertIs(widen_shape_gate(wide_state, wide_spec), wide_state)  # already wide: untouched


if __name__ == "__main__":
    unittest.main()
