"""`npm run train -- --spec JSON`: the spec fields a run changes, with errors that name what is wrong."""
import unittest

from foresight_tft2.spec import ModelSpecV2
from foresight_tft2.train import spec_with_changes


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


if __name__ == "__main__":
    unittest.main()
