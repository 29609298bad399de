"""The policy's inference forward on one input window, compiled with numba (the CPU per-bar path).

``LSTMPolicy.logits`` on a single window ``(window, n_features)`` -> logits ``(n_assets,)``: the
stacked LSTM (PyTorch's gate order i, f, g, o; zero initial state) and the linear head, in one
compiled loop over float32 weights. The matrix products run in float32; the gate activations in
float64 (libm ``exp``/``tanh``), rounded to float32 as they are stored. Not bit for bit with
PyTorch (its oneDNN kernel sums in another order): tests hold it to PyTorch's logits within
float32 rounding (``tests/test_lstm_kernel.py``).

Why: inside a strategy, Backtrader's work between two bars leaves the caches cold, and PyTorch's
per-call machinery (dispatcher, oneDNN descriptors, allocations) then costs more than the
arithmetic; one compiled loop has none of it (BENCHMARKS.md section 4). Training, batched
evaluation and non-CPU devices stay on PyTorch. Framework-free: numpy and numba only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np


@dataclass(frozen=True)
class KernelWeights:
    """The policy's parameters laid out for :func:`window_logits` (float32, C-contiguous).

    ``wih0`` ``(n_features, 4H)``: layer 0's input weights, transposed; ``wih`` ``(L-1, H, 4H)``:
    the other layers' input weights, transposed; ``whh`` ``(L, H, 4H)``: recurrent weights,
    transposed; ``bias`` ``(L, 4H)``: ``b_ih + b_hh``; ``fc_w`` ``(n_assets, H)``, ``fc_b``.
    """

    wih0: np.ndarray
    wih: np.ndarray
    whh: np.ndarray
    bias: np.ndarray
    fc_w: np.ndarray
    fc_b: np.ndarray


def _f32(t) -> np.ndarray:
    return np.ascontiguousarray(t.detach().to("cpu").numpy(), dtype=np.float32)


def pack_weights(lstm, fc) -> KernelWeights:
    """:class:`KernelWeights` from an ``nn.LSTM`` (batch_first or not; no projection, one
    direction) and its ``nn.Linear`` head: copies, so later changes to the module need a new pack."""
    if lstm.proj_size or lstm.bidirectional or not lstm.bias:
        raise ValueError("pack_weights: only a one-direction LSTM with biases and no projection")
    layers = range(lstm.num_layers)
    hidden = lstm.hidden_size
    wih = [_f32(getattr(lstm, f"weight_ih_l{k}")).T for k in layers]
    return KernelWeights(
        wih0=np.ascontiguousarray(wih[0]),
        wih=np.ascontiguousarray(np.stack(wih[1:]) if len(wih) > 1 else np.zeros((0, hidden, 4 * hidden),
                                                                                 np.float32)),
        whh=np.ascontiguousarray(np.stack([_f32(getattr(lstm, f"weight_hh_l{k}")).T for k in layers])),
        bias=np.ascontiguousarray(np.stack([_f32(getattr(lstm, f"bias_ih_l{k}")) + _f32(getattr(lstm, f"bias_hh_l{k}"))
                                            for k in layers])),
        fc_w=_f32(fc.weight),
        fc_b=_f32(fc.bias),
    )


def window_logits(x: np.ndarray, w: KernelWeights) -> np.ndarray:
    """Logits ``(n_assets,)`` float32 of one window ``x`` ``(window, n_features)`` float32."""
    return _logits(x, w.wih0, w.wih, w.whh, w.bias, w.fc_w, w.fc_b)


@numba.njit(cache=True, error_model="numpy", nogil=True)
def _logits(x, wih0, wih, whh, bias, fc_w, fc_b):  # pragma: no cover -- compiled; tested through window_logits
    steps = x.shape[0]
    n_layers, hidden, gates = whh.shape
    seq = np.ascontiguousarray(x)
    h = np.zeros(hidden, np.float32)
    for layer in range(n_layers):
        w_in = wih0 if layer == 0 else wih[layer - 1]
        w_rec = whh[layer]
        pre = np.empty((steps, gates), np.float32)  # the input projection of every step, plus the bias
        for t in range(steps):
            for k in range(gates):
                pre[t, k] = bias[layer, k]
            for j in range(seq.shape[1]):
                v = seq[t, j]
                for k in range(gates):
                    pre[t, k] += v * w_in[j, k]
        out = np.empty((steps, hidden), np.float32)
        h = np.zeros(hidden, np.float32)
        c = np.zeros(hidden, np.float32)
        g = np.empty(gates, np.float32)
        for t in range(steps):
            for k in range(gates):
                g[k] = pre[t, k]
            for j in range(hidden):
                v = h[j]
                for k in range(gates):
                    g[k] += v * w_rec[j, k]
            for k in range(hidden):
                i = 1.0 / (1.0 + math.exp(-float(g[k])))
                f = 1.0 / (1.0 + math.exp(-float(g[hidden + k])))
                cand = math.tanh(float(g[2 * hidden + k]))
                o = 1.0 / (1.0 + math.exp(-float(g[3 * hidden + k])))
                c[k] = f * c[k] + i * cand  # stored as float32, as PyTorch keeps the cell state
                h[k] = o * math.tanh(float(c[k]))
                out[t, k] = h[k]
        seq = out
    logits = np.empty(fc_w.shape[0], np.float32)
    for a in range(fc_w.shape[0]):
        s = fc_b[a]
        for k in range(hidden):
            s += fc_w[a, k] * h[k]
        logits[a] = s
    return logits
