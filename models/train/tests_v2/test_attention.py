"""The attention computes what the paper's formulation does (eqs. 13-16, every head applied to the
shared values, then averaged, over all keys with the additive causal mask), although it averages
the heads first and scores each run of decoder steps only against the keys it may see.

    /usr/bin/python3 -m unittest tests_v2.test_attention   (in models/train)
"""
import unittest

import torch

from foresight_tft import modules
from foresight_tft.modules import InterpretableMultiHeadAttention


def reference(att: InterpretableMultiHeadAttention, queries, keys, mask):
    b, tq, _ = queries.shape
    tk = keys.shape[1]
    q = att.q(queries).view(b, tq, att.heads, att.d_head).transpose(1, 2)
    k = att.k(keys).view(b, tk, att.heads, att.d_head).transpose(1, 2)
    v = att.v(keys)
    attn = torch.softmax(q @ k.transpose(-1, -2) / (att.d_head ** 0.5) + mask, dim=-1)  # [B,h,Tq,Tk]
    heads = attn @ v.unsqueeze(1)  # every head on the values
    return att.out(heads.mean(dim=1)), attn.mean(dim=1)


class AttentionTest(unittest.TestCase):
    def check(self, te: int, td: int):
        torch.manual_seed(0)
        att = InterpretableMultiHeadAttention(32, 4, 0.0).eval()
        t = te + td
        pos, qpos = torch.arange(t).unsqueeze(0), torch.arange(te, t).unsqueeze(1)
        mask = torch.where(pos <= qpos, 0.0, -1e9)  # the model's causal mask [Td,T]
        keys = torch.randn(5, t, 32) * 3.0
        with torch.no_grad():
            got, got_w = att(keys[:, te:], keys, mask)
            want, want_w = reference(att, keys[:, te:], keys, mask)
        self.assertLess(float((got - want).abs().max()), 1e-5)
        self.assertLess(float((got_w - want_w).abs().max()), 1e-6)
        # a decoder step gives no weight to a later step
        self.assertEqual(float(got_w[:, 0, te + 1 :].abs().max()), 0.0)
        # the same, reduced to the mean over the decoder steps (what the v2 model exports)
        with torch.no_grad():
            got_mean, got_mean_w = att(keys[:, te:], keys, mask, mean_queries=True)
        self.assertLess(float((got_mean - want).abs().max()), 1e-5)
        self.assertEqual(tuple(got_mean_w.shape), (5, t))
        self.assertLess(float((got_mean_w - want_w.mean(dim=1)).abs().max()), 1e-6)
        self.assertLess(abs(float(got_mean_w.sum(dim=1).mean()) - 1.0), 1e-5)  # still a distribution over the keys

    def test_shipped_lengths(self):
        self.check(72, 96)

    def test_lengths_that_do_not_split_evenly(self):
        self.check(24, 13)

    def test_blocks_skip_keys_no_query_sees(self):
        mask = torch.where(torch.arange(168).unsqueeze(0) <= torch.arange(72, 168).unsqueeze(1), 0.0, -1e9)
        blocks = InterpretableMultiHeadAttention(32, 4, 0.0).query_blocks(mask)
        self.assertEqual(len(blocks), modules.QUERY_BLOCKS)
        self.assertEqual(blocks[0][2], 72 + 96 // modules.QUERY_BLOCKS)  # the first run stops at its last step
        self.assertEqual(blocks[-1][2], 168)


if __name__ == "__main__":
    unittest.main()
