"""Export boundary, Python side: PyTorch with the exported weights reproduces fixture.json's
expected outputs within the parity tolerance (the sidecar asserts the same for onnxruntime-node).

    FORESIGHT_MODEL_DIR=models/foresight-tft-v1 /usr/bin/python3 -m unittest discover -s models/train/tests
"""
import json
import os
import unittest
from pathlib import Path

import numpy as np
import torch

from foresight_tft.export import PARITY_ATOL, PARITY_RTOL
from foresight_tft.model import INPUT_NAMES, OUTPUT_NAMES, TemporalFusionTransformer
from foresight_tft.spec import ModelSpec

MODEL_DIR = Path(os.environ.get("FORESIGHT_MODEL_DIR", Path(__file__).resolve().parents[2] / "foresight-tft-v1"))
SPEC_FIELDS = {f for f in ModelSpec.__dataclass_fields__}


class ParityTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        manifest = json.loads((MODEL_DIR / "model.json").read_text())
        cls.fixture = json.loads((MODEL_DIR / "fixture.json").read_text())
        spec = ModelSpec(**{k: v for k, v in manifest["spec"].items() if k in SPEC_FIELDS})
        cls.model = TemporalFusionTransformer(spec)
        cls.model.load_state_dict(torch.load(MODEL_DIR / "weights.pt"))
        cls.model.eval()
        cls.manifest = manifest

    def inputs(self):
        out = []
        for name in INPUT_NAMES:
            t = self.fixture["inputs"][name]
            dtype = np.int64 if t["dtype"] == "int64" else np.float32
            out.append(torch.from_numpy(np.array(t["data"], dtype=dtype).reshape(t["shape"])))
        return out

    def test_pytorch_reproduces_the_fixture_within_tolerance(self):
        self.assertEqual(self.manifest["parity"], {"atol": PARITY_ATOL, "rtol": PARITY_RTOL, "fixture": "fixture.json"})
        with torch.no_grad():
            actual = self.model(*self.inputs())
        for name, got in zip(OUTPUT_NAMES, actual):
            want = np.array(self.fixture["outputs"][name]["data"], dtype=np.float64).reshape(self.fixture["outputs"][name]["shape"])
            bad = np.abs(got.numpy() - want) > PARITY_ATOL + PARITY_RTOL * np.abs(want)
            self.assertEqual(int(bad.sum()), 0, f"{name}: {int(bad.sum())} values outside tolerance")

    def test_quantiles_never_cross(self):
        with torch.no_grad():
            q = self.model(*self.inputs())[0].numpy()
        self.assertTrue((np.diff(q, axis=-1) >= 0).all())


if __name__ == "__main__":
    unittest.main()
