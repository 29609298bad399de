"""Is strategy A (the LSTM) really better than strategy B (MVO) over the test period?

Two views, both on the test-period daily returns:

* **Across seeds** (:func:`seed_distribution`): mean, std, min and max of A's metric over its
  training seeds, and how many seeds beat B. This is the model's own randomness.
* **Over the sample** (:func:`block_bootstrap_diff`): a paired block bootstrap of the daily
  returns. The same resampled blocks of days are applied to A and B (so their correlation is
  kept), and the difference in Sharpe ratio and in total return is recomputed on each resample.
  Blocks (circular by default, or the stationary bootstrap of Politis & Romano) keep the
  short-range dependence of daily returns (volatility clustering). Resampling is done with
  ``arch.bootstrap`` (``CircularBlockBootstrap`` / ``StationaryBootstrap``).

Conventions: the point estimates are :func:`bt_lstm_mvo.analyzers.metrics.sharpe_ratio` (sample std,
annualised with ``periods_per_year``) and :func:`bt_lstm_mvo.analyzers.metrics.total_return` of the observed
series; the 95% CI is the percentile interval of the bootstrap differences; the two-sided
p-value is ``min(1, 2 * min(#(d* <= 0) + 1, #(d* >= 0) + 1) / (n_boot + 1))``, consistent with
the percentile CI; a difference is called *significant* when its 95% CI excludes 0. The default
block length is ``ceil(n ** (1/3))`` bars (about 7 for a year of daily bars).

:func:`compare` runs both views for A's seeds against B and :func:`compare_experiment` does it
for an :class:`bt_lstm_mvo.experiment.run.ExperimentResult`; the report's
``significance_table`` and ``verdict`` (:mod:`bt_lstm_mvo.experiment.report.tables`) say in plain
words whether the difference is significant.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from bt_lstm_mvo.analyzers import metrics as M
from bt_lstm_mvo.errors import ConfigError, DataError
from bt_lstm_mvo.vocab import BOOTSTRAP_METHODS

METHODS = BOOTSTRAP_METHODS
STATISTICS = ("sharpe", "total_return")
#: every statistic :func:`block_bootstrap_diff` can test (``statistics=``)
ALL_STATISTICS = ("sharpe", "total_return", "sortino", "max_drawdown")


def _paired(returns_a, returns_b) -> tuple[np.ndarray, np.ndarray]:
    """Two return series as aligned arrays: on common dates when both are dated Series, else
    position by position (then the lengths must match). Rows with a NaN in either are dropped."""
    if isinstance(returns_a, pd.Series) and isinstance(returns_b, pd.Series):
        both = pd.concat([returns_a.rename("a"), returns_b.rename("b")], axis=1, join="inner")
        x = both.to_numpy(dtype=float)
    else:
        a = np.asarray(returns_a, dtype=float).ravel()
        b = np.asarray(returns_b, dtype=float).ravel()
        if a.shape != b.shape:
            raise DataError(f"significance: paired returns must have the same length, got {a.size} and {b.size}")
        x = np.column_stack([a, b])
    x = x[~np.isnan(x).any(axis=1)]
    return x[:, 0], x[:, 1]


def _nan(v) -> float:
    return float("nan") if v is None else float(v)


def _single(name: str, x: np.ndarray, ppy: float):
    """One series' statistic, by the plugin's metric functions (the point estimates)."""
    return {"sharpe": lambda: M.sharpe_ratio(x, ppy), "total_return": lambda: M.total_return(x),
            "sortino": lambda: M.sortino_ratio(x, ppy), "max_drawdown": lambda: M.max_drawdown(x)}[name]()


def _sortino_many(x: np.ndarray, ppy: float) -> np.ndarray:
    """Row-wise :func:`bt_lstm_mvo.analyzers.metrics.sortino_ratio` (standard, target 0)."""
    dd = np.sqrt(np.mean(np.minimum(x, 0.0) ** 2, axis=1))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(dd > 0, x.mean(axis=1) / dd * math.sqrt(ppy), np.nan)


def _max_drawdown_many(x: np.ndarray) -> np.ndarray:
    """Row-wise :func:`bt_lstm_mvo.analyzers.metrics.max_drawdown` (wealth starting at 1)."""
    wealth = np.cumprod(1.0 + x, axis=1)
    peak = np.maximum(np.maximum.accumulate(wealth, axis=1), 1.0)
    return np.minimum((wealth / peak - 1.0).min(axis=1), 0.0)


def _many(name: str, x: np.ndarray, ppy: float) -> np.ndarray:
    if name == "sharpe":
        return _sharpe_many(x, ppy)
    if name == "total_return":
        return np.prod(1.0 + x, axis=1) - 1.0
    if name == "sortino":
        return _sortino_many(x, ppy)
    return _max_drawdown_many(x)


def _sharpe_many(x: np.ndarray, ppy: float) -> np.ndarray:
    """Row-wise :func:`bt_lstm_mvo.analyzers.metrics.sharpe_ratio` (rf 0, ddof 1); NaN where the std is 0."""
    sd = x.std(axis=1, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(sd > 0, x.mean(axis=1) / sd * math.sqrt(ppy), np.nan)


def _boot_stats(a: np.ndarray, b: np.ndarray, idx: np.ndarray, ppy: float,
                statistics=STATISTICS) -> np.ndarray:
    """(n_boot, k) differences of each statistic for resample indices ``idx`` (n_boot, n)."""
    ra, rb = a[idx], b[idx]
    return np.column_stack([_many(s, ra, ppy) - _many(s, rb, ppy) for s in statistics])


def default_block(n: int) -> int:
    """``ceil(n ** (1/3))`` bars, at least 2 (a common rule for block bootstraps)."""
    return max(2, math.ceil(n ** (1.0 / 3.0)))


def block_bootstrap_diff(
    returns_a,
    returns_b,
    periods_per_year: float,
    n_boot: int = 2000,
    block: int | None = None,
    seed: int = 0,
    method: str = "circular",
    statistics=STATISTICS,
) -> dict:
    """Paired block bootstrap of ``Sharpe(a) - Sharpe(b)`` and ``TotalReturn(a) - TotalReturn(b)``
    (``statistics``: any of :data:`ALL_STATISTICS`; Sortino and max drawdown too).

    Args:
        returns_a, returns_b: daily simple returns over the same period (dated Series are
            aligned on their common dates; arrays must have the same length).
        periods_per_year: annualisation of the Sharpe ratio.
        n_boot: bootstrap resamples (2000).
        block: block length in bars; ``None`` = :func:`default_block` of the sample size.
        seed: seeds the resampling (same seed, same answer).
        method: ``"circular"`` (fixed blocks, wrapping around) or ``"stationary"``
            (geometric block lengths with mean ``block``).

    Returns a JSON-able dict: ``n``, ``block``, ``n_boot``, ``method``, ``bootstrap_seed`` and, for each of
    ``sharpe`` and ``total_return``: ``a``, ``b``, ``diff`` (point estimates), ``ci95``
    [low, high], ``p_value`` (two-sided), ``significant`` (the CI excludes 0). Undefined values
    (e.g. the Sharpe of a constant series) are None.
    """
    from arch.bootstrap import CircularBlockBootstrap, StationaryBootstrap

    if method not in METHODS:
        raise ConfigError(f"significance: method must be one of {list(METHODS)}, got {method!r}")
    if n_boot < 100:
        raise ConfigError(f"significance: n_boot must be >= 100 for a 95% interval, got {n_boot}")
    a, b = _paired(returns_a, returns_b)
    n = a.size
    if n < 3:
        raise DataError(f"significance: need at least 3 paired returns to bootstrap, got {n}")
    block = default_block(n) if block is None else int(block)
    if not 1 <= block <= n:
        raise ConfigError(f"significance: block must be between 1 and the {n} paired returns, got {block}")
    ppy = float(periods_per_year)
    statistics = tuple(statistics)
    for name in statistics:
        if name not in ALL_STATISTICS:
            raise ConfigError(f"significance: statistic must be one of {list(ALL_STATISTICS)}, got {name!r}")
    singles = {name: (_single(name, a, ppy), _single(name, b, ppy)) for name in statistics}
    point = np.array([_nan(x) - _nan(y) for x, y in singles.values()])
    cls = CircularBlockBootstrap if method == "circular" else StationaryBootstrap
    bs = cls(block, np.arange(n), seed=np.random.default_rng(seed))
    # the same resampled days for a and b (paired); statistics computed for all resamples at once
    idx = np.stack([pos[0] for pos, _ in bs.bootstrap(n_boot)])
    boot = _boot_stats(a, b, idx, ppy, statistics)
    out = {"n": int(n), "block": block, "n_boot": int(n_boot), "method": method, "bootstrap_seed": seed}
    for j, name in enumerate(statistics):
        d = boot[:, j]
        d = d[np.isfinite(d)]
        if not np.isfinite(point[j]) or d.size < n_boot // 2:
            out[name] = {"a": singles[name][0], "b": singles[name][1], "diff": None, "ci95": None,
                         "p_value": None, "significant": False}
            continue
        lo, hi = (float(v) for v in np.quantile(d, [0.025, 0.975]))
        below, above = int((d <= 0).sum()), int((d >= 0).sum())
        p = min(1.0, 2.0 * (min(below, above) + 1) / (d.size + 1))
        out[name] = {"a": singles[name][0], "b": singles[name][1], "diff": float(point[j]), "ci95": [lo, hi],
                     "p_value": p, "significant": bool(lo > 0 or hi < 0)}
    return out


def seed_distribution(per_seed_metrics_a: Sequence | Mapping, metric_b: float | None) -> dict:
    """A's metric across seeds against B's single value.

    ``per_seed_metrics_a``: values (a list, or seed -> value); None values are skipped.
    Returns ``n``, ``mean``, ``std`` (sample; None for one seed), ``min``, ``max``, ``baseline``
    (B's value) and ``beats`` (how many seeds are strictly above B; None without B).
    """
    values = per_seed_metrics_a.values() if isinstance(per_seed_metrics_a, Mapping) else per_seed_metrics_a
    v = np.array([x for x in values if x is not None], dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return {"n": 0, "mean": None, "std": None, "min": None, "max": None, "baseline": metric_b, "beats": None}
    return {
        "n": int(v.size),
        "mean": float(v.mean()),
        "std": float(v.std(ddof=1)) if v.size > 1 else None,
        "min": float(v.min()),
        "max": float(v.max()),
        "baseline": None if metric_b is None else float(metric_b),
        "beats": None if metric_b is None else int((v > metric_b).sum()),
    }


def compare(
    returns_a: Sequence[pd.Series],
    returns_b: pd.Series,
    periods_per_year: float,
    seeds: Sequence | None = None,
    name_a: str = "lstm",
    name_b: str = "mvo",
    n_boot: int = 2000,
    block: int | None = None,
    seed: int = 0,
    method: str = "circular",
) -> dict:
    """A (one return series per seed) against B: the seed distribution of Sharpe and total
    return, and a paired block bootstrap of each seed's difference from B.

    Returns a JSON-able dict: ``a``, ``b``, ``seeds``, ``periods_per_year``, ``runs`` (one
    :func:`block_bootstrap_diff` dict per seed, with its ``seed``) and ``distribution``
    (``sharpe`` and ``total_return``: :func:`seed_distribution`).
    """
    returns_a = list(returns_a)
    seeds = list(seeds) if seeds is not None else list(range(len(returns_a)))
    runs = [{"seed": s, **block_bootstrap_diff(r, returns_b, periods_per_year, n_boot=n_boot, block=block,
                                                seed=seed, method=method)}
            for s, r in zip(seeds, returns_a)]
    ppy = float(periods_per_year)
    b_values = {"sharpe": M.sharpe_ratio(returns_b, ppy), "total_return": M.total_return(returns_b)}
    a_values = {"sharpe": [M.sharpe_ratio(r, ppy) for r in returns_a],
                "total_return": [M.total_return(r) for r in returns_a]}
    return {
        "a": name_a, "b": name_b, "seeds": seeds, "periods_per_year": ppy, "runs": runs,
        "distribution": {k: seed_distribution(a_values[k], b_values[k]) for k in STATISTICS},
    }


def compare_experiment(result, pair: tuple[str, str] | None = None, n_boot: int = 2000, block: int | None = None,
                       seed: int = 0) -> dict | None:
    """:func:`compare` for two strategies of an ExperimentResult (default: ``analysis.alpha_pair``,
    i.e. lstm vs mvo); B's first run is the reference. None when the pair is not in the result."""
    pair = pair or result.config.analysis.alpha_pair
    if pair is None or any(n not in result.runs for n in pair):
        return None
    a, b = pair
    runs_a = result.runs[a]
    return compare([r.returns for r in runs_a], result.runs[b][0].returns, result.periods_per_year,
                   seeds=[r.seed for r in runs_a], name_a=a, name_b=b, n_boot=n_boot, block=block, seed=seed)


# ----------------------------------------------------------------------------- multiple testing

#: the Euler-Mascheroni constant (expected maximum of Gaussian trials, Bailey & Lopez de Prado 2014)
EULER_GAMMA = 0.5772156649015329


def _moments(returns) -> tuple[int, float, float, float]:
    """(n, per-period Sharpe (ddof 1), skewness, kurtosis (not excess)) of a return series."""
    from scipy import stats

    x = np.asarray(returns, dtype=float)
    x = x[np.isfinite(x)]
    n = x.size
    sd = x.std(ddof=1) if n > 1 else 0.0
    if n < 3 or sd == 0:
        return n, float("nan"), float("nan"), float("nan")
    return n, float(x.mean() / sd), float(stats.skew(x)), float(stats.kurtosis(x, fisher=False))


def psr_from_moments(sr: float, n: int, skew: float, kurt: float, sr_benchmark: float = 0.0) -> float | None:
    """Probabilistic Sharpe ratio (Bailey & Lopez de Prado 2012, eq. 11): the probability that
    the true per-period Sharpe exceeds ``sr_benchmark``, given the estimate ``sr`` from ``n``
    returns with skewness ``skew`` and (non-excess) kurtosis ``kurt``::

        PSR = Phi( (sr - sr*) * sqrt(n - 1) / sqrt(1 - skew * sr + (kurt - 1) / 4 * sr**2) )

    Sharpe ratios are per period (not annualised). None when undefined."""
    from scipy.stats import norm

    if not all(np.isfinite(v) for v in (sr, skew, kurt, sr_benchmark)) or n < 2:
        return None
    var = 1.0 - skew * sr + (kurt - 1.0) / 4.0 * sr * sr
    if var <= 0:
        return None
    return float(norm.cdf((sr - sr_benchmark) * math.sqrt(n - 1) / math.sqrt(var)))


def probabilistic_sharpe(returns, sr_benchmark: float = 0.0) -> float | None:
    """:func:`psr_from_moments` of a daily return series (``sr_benchmark`` per period)."""
    n, sr, skew, kurt = _moments(returns)
    return psr_from_moments(sr, n, skew, kurt, sr_benchmark)


def expected_max_sharpe(n_trials: int, sr_variance: float) -> float:
    """The Sharpe ratio the best of ``n_trials`` skill-less trials reaches by luck (Bailey & Lopez
    de Prado 2014, eq. 2, per period)::

        SR0 = sqrt(V) * ((1 - gamma) * Phi^-1(1 - 1/N) + gamma * Phi^-1(1 - 1/(N e)))
    """
    from scipy.stats import norm

    if n_trials < 2 or not np.isfinite(sr_variance) or sr_variance < 0:
        return 0.0
    n = float(n_trials)
    return float(math.sqrt(sr_variance) * ((1 - EULER_GAMMA) * norm.ppf(1 - 1 / n)
                                           + EULER_GAMMA * norm.ppf(1 - 1 / (n * math.e))))


def deflated_sharpe(returns, n_trials: int, sr_variance: float) -> dict:
    """Deflated Sharpe ratio (Bailey & Lopez de Prado 2014): the PSR of ``returns`` against
    :func:`expected_max_sharpe` of every configuration tried (``n_trials``; ``sr_variance``: the
    variance of the trials' per-period Sharpe ratios). Returns ``sr`` (per period), ``sr0``,
    ``psr`` (against 0), ``dsr``, ``n``, ``skew``, ``kurtosis``, ``n_trials``."""
    n, sr, skew, kurt = _moments(returns)
    sr0 = expected_max_sharpe(n_trials, sr_variance)
    return {"n": n, "sr": None if not np.isfinite(sr) else sr, "skew": skew if np.isfinite(skew) else None,
            "kurtosis": kurt if np.isfinite(kurt) else None, "n_trials": int(n_trials), "sr0": sr0,
            "psr": psr_from_moments(sr, n, skew, kurt, 0.0), "dsr": psr_from_moments(sr, n, skew, kurt, sr0)}


def holm(p_values) -> list[float | None]:
    """Holm (1979) step-down adjusted p-values, in the input order (None stays None)."""
    idx = [i for i, p in enumerate(p_values) if p is not None]
    m = len(idx)
    out: list[float | None] = [None] * len(p_values)
    running = 0.0
    for rank, i in enumerate(sorted(idx, key=lambda j: p_values[j])):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        out[i] = running
    return out


def wilson_interval(successes: int, n: int, z: float = 1.959963984540054) -> tuple[float, float] | None:
    """Wilson score 95% interval of a proportion (None for n = 0)."""
    if n == 0:
        return None
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)
