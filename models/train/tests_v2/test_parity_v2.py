"""Export boundary of v2, Python side: PyTorch with the exported weights reproduces fixture.json's
expected outputs within the parity tolerance (sidecar/test/model-v2.test.ts asserts the same for
onnxruntime-node), quantiles never cross, and a server's forecast does not depend on the other
servers in its batch.

    FORESIGHT_MODEL_DIR=models/foresight-tft /usr/bin/python3 -m unittest discover -s tests_v2 -t .   (in models/train)

Kept apart from tests/ (version 1 models): each folder runs against its own contract.
"""
import json
import os
import unittest
from pathlib import Path

import numpy as np
import torch

from foresight_tft.export import PARITY_ATOL, PARITY_RTOL
from foresight_tft2.model import INPUT_NAMES, OUTPUT_NAMES, ServerTemporalFusionTransformer
from foresight_tft2.spec import CONTRACT_VERSION, spec_from_json

MODEL_DIR = Path(os.environ.get("FORESIGHT_MODEL_DIR", Path(__file__).resolve().parents[2] / "foresight-tft"))


def _manifest():
    path = MODEL_DIR / "model.json"
    return json.loads(path.read_text()) if path.exists() else None


class ParityV2Test(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.manifest = _manifest()
        if (cls.manifest or {}).get("contract_version") != CONTRACT_VERSION:
            raise AssertionError(f"{MODEL_DIR}/model.json: expected contract_version {CONTRACT_VERSION}")
        cls.fixture = json.loads((MODEL_DIR / "fixture.json").read_text())
        spec = spec_from_json(cls.manifest["spec"])
        cls.model = ServerTemporalFusionTransformer(spec)
        cls.model.load_state_dict(torch.load(MODEL_DIR / "weights.pt"))
        cls.model.eval()

    def inputs(self):
        out = []
        for name in INPUT_NAMES:
            t = self.fixture["inputs"][name]
            dtype = np.int64 if t["dtype"] == "int64" else np.float32
            out.append(torch.from_numpy(np.array(t["data"], dtype=dtype).reshape(t["shape"])))
        return out

    def test_pytorch_reproduces_the_fixture_within_tolerance(self):
        self.assertEqual(self.manifest["parity"], {"atol": PARITY_ATOL, "rtol": PARITY_RTOL, "fixture": "fixture.json"})
        self.assertEqual([i["name"] for i in self.manifest["inputs"]], INPUT_NAMES)
        with torch.no_grad():
            actual = self.model(*self.inputs())
        for name, got in zip(OUTPUT_NAMES, actual):
            want = np.array(self.fixture["outputs"][name]["data"], dtype=np.float64).reshape(self.fixture["outputs"][name]["shape"])
            bad = np.abs(got.numpy() - want) > PARITY_ATOL + PARITY_RTOL * np.abs(want)
            self.assertEqual(int(bad.sum()), 0, f"{name}: {int(bad.sum())} values outside tolerance")

    def test_quantiles_never_cross(self):
        with torch.no_grad():
            q = self.model(*self.inputs())[0].numpy()  # [B,M,Td,Q]
        self.assertTrue((np.diff(q, axis=-1) >= 0).all())

    def test_a_server_alone_gets_the_forecast_it_gets_in_a_batch(self):
        x = self.inputs()
        with torch.no_grad():
            batch = self.model(*x)[0][1]
            alone = self.model(*(t[1:2] for t in x))[0][0]
        np.testing.assert_allclose(alone.numpy(), batch.numpy(), atol=PARITY_ATOL, rtol=PARITY_RTOL)


if __name__ == "__main__":
    unittest.main()
