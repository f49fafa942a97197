"""The exported graph computes what the training code does: export.linears_as_gemm rewrites how
(one Gemm per linear layer, GLUs as two products, the selection's input embeddings folded into the
layers after them), never what. Checked on freshly initialised networks in eager mode, where the
rewritten forward runs exactly as it is traced.

    /usr/bin/python3 -m unittest tests_v2.test_export_graph   (in models/train)
"""
import dataclasses
import unittest

import torch

from foresight_tft2.export import linears_as_gemm
from foresight_tft2.model import ServerTemporalFusionTransformer
from foresight_tft2.spec import smoke_spec

from .test_shape_gate import climbing_server


class ExportGraphTest(unittest.TestCase):
    def check(self, spec) -> None:
        torch.manual_seed(0)
        model = ServerTemporalFusionTransformer(spec).eval()
        for p in model.parameters():  # away from the initialisation's zeros, so every folded weight matters
            p.data.add_(0.1 * torch.randn_like(p))
        inputs = climbing_server(spec)
        inputs[0] = inputs[0] + 5.0 * torch.rand_like(inputs[0])
        with torch.no_grad():
            plain = model(*inputs)
            with linears_as_gemm():
                rewritten = model(*inputs)
            again = model(*inputs)  # the rewrite is undone on leaving
        for a, b, c in zip(plain, rewritten, again):
            self.assertEqual(a.shape, b.shape)
            self.assertLess(float(((a - b).abs() / (1e-3 + a.abs())).max()), 1e-4)
            self.assertTrue(torch.equal(a, c))
        # the selection weights differ between variables and rows, so the fold's weighted sum is exercised, not a uniform mix
        self.assertGreater(float(plain[2].std()), 1e-3)

    def test_linear_selection(self):
        self.check(smoke_spec())

    def test_selection_with_variable_grns(self):
        self.check(dataclasses.replace(smoke_spec(), variable_grns=True))


if __name__ == "__main__":
    unittest.main()
