"""`--loss-scale seasonal-mae`: each series' loss in units of its in-sample seasonal-naive error, the
denominator MASE uses, computed from the history before the window's origin only."""
import unittest

import numpy as np
import torch

from foresight_tft.data import Host
from foresight_tft.spec import METRICS, PROFILES
from foresight_tft2.data import NAIVE_LAGS, SEASONAL_DAYS, best_naive_mae, lag_mae, make_batch, seasonal_mae
from foresight_tft2.model import INPUT_NAMES, ServerTemporalFusionTransformer
from foresight_tft2.spec import DAY_STEPS, HOUR_STEPS, ModelSpecV2, smoke_spec
from foresight_tft2.train import SEASONAL_WEIGHT_RANGE, batch_loss, cached_last_layer_inputs, finetune_last_layers, mase_weights


def host(values: np.ndarray) -> Host:
    return Host(name="h", source="test", profile=PROFILES[0], start=1_700_000_000, values=values.astype(np.float32))


class SeasonalMaeTest(unittest.TestCase):
    def test_matches_a_direct_computation_before_the_origin_only(self):
        rng = np.random.default_rng(1)
        t = 12 * DAY_STEPS
        values = np.full((t, len(METRICS)), np.nan)
        cpu, net = METRICS.index("cpu"), METRICS.index("network")
        values[:, cpu] = 50 + 20 * np.sin(np.arange(t) * 2 * np.pi / DAY_STEPS) + rng.normal(0, 3, t)
        values[:, net] = np.exp(rng.normal(8, 1, t))
        values[500:520, cpu] = np.nan  # a gap: its pairs are left out, not counted as zero error
        h = host(values)
        origin = 10 * DAY_STEPS + 17
        got = seasonal_mae(h, np.array([origin]))[0]
        lo = origin + 1 - SEASONAL_DAYS * DAY_STEPS
        for col, z in ((cpu, values[:, cpu] / 100.0), (net, np.log1p(values[:, net]))):
            d = np.abs(z[lo : origin + 1] - z[lo - DAY_STEPS : origin + 1 - DAY_STEPS])
            self.assertAlmostEqual(float(got[col]), float(np.nanmean(d)), places=5)
        # what follows the origin does not change it
        later = values.copy()
        later[origin + 1 :, cpu] += 40
        self.assertAlmostEqual(float(seasonal_mae(host(later), np.array([origin]))[0][cpu]), float(got[cpu]), places=6)
        # a metric that is never observed, and an origin with less than a day of pairs, are unknown
        self.assertTrue(np.isnan(got[METRICS.index("disk")]))
        self.assertTrue(np.isnan(seasonal_mae(h, np.array([DAY_STEPS + 100]))[0][cpu]))

    def test_the_batch_carries_it_next_to_the_targets(self):
        values = np.tile(np.linspace(10, 60, DAY_STEPS), 4)[:, None].repeat(len(METRICS), axis=1)
        spec = ModelSpecV2()
        origin = 3 * DAY_STEPS - spec.decoder_length - 1
        b = make_batch([host(values)], np.array([[0, origin]]), spec)
        self.assertEqual(b["seasonal_mae"].shape, (1, len(METRICS)))
        self.assertTrue(np.allclose(b["seasonal_mae"], 0.0))  # a perfectly daily series: seasonal naive is exact


