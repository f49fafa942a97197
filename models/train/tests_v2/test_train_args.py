"""`npm run train -- --spec JSON`: the spec fields a run changes, with errors that name what is wrong."""
import unittest

from foresight_tft2.spec import ModelSpecV2
from foresight_tft2.train import PHASE2_WEIGHTS, phase2_shares, spec_with_changes


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


if __name__ == "__main__":
    unittest.main()
