"""Mean-variance optimisation (Markowitz) on PyPortfolioOpt.

Conventions:
* ``history`` holds (adjusted) close prices, one column per asset, indexed by increasing dates;
  simple returns are computed from consecutive rows (``pct_change``).
* Expected returns and covariance are annualised with ``periods_per_year`` (given, or measured
  from the dates of the estimation window and snapped to a standard calendar, see
  :func:`bt_lstm_mvo.periods.snapped_periods_per_year`). ``risk_free_rate`` is annual and decimal.
* Long-only and fully invested: weights lie in ``weight_bounds`` (capped by ``max_weight``)
  and sum to 1. The bounds hold exactly in the output: solver noise (below
  :data:`SOLVER_TOL`) is snapped to the bound and the residual put on the asset with the most
  room; a violation larger than that is treated as a solver failure, never hidden.

Implemented: objectives ``max_sharpe`` (tangency portfolio) and ``min_volatility``; expected
returns ``mean_historical`` (compounded, PyPortfolioOpt ``mean_historical_return``) and
``arithmetic`` (``compounding=False``); covariance ``sample`` (``sample_cov``) and
``ledoit_wolf`` (``CovarianceShrinkage(...).ledoit_wolf()``); expanding or rolling
(``estimation_window``) estimation. A fresh ``EfficientFrontier`` is built for every estimate
(PyPortfolioOpt's optimiser is single-use).

Fallback chain (each step recorded in ``fallbacks_`` as ``{date, reason, used}`` and logged):
``max_sharpe`` fails (no asset's expected return beats the risk-free rate, solver failure)
-> ``min_volatility`` -> the previous ``weights_`` (if any, same assets) -> equal weight.
A covariance matrix that PyPortfolioOpt had to repair (not positive semidefinite: its
eigenvalues are amended, with a warning) is recorded in ``fallbacks_`` too. Bad input (NaN
or non-positive prices, fewer rows than assets + 1, an asset with zero return variance) is an
error, not a fallback.
"""

from __future__ import annotations

import functools
import logging
import math
import numbers
import types
import warnings

import numpy as np
import pandas as pd

from bt_lstm_mvo.allocators.base import Allocator, check_history
from bt_lstm_mvo.errors import AllocationError, ConfigError, DataError
from bt_lstm_mvo.periods import snapped_periods_per_year
from bt_lstm_mvo.signals import signals_held
from bt_lstm_mvo.vocab import MVO_COVARIANCES, MVO_EXPECTED_RETURNS, MVO_OBJECTIVES

logger = logging.getLogger(__name__)

OBJECTIVES = MVO_OBJECTIVES
EXPECTED_RETURNS = MVO_EXPECTED_RETURNS
COVARIANCES = MVO_COVARIANCES
#: largest bound violation / sum error attributed to solver noise (bigger ones are failures)
SOLVER_TOL = 1e-6
#: a weight this close to a bound is set to the bound
SNAP_TOL = 1e-9
#: return standard deviation at or below which an asset counts as constant
ZERO_VARIANCE_TOL = 1e-12



@functools.cache
def _pf() -> types.SimpleNamespace:
    """PyPortfolioOpt and cvxpy, imported on the first estimate: building an allocator (which is
    also how a config's parameters are validated, in every sweep worker) does not need the
    0.85 s their import costs. Signals are held meanwhile: cvxpy swallows a Ctrl-C that lands in
    its solvers' imports; it is answered right after."""
    with signals_held():
        import cvxpy as cp
        from pypfopt import expected_returns, risk_models
        from pypfopt.efficient_frontier import EfficientFrontier
        from pypfopt.exceptions import OptimizationError

    return types.SimpleNamespace(
        expected_returns=expected_returns, risk_models=risk_models, EfficientFrontier=EfficientFrontier,
        solver_errors=(OptimizationError, ValueError, cp.error.SolverError, np.linalg.LinAlgError))




def _is_number(x) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _date_label(value) -> str:
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    return str(value)


