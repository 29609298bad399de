"""Training losses on the portfolio outcome ``Rp_t = w_t . r_{t+1}`` (raw next-bar returns).

* ``paper`` (the paper's formula, default): ``-mean(Rp) + lambda * mean(max(0, -Rp)^2)``, both
  means over ALL samples.
* ``notebook`` (the reference notebook as coded): ``-mean(Rp) + lambda * mean(Rp[Rp < 0]^2)``,
  the penalty averaged over the negative samples only (0 when there are none).
* ``sharpe``: ``-mean(Rp) / std(Rp)`` (population std, ``+ 1e-8`` in the denominator).
* ``sortino``: ``-mean(Rp) / sqrt(mean(min(Rp, 0)^2) + 1e-12)``, downside deviation over all
  samples (Sortino & van der Meer), target 0.

Optional turnover term (any kind): ``+ turnover_cost * mean_t |w_t - w_{t-1}|_1`` over
consecutive samples of the batch (a batch must therefore be chronological).
"""

from __future__ import annotations

import torch

from bt_lstm_mvo.errors import ConfigError

SHARPE_EPS = 1e-8
SORTINO_EPS = 1e-12


def portfolio_returns(weights: torch.Tensor, returns: torch.Tensor) -> torch.Tensor:
    """``Rp_t = sum_i w_{t,i} r_{t+1,i}``; ``returns`` row t is the return earned after decision t."""
    return (weights * returns).sum(dim=-1)


def turnover(weights: torch.Tensor) -> torch.Tensor:
    """Mean L1 change between consecutive weight rows (0 for a single row)."""
    if weights.shape[0] < 2:
        return weights.new_zeros(())
    return (weights[1:] - weights[:-1]).abs().sum(dim=-1).mean()


def portfolio_loss(
    weights: torch.Tensor,
    returns: torch.Tensor,
    kind: str = "paper",
    lambda_penalty: float = 10.0,
    turnover_cost: float = 0.0,
) -> torch.Tensor:
    """The scalar training loss; see the module docstring for the formulas."""
    rp = portfolio_returns(weights, returns)
    mean = rp.mean()
    if kind == "paper":
        loss = -mean + lambda_penalty * torch.relu(-rp).square().mean()
    elif kind == "notebook":
        negative = rp < 0
        n_negative = negative.sum().clamp_min(1)
        loss = -mean + lambda_penalty * (torch.where(negative, rp, 0.0).square().sum() / n_negative)
    elif kind == "sharpe":
        loss = -mean / (rp.std(unbiased=False) + SHARPE_EPS)
    elif kind == "sortino":
        downside = torch.sqrt(torch.clamp(rp, max=0.0).square().mean() + SORTINO_EPS)
        loss = -mean / downside
    else:
        raise ConfigError(f"loss must be one of paper, notebook, sharpe, sortino; got {kind!r}")
    if turnover_cost:
        loss = loss + turnover_cost * turnover(weights)
    return loss