class BestNaiveTest(unittest.TestCase):
    """`--loss-scale best-naive`: the lowest in-sample error of persistence (1 h) and seasonal naive (1 d, 1 w)."""

    def test_picks_the_naive_forecast_that_fits_each_series(self):
        rng = np.random.default_rng(3)
        t = 16 * DAY_STEPS
        values = np.full((t, len(METRICS)), np.nan)
        cpu, mem, net = METRICS.index("cpu"), METRICS.index("memory"), METRICS.index("network")
        steps = np.arange(t)
        # cpu: on for 6 hours every Monday-like day of the week, off otherwise: only the week lag repeats it
        values[:, cpu] = np.where((steps % (7 * DAY_STEPS)) < 72, 80.0, 5.0) + rng.normal(0, 0.5, t)
        # memory: long plateaus that switch every 2.5 days: persistence wins
        values[:, mem] = np.where((steps // (60 * HOUR_STEPS)) % 2 == 0, 70.0, 20.0) + rng.normal(0, 0.5, t)
        values[:, net] = np.exp(rng.normal(8, 1, t))  # noise: all about equal
        h = host(values)
        origin = 15 * DAY_STEPS + 5
        got = best_naive_mae(h, np.array([origin]))[0]
        per_lag = np.stack([lag_mae(h, np.array([origin]), lag)[0] for lag in NAIVE_LAGS])  # [K,M]
        for col in (cpu, mem, net):
            self.assertAlmostEqual(float(got[col]), float(np.nanmin(per_lag[:, col])), places=6)
        self.assertEqual(int(np.nanargmin(per_lag[:, cpu])), NAIVE_LAGS.index(7 * DAY_STEPS))
        self.assertEqual(int(np.nanargmin(per_lag[:, mem])), NAIVE_LAGS.index(HOUR_STEPS))
        self.assertLess(float(got[cpu]), 0.5 * float(seasonal_mae(h, np.array([origin]))[0][cpu]))
        self.assertTrue(np.isnan(got[METRICS.index("disk")]))
        # before a week of history, the week lag is unknown and the others still count
        early = best_naive_mae(h, np.array([2 * DAY_STEPS]))[0]
        self.assertAlmostEqual(float(early[mem]), float(lag_mae(h, np.array([2 * DAY_STEPS]), HOUR_STEPS)[0][mem]), places=6)

    def test_the_batch_loss_weighs_rows_by_it(self):
        spec = smoke_spec()
        rng = np.random.default_rng(4)
        values = np.full((10 * DAY_STEPS, len(METRICS)), np.nan)
        values[:, METRICS.index("cpu")] = 50 + rng.normal(0, 2, len(values))
        values[:, METRICS.index("memory")] = np.repeat([30.0, 60.0], len(values) // 2) + rng.normal(0, 0.2, len(values))
        b = make_batch([host(values)], np.array([[0, 8 * DAY_STEPS]]), spec)
        torch.manual_seed(0)
        model = ServerTemporalFusionTransformer(spec).eval()
        with torch.no_grad():
            losses = {s: float(batch_loss(model, b, loss_scale=s)) for s in ("day-std", "seasonal-mae", "best-naive")}
        self.assertEqual(len(set(losses.values())), 3)

class MaseWeightsTest(unittest.TestCase):
    def test_weights_are_scale_over_seasonal_error_clipped(self):
        scale = torch.tensor([0.2, 0.2, 0.2, 0.2, 0.2])
        seasonal = torch.tensor([0.1, 0.4, 1e-6, 10.0, float("nan")])
        w = mase_weights(scale, seasonal)
        lo, hi = SEASONAL_WEIGHT_RANGE
        self.assertEqual(w.tolist()[:2], [2.0, 0.5])
        self.assertEqual(w[2].item(), hi)  # a perfectly periodic series does not take over the batch
        self.assertEqual(w[3].item(), lo)
        self.assertEqual(w[4].item(), 1.0)  # unknown: the day-std loss as before


class SecondPhaseTest(unittest.TestCase):
    """`--phase2-loss-scale seasonal-mae`: the last layers' fine-tuning weighs each series row the same way."""

    @classmethod
    def setUpClass(cls):
        torch.manual_seed(0)
        cls.spec = smoke_spec()
        rng = np.random.default_rng(2)
        t = 10 * DAY_STEPS
        values = np.full((t, len(METRICS)), np.nan)
        cpu, net = METRICS.index("cpu"), METRICS.index("network")
        values[:, cpu] = 40 + 10 * np.sin(np.arange(t) * 2 * np.pi / DAY_STEPS) + rng.normal(0, 1, t)  # seasonal naive is good here
        values[:, net] = np.exp(rng.normal(8, 1, t))  # and poor here
        cls.hosts = [host(values)]
        cls.idx = np.array([[0, o] for o in range(8 * DAY_STEPS, 9 * DAY_STEPS, 24)])

    def test_cached_weights_are_the_first_phase_weights_of_the_same_rows(self):
        model = ServerTemporalFusionTransformer(self.spec).eval()
        _, y, w = cached_last_layer_inputs(model, self.hosts, self.idx, None, "seasonal-mae")
        self.assertTrue(bool((cached_last_layer_inputs(model, self.hosts, self.idx, None)[2] == 1).all()))  # day-std: unweighted
        b = {k: torch.from_numpy(v) for k, v in make_batch(self.hosts, self.idx, self.spec).items()}
        rows = torch.nonzero(b["valid"].reshape(-1)).squeeze(1)
        with torch.no_grad():
            _, _, scale, *_ = model.normalised(*(b[n] for n in INPUT_NAMES), rows=rows)
        self.assertEqual(len(w), len(y))
        self.assertTrue(torch.allclose(w, mase_weights(scale, b["seasonal_mae"].reshape(-1)[rows])))
        self.assertGreater(float(w.max() - w.min()), 0.1)  # the two series do weigh differently

    def test_the_loss_scale_changes_what_the_last_layers_learn_and_is_recorded(self):
        trained = {}
        for scale in ("day-std", "seasonal-mae"):
            torch.manual_seed(0)
            model = ServerTemporalFusionTransformer(self.spec)
            record = finetune_last_layers(model, self.hosts, {"real": self.idx}, {"validation": self.idx[:4]}, 32, 1, 1e-2,
                                          np.random.default_rng(0), {}, scale)
            self.assertEqual(record["loss_scale"], scale)
            trained[scale] = model.head.fc.weight.detach().clone()
        self.assertFalse(torch.allclose(trained["day-std"], trained["seasonal-mae"]))


if __name__ == "__main__":
    unittest.main()