class MVOAllocator(Allocator):
    """Mean-variance optimal weights from the price history given to :meth:`fit`.

    Params:
        objective: ``"max_sharpe"`` (default) or ``"min_volatility"``.
        expected_returns: ``"mean_historical"`` (default; compounded annual growth) or
            ``"arithmetic"`` (mean daily return times ``periods_per_year``).
        covariance: ``"sample"`` (default) or ``"ledoit_wolf"`` (shrunk to constant variance).
        periods_per_year: ``None`` (default) measures it from the estimation window's dates
            (:func:`bt_lstm_mvo.periods.snapped_periods_per_year`); else a positive number, e.g. 252.
        weight_bounds: ``(lower, upper)`` per asset, ``0 <= lower < upper <= 1``; default (0, 1).
        max_weight: optional cap per asset (e.g. 0.4), combined with ``upper`` (the smaller
            wins); holds exactly in the output. Default ``None``.
        risk_free_rate: annual, decimal; used by ``max_sharpe``. Default 0.0.
        estimation_window: ``None`` (default): every row given to ``fit`` (expanding window);
            an int N >= 2: the last N rows only (rolling window).

    Learned attributes (after ``fit``): ``weights_`` (Series by asset, sums to 1),
    ``method_`` (what produced them: ``"max_sharpe"``, ``"min_volatility"``, ``"previous"``,
    ``"equal_weight"``), ``expected_returns_``, ``covariance_``, ``periods_per_year_``,
    ``estimation_start_``/``estimation_end_`` (first/last date of the window used) and
    ``fallbacks_`` (list of ``{"date", "reason", "used"}``, appended over successive fits).
    """

    lookback = 1
    requires_fit = True

    def __init__(
        self,
        objective: str = "max_sharpe",
        expected_returns: str = "mean_historical",
        covariance: str = "sample",
        periods_per_year: float | None = None,
        weight_bounds: tuple[float, float] = (0.0, 1.0),
        max_weight: float | None = None,
        risk_free_rate: float = 0.0,
        estimation_window: int | None = None,
    ):
        name = type(self).__name__
        for param, value, allowed in (
            ("objective", objective, OBJECTIVES),
            ("expected_returns", expected_returns, EXPECTED_RETURNS),
            ("covariance", covariance, COVARIANCES),
        ):
            if value not in allowed:
                raise ConfigError(f"{name}: {param} must be one of {list(allowed)}, got {value!r}")
        if periods_per_year is not None and not (
            _is_number(periods_per_year) and math.isfinite(periods_per_year) and periods_per_year > 0
        ):
            raise ConfigError(
                f"{name}: periods_per_year must be None (measure from dates) or a positive number, "
                f"got {periods_per_year!r}"
            )
        if (
            not isinstance(weight_bounds, (tuple, list))
            or len(weight_bounds) != 2
            or not all(_is_number(b) and math.isfinite(b) for b in weight_bounds)
        ):
            raise ConfigError(f"{name}: weight_bounds must be a pair of numbers (lower, upper), got "
                              f"{weight_bounds!r}")
        lower, upper = float(weight_bounds[0]), float(weight_bounds[1])
        if not 0.0 <= lower < upper <= 1.0:
            raise ConfigError(
                f"{name}: weight_bounds must satisfy 0 <= lower < upper <= 1 (long-only, no leverage), "
                f"got {weight_bounds!r}"
            )
        if max_weight is not None and not (
            _is_number(max_weight) and math.isfinite(max_weight) and 0.0 < max_weight <= 1.0
        ):
            raise ConfigError(f"{name}: max_weight must be None or a number in (0, 1], got {max_weight!r}")
        if max_weight is not None and max_weight <= lower:
            raise ConfigError(
                f"{name}: max_weight ({max_weight}) must exceed the lower weight bound ({lower})"
            )
        if not (_is_number(risk_free_rate) and math.isfinite(risk_free_rate)):
            raise ConfigError(
                f"{name}: risk_free_rate must be a finite annual decimal rate (0.02 = 2%), "
                f"got {risk_free_rate!r}"
            )
        if estimation_window is not None and not (
            isinstance(estimation_window, numbers.Integral)
            and not isinstance(estimation_window, bool)
            and estimation_window >= 2
        ):
            raise ConfigError(
                f"{name}: estimation_window must be None (all rows) or an integer >= 2 (rows), "
                f"got {estimation_window!r}"
            )
        self.objective = objective
        self.expected_returns = expected_returns
        self.covariance = covariance
        self.periods_per_year = None if periods_per_year is None else float(periods_per_year)
        self.weight_bounds = (lower, upper)
        self.max_weight = None if max_weight is None else float(max_weight)
        self.risk_free_rate = float(risk_free_rate)
        self.estimation_window = None if estimation_window is None else int(estimation_window)

    # -- contract ---------------------------------------------------------------------------

    def fit(self, history: pd.DataFrame) -> MVOAllocator:
        """Estimate ``weights_`` from ``history`` (its last ``estimation_window`` rows, or all)."""
        if not hasattr(self, "fallbacks_"):
            self.fallbacks_: list[dict] = []
        previous = getattr(self, "weights_", None)
        window = self._estimation_window(history)
        assets = list(window.columns)
        lower, upper = self._bounds(len(assets))
        returns = self._check_prices(window)
        date = _date_label(window.index[-1])

        ppy = self.periods_per_year
        if ppy is None:
            if not isinstance(window.index, pd.DatetimeIndex):
                raise DataError(
                    f"{type(self).__name__}: periods_per_year=None needs a DatetimeIndex to measure "
                    f"bars per year, got {type(window.index).__name__}; pass periods_per_year"
                )
            ppy = snapped_periods_per_year(window.index)
        mu, cov = self._estimate(window, ppy, date)

        weights, method = None, None
        chain = ["max_sharpe", "min_volatility"] if self.objective == "max_sharpe" else ["min_volatility"]
        for step, objective in enumerate(chain):
            try:
                weights = self._optimise(objective, mu, cov, lower, upper, date)
                method = objective
                break
            except AllocationError as exc:
                if step + 1 < len(chain):
                    used = chain[step + 1]
                elif previous is not None and list(previous.index) == assets:
                    used = "previous weights"
                else:
                    used = "equal weight"
                self._record(date, f"{objective} failed: {exc}", used)
        if weights is None:
            if previous is not None and list(previous.index) == assets:
                weights, method = previous.copy(), "previous"
            else:
                weights = pd.Series(np.full(len(assets), 1.0 / len(assets)), index=assets)
                method = "equal_weight"

        self.weights_ = weights.astype(float).rename(None)
        self.method_ = method
        self.expected_returns_ = mu
        self.covariance_ = cov
        self.periods_per_year_ = float(ppy)
        self.estimation_start_ = window.index[0]
        self.estimation_end_ = window.index[-1]
        self.n_returns_ = len(returns)
        return self

    def check_universe(self, n_assets: int) -> None:
        """The weight bounds (and ``max_weight``) can sum to 1 over ``n_assets``."""
        self._bounds(n_assets)

    def min_history_rows(self, n_assets: int) -> int:
        """Assets + 1 price rows (the covariance of n assets needs n returns), or the
        ``estimation_window`` when that is longer."""
        return max(n_assets + 1, self.estimation_window or 0)

    def allocate(self, history: pd.DataFrame) -> pd.Series:
        weights = getattr(self, "weights_", None)
        if weights is None:
            raise AllocationError(
                f"{type(self).__name__}: allocate() called before fit(); call fit(history) first "
                "(requires_fit is True)"
            )
        if list(history.columns) != list(weights.index):
            raise AllocationError(
                f"{type(self).__name__}: history columns {list(history.columns)} differ from the "
                f"fitted assets {list(weights.index)}; refit on the same assets"
            )
        return weights.copy()

    def describe(self) -> dict:
        weights = getattr(self, "weights_", None)
        return {
            "allocator": type(self).__name__,
            "objective": self.objective,
            "expected_returns": self.expected_returns,
            "covariance": self.covariance,
            "periods_per_year": self.periods_per_year,
            "weight_bounds": list(self.weight_bounds),
            "max_weight": self.max_weight,
            "risk_free_rate": self.risk_free_rate,
            "estimation_window": self.estimation_window,
            "weights": None if weights is None else {str(k): float(v) for k, v in weights.items()},
            "method": getattr(self, "method_", None),
            "periods_per_year_used": getattr(self, "periods_per_year_", None),
            "fallbacks": [dict(f) for f in getattr(self, "fallbacks_", [])],
        }

    # -- steps ------------------------------------------------------------------------------

    def _estimation_window(self, history: pd.DataFrame) -> pd.DataFrame:
        check_history(history, type(self).__name__)
        if self.estimation_window is not None:
            return history.iloc[-self.estimation_window :]
        return history

    def _bounds(self, n_assets: int) -> tuple[float, float]:
        lower, upper = self.weight_bounds
        if self.max_weight is not None:
            upper = min(upper, self.max_weight)
        if lower * n_assets > 1.0 + 1e-12 or upper * n_assets < 1.0 - 1e-12:
            raise ConfigError(
                f"{type(self).__name__}: weight bounds [{lower}, {upper}] (weight_bounds/max_weight) "
                f"cannot sum to 1 over {n_assets} assets; need lower * n <= 1 <= upper * n"
            )
        return lower, upper

    def _check_prices(self, window: pd.DataFrame) -> pd.DataFrame:
        """Validate the estimation window; return its simple returns."""
        name = type(self).__name__
        n_assets = window.shape[1]
        try:
            prices = window.astype(float)
        except (TypeError, ValueError):
            raise DataError(f"{name}: prices must be numeric; columns dtypes {dict(window.dtypes)}") from None
        values = prices.to_numpy()
        for j, asset in enumerate(prices.columns):
            col = values[:, j]
            nan = np.isnan(col)
            if nan.any():
                raise DataError(
                    f"{name}: asset {asset!r} has {int(nan.sum())} NaN prices in the estimation window "
                    f"(first on {_date_label(prices.index[nan][0])}); prices must be present; fill or "
                    "drop them explicitly before fitting"
                )
            bad = ~np.isfinite(col) | (col <= 0)
            if bad.any():
                raise DataError(
                    f"{name}: asset {asset!r} has {int(bad.sum())} non-positive or infinite prices "
                    f"(first {col[bad][0]!r} on {_date_label(prices.index[bad][0])}); prices must be > 0"
                )
        if len(prices) < n_assets + 1:
            raise DataError(
                f"{name}: the estimation window has {len(prices)} price rows for {n_assets} assets; "
                f"need at least assets + 1 = {n_assets + 1} rows (a longer history or estimation_window)"
            )
        returns = prices.pct_change().iloc[1:]
        std = returns.std(ddof=0)
        flat = [str(a) for a in std.index[(std <= ZERO_VARIANCE_TOL).to_numpy()]]
        if flat:
            raise AllocationError(
                f"{name}: asset(s) {flat} have zero return variance over the estimation window "
                f"({_date_label(prices.index[0])}..{_date_label(prices.index[-1])}; constant price); "
                "mean-variance optimisation needs variance > 0: drop the asset or use a longer window"
            )
        return returns

    def _estimate(self, window: pd.DataFrame, ppy: float, date: str) -> tuple[pd.Series, pd.DataFrame]:
        prices = window.astype(float)
        pf = _pf()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            mu = pf.expected_returns.mean_historical_return(
                prices, compounding=self.expected_returns == "mean_historical", frequency=ppy
            )
            if self.covariance == "sample":
                cov = pf.risk_models.sample_cov(prices, frequency=ppy)
            else:
                cov = pf.risk_models.CovarianceShrinkage(prices, frequency=ppy).ledoit_wolf()
        context = f"{self.covariance} covariance / {self.expected_returns} returns"
        self._record_warnings(caught, date, context)
        mu = pd.Series(np.asarray(mu, dtype=float), index=window.columns)
        cov = pd.DataFrame(np.asarray(cov, dtype=float), index=window.columns, columns=window.columns)
        if not np.isfinite(mu.to_numpy()).all() or not np.isfinite(cov.to_numpy()).all():
            raise AllocationError(
                f"{type(self).__name__}: estimated expected returns or covariance are not finite "
                f"(expected returns {mu.round(6).to_dict()})"
            )
        return mu, cov

    def _optimise(
        self, objective: str, mu: pd.Series, cov: pd.DataFrame, lower: float, upper: float, date: str
    ) -> pd.Series:
        """Solve one objective on a fresh EfficientFrontier; AllocationError on any failure."""
        if objective == "max_sharpe" and mu.max() <= self.risk_free_rate:
            raise AllocationError(
                f"no asset's expected return beats the risk-free rate {self.risk_free_rate:g} "
                f"(best is {mu.idxmax()!r} at {mu.max():.6g})"
            )
        pf = _pf()
        ef = pf.EfficientFrontier(mu, cov, weight_bounds=(lower, upper))
        error = None
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                if objective == "max_sharpe":
                    ef.max_sharpe(risk_free_rate=self.risk_free_rate)
                else:
                    ef.min_volatility()
            except pf.solver_errors as exc:
                error = exc
        if error is not None:
            notes = "; ".join(dict.fromkeys(str(w.message) for w in caught))
            raise AllocationError(
                f"{type(error).__name__}: {error}".strip() + (f" (solver warnings: {notes})" if notes else "")
            )
        self._record_warnings(caught, date, objective)
        raw = np.asarray(ef.weights, dtype=float)
        return pd.Series(_tidy_weights(raw, lower, upper), index=mu.index)

    def _record_warnings(self, caught, date: str, context: str) -> None:
        """Record PyPortfolioOpt/cvxpy warnings in ``fallbacks_``; re-emit any other warning."""
        for w in caught:
            message = str(w.message)
            origin = str(w.filename).replace("\\", "/")
            if "/pypfopt/" not in origin and "/cvxpy/" not in origin:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
                continue
            if "positive semidefinite" in message:
                used = "covariance with negative eigenvalues set to 0 (PyPortfolioOpt spectral fix)"
            else:
                used = "result as returned (warning only)"
            self._record(date, f"{context}: {message}", used)

    def _record(self, date: str, reason: str, used: str) -> None:
        entry = {"date": date, "reason": reason, "used": used}
        self.fallbacks_.append(entry)
        logger.warning("%s on %s: %s; using %s", type(self).__name__, date, reason, used)


