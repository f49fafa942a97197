"""`--loss-scale seasonal-mae`: each series' loss in units of its in-sample seasonal-naive error, the
denominator MASE uses, computed from the history before the window's origin only."""
import unittest

import numpy as np
import torch

from foresight_tft.data import Host
from foresight_tft.spec import METRICS, PROFILES
from foresight_tft2.data import SEASONAL_DAYS, make_batch, seasonal_mae
from foresight_tft2.spec import DAY_STEPS, ModelSpecV2
from foresight_tft2.train import SEASONAL_WEIGHT_RANGE, mase_weights


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


if __name__ == "__main__":
    unittest.main()
