"""The blocks of the Temporal Fusion Transformer, one module each, in the order of
Lim et al., "Temporal Fusion Transformers for Interpretable Multi-horizon Time Series
Forecasting", International Journal of Forecasting 37(4), 2021 (section 4)."""
from __future__ import annotations

from typing import List, Optional, Tuple

import torch
from torch import nn


class GatedLinearUnit(nn.Module):
    """GLU (eq. 5): sigma(W4 g + b4) * (W5 g + b5)."""

    def __init__(self, d_in: int, d_out: int, dropout: float):
        super().__init__()
        # no dropout module at all when p = 0: a Bernoulli mask over [B,T,V,H] costs ~10 % of a step on CPU
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.fc = nn.Linear(d_in, 2 * d_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.fc(self.dropout(x))  # [..., d_in] -> [..., 2*d_out]
        value, gate = x.chunk(2, dim=-1)  # 2 x [..., d_out]
        return value * torch.sigmoid(gate)


class AddNorm(nn.Module):
    """Gated skip connection: LayerNorm(skip + GLU(x))."""

    def __init__(self, d: int):
        super().__init__()
        self.norm = nn.LayerNorm(d)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return self.norm(x + skip)


class GatedResidualNetwork(nn.Module):
    """GRN (eqs. 2-4): LayerNorm(a + GLU(W1 ELU(W2 a + W3 c + b2) + b1)), with an optional context c."""

    def __init__(self, d_in: int, d_hidden: int, d_out: int, dropout: float, d_context: Optional[int] = None):
        super().__init__()
        self.skip = nn.Linear(d_in, d_out) if d_in != d_out else nn.Identity()
        self.fc2 = nn.Linear(d_in, d_hidden)
        self.context = nn.Linear(d_context, d_hidden, bias=False) if d_context else None
        self.elu = nn.ELU()
        self.fc1 = nn.Linear(d_hidden, d_hidden)
        self.glu = GatedLinearUnit(d_hidden, d_out, dropout)
        self.add_norm = AddNorm(d_out)

    def forward(self, a: torch.Tensor, c: Optional[torch.Tensor] = None) -> torch.Tensor:
        eta2 = self.fc2(a)  # [..., d_in] -> [..., H]
        if self.context is not None and c is not None:
            eta2 = eta2 + self.context(c)  # context broadcast over time: [B,1,C] -> [B,1,H]
        eta1 = self.fc1(self.elu(eta2))
        return self.add_norm(self.glu(eta1), self.skip(a))


class VariableSelectionNetwork(nn.Module):
    """Variable selection (eqs. 6-8): per-variable GRNs, weighted by softmax(GRN(flattened inputs, static context))."""

    def __init__(self, n_vars: int, d: int, dropout: float, d_context: Optional[int] = None):
        super().__init__()
        self.n_vars = n_vars
        self.weights_grn = GatedResidualNetwork(n_vars * d, d, n_vars, dropout, d_context)
        # per-variable GRNs run at every time step of every variable: no dropout there (cost, see GLU)
        self.var_grns = nn.ModuleList([GatedResidualNetwork(d, d, d, 0.0) for _ in range(n_vars)])

    def forward(self, xi: torch.Tensor, c: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, torch.Tensor]:
        # xi: [B,T,V,H] (or [B,V,H] for statics)
        flat = xi.flatten(start_dim=-2)  # [B,T,V,H] -> [B,T,V*H]
        v = torch.softmax(self.weights_grn(flat, c), dim=-1)  # [B,T,V]
        # sum_j v_j GRN_j(xi_j) one variable at a time: no [B,T,V,H] stack of the processed inputs
        combined = self.var_grns[0](xi[..., 0, :]) * v[..., 0:1]  # [B,T,H]
        for j in range(1, self.n_vars):
            combined = combined + self.var_grns[j](xi[..., j, :]) * v[..., j : j + 1]
        return combined, v

    def embedded(self, parts: List[Tuple[torch.Tensor, nn.Linear]], c: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, torch.Tensor]:
        """forward() of variables that their own linear layers embed: parts are (raw input [B,T,d_v],
        its embedding Linear(d_v, H)) per variable, in order."""
        return self(torch.stack([embedding(x) for x, embedding in parts], dim=-2), c)  # [B,T,V,H]


class StaticCovariateEncoders(nn.Module):
    """Four GRNs turning the selected static embedding into the contexts c_s (selection),
    c_e (enrichment), c_h and c_c (LSTM initial hidden and cell state) (section 4.3)."""

    def __init__(self, d: int, dropout: float):
        super().__init__()
        self.selection = GatedResidualNetwork(d, d, d, dropout)
        self.enrichment = GatedResidualNetwork(d, d, d, dropout)
        self.hidden = GatedResidualNetwork(d, d, d, dropout)
        self.cell = GatedResidualNetwork(d, d, d, dropout)

    def forward(self, zeta: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        return self.selection(zeta), self.enrichment(zeta), self.hidden(zeta), self.cell(zeta)


class LstmEncoderDecoder(nn.Module):
    """Sequence-to-sequence layer (section 4.5.1): an LSTM encoder over the past, a decoder LSTM
    over the known future, initialised from the static contexts, then a gated skip."""

    def __init__(self, d: int, dropout: float, layers: int):
        super().__init__()
        self.layers = layers
        self.encoder = nn.LSTM(d, d, num_layers=layers, batch_first=True)
        self.decoder = nn.LSTM(d, d, num_layers=layers, batch_first=True)
        self.glu = GatedLinearUnit(d, d, dropout)
        self.add_norm = AddNorm(d)

    def forward(self, past: torch.Tensor, future: torch.Tensor, h0: torch.Tensor, c0: torch.Tensor) -> torch.Tensor:
        state = (h0.unsqueeze(0).repeat(self.layers, 1, 1), c0.unsqueeze(0).repeat(self.layers, 1, 1))  # [B,H] -> [L,B,H]
        enc, state = self.encoder(past, state)  # [B,Te,H]
        dec, _ = self.decoder(future, state)  # [B,Td,H]
        phi = torch.cat([enc, dec], dim=1)  # [B,T,H]
        xi = torch.cat([past, future], dim=1)  # [B,T,H]
        return self.add_norm(self.glu(phi), xi)


# runs of decoder queries that attend over their own visible keys (see query_blocks): with the
# shipped lengths (72 + 96) 4 runs compute 21 % fewer attention scores than 1, at equal output;
# measured on CPU inference, 8 runs were no faster than 4 (more, smaller operations)
QUERY_BLOCKS = 4


class InterpretableMultiHeadAttention(nn.Module):
    """Interpretable multi-head attention (eqs. 13-16): per-head queries and keys, one value
    projection shared by all heads, heads averaged. Queries only for the decoder positions,
    keys over the whole window, so memory is [B, heads, Td, T], linear in batch size."""

    def __init__(self, d: int, heads: int, dropout: float):
        super().__init__()
        self.heads = heads
        self.d_head = d // heads
        self.q = nn.Linear(d, self.d_head * heads)
        self.k = nn.Linear(d, self.d_head * heads)
        self.v = nn.Linear(d, self.d_head)
        self.out = nn.Linear(self.d_head, d)
        self.dropout = nn.Dropout(dropout)

    def forward(self, queries: torch.Tensor, keys: torch.Tensor, mask: torch.Tensor, mean_queries: bool = False) -> Tuple[torch.Tensor, torch.Tensor]:
        """The attended values [B,Tq,H] and the attention weights averaged over heads: [B,Tq,Tk], or
        with mean_queries their mean over the queries, [B,Tk] (computed per run of queries, so the
        [B,Tq,Tk] weights are never assembled)."""
        b, tq, _ = queries.shape
        tk = keys.shape[1]
        q = self.q(queries).view(b, tq, self.heads, self.d_head).transpose(1, 2)  # [B,Td,H] -> [B,h,Td,dh]
        # the keys laid out for the product once ([B,h,dh,T]); each run then takes its first keys
        k_t = self.k(keys).view(b, tk, self.heads, self.d_head).permute(0, 2, 3, 1)  # [B,T,H] -> [B,h,dh,T]
        v = self.v(keys)  # [B,T,dh], shared across heads
        outs, weights = [], []
        total: Optional[torch.Tensor] = None
        for lo, hi, seen in self.query_blocks(mask):
            # queries lo..hi-1 see no key at or after `seen` (the mask is causal): their scores stop there
            scores = q[:, :, lo:hi] @ k_t[..., :seen] / (self.d_head ** 0.5)  # [B,h,n,seen]
            # additive mask (0 / -1e9): a decoder step sees the past and earlier decoder steps
            attn = self.dropout(torch.softmax(scores + mask[lo:hi, :seen], dim=-1))  # [B,h,n,seen]
            mean_attn = attn.mean(dim=1)  # attention averaged over heads: [B,n,seen]
            # v is shared by the heads, so the mean of the heads' outputs (eq. 15) is the heads' mean
            # attention applied to v: one product per row instead of one per head
            outs.append(mean_attn @ v[:, :seen])  # [B,n,seen] x [B,seen,dh] -> [B,n,dh]
            if mean_queries:
                part = mean_attn.sum(dim=1)  # [B,seen]
                part = nn.functional.pad(part, (0, tk - seen)) if seen < tk else part
                total = part if total is None else total + part
            else:
                weights.append(nn.functional.pad(mean_attn, (0, tk - seen)) if seen < tk else mean_attn)
        out = self.out(torch.cat(outs, dim=1))  # [B,Td,dh] -> [B,Td,H]
        if mean_queries:
            assert total is not None
            return out, total / tq  # [B,T]
        return out, torch.cat(weights, dim=1)  # [B,Td,T]

    def query_blocks(self, mask: torch.Tensor) -> List[Tuple[int, int, int]]:
        """(first query, end, keys seen) for QUERY_BLOCKS equal runs of queries: with a causal mask the
        early decoder steps see fewer keys, so their blocks compute fewer scores (the same result:
        a masked key's weight is exactly 0). The mask is a constant, so the blocks are too."""
        tq, tk = mask.shape
        visible = (mask > -1.0).to(torch.int64)  # [Tq,Tk]
        # per query, one past its last visible key (all keys for a row that sees none); one transfer
        last = (visible * torch.arange(1, tk + 1, device=mask.device)).max(dim=1).values
        last = [int(x) if x > 0 else tk for x in last.tolist()]
        n = -(-tq // QUERY_BLOCKS)
        return [(lo, min(lo + n, tq), max(last[lo : lo + n])) for lo in range(0, tq, n)]


class QuantileHead(nn.Module):
    """Quantile outputs that cannot cross: the median, plus cumulative softplus steps outwards."""

    def __init__(self, d: int, quantiles: list):
        super().__init__()
        self.quantiles = quantiles
        self.median_index = quantiles.index(0.5)
        self.fc = nn.Linear(d, len(quantiles))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raw = self.fc(x)  # [B,Td,H] -> [B,Td,Q]
        m = self.median_index
        median = raw[..., m : m + 1]  # [B,Td,1]
        steps = nn.functional.softplus(raw)  # [B,Td,Q], > 0
        below = -torch.flip(torch.cumsum(torch.flip(steps[..., :m], dims=[-1]), dim=-1), dims=[-1])  # [B,Td,m]
        above = torch.cumsum(steps[..., m + 1 :], dim=-1)  # [B,Td,Q-m-1]
        return torch.cat([median + below, median, median + above], dim=-1)  # [B,Td,Q], increasing