def _tidy_weights(raw: np.ndarray, lower: float, upper: float) -> np.ndarray:
    """Make solver output satisfy the bounds and sum to 1 exactly (noise only; see module doc)."""
    if raw.shape == () or not np.isfinite(raw).all():
        raise AllocationError(f"solver returned non-finite weights {raw!r}")
    if (raw < lower - SOLVER_TOL).any() or (raw > upper + SOLVER_TOL).any():
        raise AllocationError(
            f"solver weights {np.round(raw, 8).tolist()} break the bounds [{lower}, {upper}] by more "
            f"than {SOLVER_TOL}"
        )
    if abs(raw.sum() - 1.0) > SOLVER_TOL:
        raise AllocationError(f"solver weights sum to {raw.sum():.9g}, not 1 (tolerance {SOLVER_TOL})")
    w = np.clip(raw, lower, upper)
    w[np.abs(w - lower) < SNAP_TOL] = lower
    w[np.abs(w - upper) < SNAP_TOL] = upper
    residual = 1.0 - w.sum()
    room = (upper - w) if residual > 0 else (w - lower)
    # largest positions first, so the (tiny) residual never opens a new position
    for i in np.argsort(-w, kind="stable"):
        if residual == 0.0:
            break
        step = math.copysign(min(abs(residual), room[i]), residual)
        w[i] += step
        residual -= step
    return np.clip(w, lower, upper)
