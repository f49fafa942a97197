"""`npm run train -- --spec JSON`: the spec fields a run changes, with errors that name what is wrong."""
import unittest

import numpy as np

from foresight_tft.data import Host
from foresight_tft.spec import METRICS
from foresight_tft2.spec import ModelSpecV2
from foresight_tft2.train import PHASE2_WEIGHTS, phase2_shares, spec_with_changes, spike_origins


class SpecChangesTest(unittest.TestCase):
    def test_changes_the_named_fields_only(self):
        spec, changes = spec_with_changes(ModelSpecV2(), '{"variable_grns": true, "dropout": 0}')
        self.assertTrue(spec.variable_grns)
        self.assertEqual(spec.dropout, 0)
        self.assertEqual(changes, {"variable_grns": True, "dropout": 0})
        self.assertEqual(spec.hidden, ModelSpecV2().hidden)

    def test_empty_object_is_the_default_spec(self):
        spec, changes = spec_with_changes(ModelSpecV2(), "{}")
        self.assertEqual(spec, ModelSpecV2())
        self.assertEqual(changes, {})

    def test_errors_name_the_problem(self):
        for text, needle in [
            ('{"variable_grn": false}', "no such spec field: variable_grn"),
            ('{"hidden": "32"}', 'hidden must be int, got "32"'),
            ('{"hidden": true}', "hidden must be int, got true"),
            ('{"variable_grns": 1}', "variable_grns must be bool, got 1"),
            ('["hidden"]', "a JSON object of spec fields is needed"),
            ("{hidden: 32}", "not JSON"),
        ]:
            with self.subTest(text=text):
                with self.assertRaises(ValueError) as cm:
                    spec_with_changes(ModelSpecV2(), text)
                self.assertIn(needle, str(cm.exception))


class Phase2SharesTest(unittest.TestCase):
    def test_changes_the_named_shares_only(self):
        shares, changes = phase2_shares('{"shifts": 0.2}')
        self.assertEqual(shares["shifts"], 0.2)
        self.assertEqual(shares["ramps"], PHASE2_WEIGHTS["ramps"])
        self.assertEqual(changes, {"shifts": 0.2})

    def test_empty_object_is_the_default(self):
        self.assertEqual(phase2_shares("{}"), (PHASE2_WEIGHTS, {}))

    def test_errors_name_the_problem(self):
        for text, needle in [
            ('{"shift": 0.2}', "no such second-phase share: shift"),
            ('{"shifts": "0.2"}', 'shifts must be a number from 0 to below 1, got "0.2"'),
            ('{"shifts": true}', "shifts must be a number from 0 to below 1, got true"),
            ('{"shifts": 1.5}', "shifts must be a number from 0 to below 1, got 1.5"),
            ('{"shifts": 0.5, "ramps": 0.4}', "the shares add up to 1.10"),
            ("[0.2]", "a JSON object of second-phase shares is needed"),
            ("{shifts: 0.2}", "not JSON"),
        ]:
            with self.subTest(text=text):
                with self.assertRaises(ValueError) as cm:
                    phase2_shares(text)
                self.assertIn(needle, str(cm.exception))


class SpikeOriginsTest(unittest.TestCase):
    """The second phase's "spikes" windows: origins whose last value jumped far from the 30 minutes before."""

    def test_a_one_sample_spike_and_the_first_samples_of_a_step_are_found_and_nothing_else(self):
        rng = np.random.default_rng(0)
        values = np.full((3 * 288, len(METRICS)), np.nan, dtype=np.float32)
        cpu = 30.0 + rng.normal(0, 0.5, 3 * 288)
        cpu[400] = 90.0  # one sample
        cpu[600:] += 40.0  # a step that holds
        values[:, METRICS.index("cpu")] = cpu
        found = set(spike_origins(Host("h", "test", "web", 0, values)).tolist())
        self.assertIn(400, found)
        self.assertNotIn(401, found)  # back at the level: the median of the 30 minutes before ignores the spike
        self.assertTrue({600, 601, 602, 603} <= found)  # up to half of the 30 minutes before at the new level
        self.assertNotIn(604, found)  # by then the step is the median
        self.assertFalse(found - {400, 600, 601, 602, 603}, "noise alone is no spike")

    def test_the_default_second_phase_has_no_spike_share(self):
        self.assertEqual(PHASE2_WEIGHTS["spikes"], 0.0)
        shares, _ = phase2_shares('{"spikes": 0.1}')
        self.assertEqual(shares["spikes"], 0.1)


if __name__ == "__main__":
    unittest.main()
