"""Measure the real 2019-2024 statistics of the five paper assets; write ``feeds/synthetic_params.py``.

Usage::

    python scripts/calibrate_synthetic.py [--data-dir DIR] [--out feeds/synthetic_params.py]

Conventions (all measured per asset on its OWN calendar, never on an aligned one):

* Returns are daily log returns of ``Adj Close`` between consecutive rows inside the window
  (the first return is the window's second row over its first).
* Annualisation: 365 periods a year for crypto (tickers ending ``-USD``, every calendar day),
  252 for equities/ETFs (business days). ``ann_mean_log = mean * periods``,
  ``ann_vol = std(ddof=1) * sqrt(periods)``.
* ``excess_kurtosis`` is the population (biased, Fisher) excess kurtosis of the raw returns.
  ``resid_excess_kurtosis`` is the same for returns divided by an EWMA volatility forecast
  (RiskMetrics, lambda 0.94), a cheap stand-in for GARCH residuals; the Student-t degrees of
  freedom ``t_df`` are its method-of-moments value ``4 + 6 / kurtosis`` (clipped to [4.5, 30]).
* ``sq_ret_acf1`` / ``sq_ret_acf5``: autocorrelation of squared returns at lags 1 and 5 (a
  volatility-clustering proxy, informational).
* Bar shape uses raw ``Open/High/Low/Close`` (split-adjusted; dividends do not matter for
  intraday ratios): ``gap = log(Open_t / Close_{t-1})`` is regressed on the close-to-close
  return ``log(Close_t / Close_{t-1})``: slope ``gap_beta``, residual std ``gap_resid_std``.
  Wicks: ``upper = log(High / max(Open, Close))``, ``lower = log(min(Open, Close) / Low)``.
* Volume: ``median_volume``; ``log_volume_noise = std(diff(log Volume)) / sqrt(2)`` (the std of
  an i.i.d. log-volume noise that would give those day-to-day changes).
* Correlation: Pearson correlation of the own-calendar daily log returns on the dates that all
  assets share (so a crypto Monday return is Sunday->Monday, an equity one Friday->Monday).

The measuring code is :func:`calibrate`; tests re-run it and compare with the generated file.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import os
from pathlib import Path

import numpy as np
import pandas as pd

REPO_ROOT = Path(__file__).resolve().parent.parent

from bt_lstm_mvo.errors import DataError  # noqa: E402
from bt_lstm_mvo.paths import shared_data_dir  # noqa: E402
from bt_lstm_mvo.periods import CRYPTO_BARS_PER_YEAR, EQUITY_BARS_PER_YEAR  # noqa: E402

TICKERS = ("BTC-USD", "ETH-USD", "SPY", "GLD", "NVDA")
WINDOW = ("2019-01-01", "2024-12-31")
EWMA_LAMBDA = 0.94  # RiskMetrics daily decay
T_DF_MIN = 4.5  # keep the innovations' kurtosis finite (needs df > 4) with a margin
T_DF_MAX = 30.0  # beyond ~30 a Student-t is practically normal
COLUMNS = ["Open", "High", "Low", "Close", "Adj Close", "Volume"]
DEFAULT_OUT = REPO_ROOT / "feeds" / "synthetic_params.py"


def is_crypto(ticker: str) -> bool:
    """Crypto tickers are spelled ``<COIN>-USD`` (Yahoo convention)."""
    return ticker.endswith("-USD")


def periods_per_year(ticker: str) -> int:
    return CRYPTO_BARS_PER_YEAR if is_crypto(ticker) else EQUITY_BARS_PER_YEAR


def read_prices(data_dir: Path, ticker: str, window: tuple[str, str] = WINDOW) -> pd.DataFrame:
    """Read ``<ticker>.csv`` and keep the rows inside ``window`` (inclusive)."""
    path = Path(data_dir) / f"{ticker}.csv"
    if not path.is_file():
        raise DataError(f"{path}: file not found; the calibration needs the real Yahoo CSV for {ticker}")
    frame = pd.read_csv(path, parse_dates=["Date"], index_col="Date")
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(f"{path}: missing columns {missing}; expected {COLUMNS}")
    frame = frame.loc[pd.Timestamp(window[0]) : pd.Timestamp(window[1]), COLUMNS].astype(float)
    if len(frame) < 30:  # fewer rows than a month cannot support these statistics
        raise DataError(f"{path}: only {len(frame)} rows in {window[0]}..{window[1]}; need at least 30")
    return frame


def log_returns(prices: pd.Series) -> pd.Series:
    return np.log(prices).diff().iloc[1:]


def excess_kurtosis(x: np.ndarray) -> float:
    """Population (biased) Fisher excess kurtosis."""
    d = np.asarray(x, dtype=float) - np.mean(x)
    return float(np.mean(d**4) / np.mean(d**2) ** 2 - 3.0)


def ewma_standardise(r: np.ndarray, lam: float = EWMA_LAMBDA) -> np.ndarray:
    """Returns over the EWMA volatility forecast made the day before (seeded with the sample variance)."""
    r = np.asarray(r, dtype=float)
    var = np.empty_like(r)
    var[0] = np.var(r)
    for t in range(1, len(r)):
        var[t] = lam * var[t - 1] + (1.0 - lam) * r[t - 1] ** 2
    return r / np.sqrt(var)


def student_t_df(kurtosis: float) -> float:
    """Method-of-moments Student-t degrees of freedom for a given excess kurtosis (6 / (df - 4))."""
    if kurtosis <= 6.0 / (T_DF_MAX - 4.0):
        return T_DF_MAX
    return float(np.clip(4.0 + 6.0 / kurtosis, T_DF_MIN, T_DF_MAX))


def autocorrelation(x: np.ndarray, lag: int) -> float:
    d = np.asarray(x, dtype=float) - np.mean(x)
    return float(np.sum(d[lag:] * d[:-lag]) / np.sum(d * d))


def bar_shape_stats(frame: pd.DataFrame) -> dict[str, float]:
    """Open-gap regression and wick sizes from raw OHLC (see module docstring)."""
    o, h, lo, c = (frame[k].to_numpy() for k in ("Open", "High", "Low", "Close"))
    gap = np.log(o[1:] / c[:-1])
    ret = np.log(c[1:] / c[:-1])
    gd, rd = gap - gap.mean(), ret - ret.mean()
    beta = float(np.sum(gd * rd) / np.sum(rd * rd))
    top, bottom = np.maximum(o, c), np.minimum(o, c)
    return {
        "gap_beta": beta,
        "gap_resid_std": float(np.std(gd - beta * rd, ddof=1)),
        "mean_upper_wick": float(np.mean(np.log(h / top))),
        "mean_lower_wick": float(np.mean(np.log(bottom / lo))),
        "mean_log_range": float(np.mean(np.log(h / lo))),
    }


def volume_stats(volume: pd.Series) -> dict[str, float]:
    v = volume.to_numpy(dtype=float)
    v = v[v > 0]
    return {
        "median_volume": float(np.median(v)),
        "log_volume_noise": float(np.std(np.diff(np.log(v)), ddof=1) / np.sqrt(2.0)),
    }


def asset_stats(frame: pd.DataFrame, ticker: str) -> dict:
    """Every per-asset statistic the generator uses (plus a few informational ones)."""
    periods = periods_per_year(ticker)
    r = log_returns(frame["Adj Close"]).to_numpy()
    kurt_resid = excess_kurtosis(ewma_standardise(r))
    sq = r**2
    return {
        "calendar": "crypto" if is_crypto(ticker) else "business",
        "periods_per_year": periods,
        "n_returns": int(len(r)),
        "start_date": frame.index[0].strftime("%Y-%m-%d"),
        "start_price": float(frame["Adj Close"].iloc[0]),
        "ann_mean_log": float(np.mean(r) * periods),
        "ann_vol": float(np.std(r, ddof=1) * np.sqrt(periods)),
        "excess_kurtosis": excess_kurtosis(r),
        "resid_excess_kurtosis": kurt_resid,
        "t_df": student_t_df(kurt_resid),
        "sq_ret_acf1": autocorrelation(sq, 1),
        "sq_ret_acf5": autocorrelation(sq, 5),
        **bar_shape_stats(frame),
        **volume_stats(frame["Volume"]),
    }


def correlation(returns: dict[str, pd.Series]) -> dict:
    """Correlation of own-calendar returns on the dates all series share."""
    joined = pd.concat(returns, axis=1, join="inner")
    corr = np.corrcoef(joined.to_numpy().T)
    corr = 0.5 * (corr + corr.T)  # exact symmetry and a unit diagonal (corrcoef leaves ~1e-16 noise)
    np.fill_diagonal(corr, 1.0)
    return {"tickers": list(joined.columns), "n_dates": int(len(joined)), "matrix": corr.tolist()}


def calibrate(data_dir: str | Path | None = None, tickers=TICKERS, window=WINDOW) -> dict:
    """Measure everything from the real CSVs in ``data_dir`` (default: the shared data folder)."""
    data_dir = Path(data_dir) if data_dir is not None else shared_data_dir()
    frames = {t: read_prices(data_dir, t, window) for t in tickers}
    return {
        "tickers": list(tickers),
        "window": list(window),
        "assets": {t: asset_stats(f, t) for t, f in frames.items()},
        "correlation": correlation({t: log_returns(f["Adj Close"]) for t, f in frames.items()}),
    }


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _display_path(path: Path) -> str:
    """``path`` relative to the repository root when it is nearby (keeps machine paths out of the file)."""
    try:
        return os.path.relpath(Path(path).resolve(), REPO_ROOT)
    except ValueError:  # another drive on Windows
        return str(path)


def _fmt(value) -> str:
    return repr(value)


def render_module(calib: dict, data_dir: Path, today: _dt.date) -> str:
    """Source text of the generated ``feeds/synthetic_params.py`` (plain dicts/lists, exact float reprs)."""
    tickers = calib["tickers"]
    lines = [
        "# GENERATED FILE - do not edit by hand.",
        "# Written by scripts/calibrate_synthetic.py (function calibrate) on "
        f"{today.isoformat()} from the real Yahoo daily CSVs",
        f"# in {_display_path(data_dir)} ({', '.join(t + '.csv' for t in tickers)}),",
        f"# window {calib['window'][0]}..{calib['window'][1]}, returns from 'Adj Close'. "
        "Re-run the script to refresh.",
        '"""Real-data statistics the synthetic market (``feeds.synthetic``) is calibrated to.',
        "",
        "See ``scripts/calibrate_synthetic.py`` for the exact definition of every number.",
        '"""',
        "",
        f"TICKERS = {tickers!r}",
        f"WINDOW = {calib['window']!r}",
        "",
        "# sha256 of each source CSV at calibration time",
        "SOURCE_SHA256 = {",
    ]
    lines += [f"    {t!r}: {file_sha256(Path(data_dir) / f'{t}.csv')!r}," for t in tickers]
    lines += ["}", "", "ASSETS = {"]
    for t in tickers:
        lines.append(f"    {t!r}: {{")
        lines += [f"        {k!r}: {_fmt(v)}," for k, v in calib["assets"][t].items()]
        lines.append("    },")
    corr = calib["correlation"]
    lines += [
        "}",
        "",
        "# Correlation of daily log returns on the dates all tickers share (order: CORRELATION['tickers'])",
        "CORRELATION = {",
        f"    'tickers': {corr['tickers']!r},",
        f"    'n_dates': {corr['n_dates']!r},",
        "    'matrix': [",
    ]
    for row in corr["matrix"]:
        lines += ["        ["] + [f"            {_fmt(x)}," for x in row] + ["        ],"]
    lines += ["    ],", "}", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None, help="folder of Yahoo CSVs (default: shared)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="generated module path")
    args = parser.parse_args(argv)
    data_dir = args.data_dir if args.data_dir is not None else shared_data_dir()
    calib = calibrate(data_dir)
    args.out.write_text(render_module(calib, data_dir, _dt.date.today()))
    print(f"wrote {args.out}")
    for t, s in calib["assets"].items():
        print(
            f"  {t:8s} mean {s['ann_mean_log']:+.3f} vol {s['ann_vol']:.3f} "
            f"kurt {s['excess_kurtosis']:.1f} t_df {s['t_df']:.1f} acf1(r^2) {s['sq_ret_acf1']:.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
