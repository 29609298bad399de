"""The Python API: run a config from a notebook and get pandas objects back.

::

    import bt_lstm_mvo

    result = bt_lstm_mvo.run("config.yaml")            # or a dict, or an ExperimentConfig
    result.metrics                                     # DataFrame: one row per strategy (and line)
    result.returns["mvo"]                              # daily test returns (DatetimeIndex)
    result.positions["mvo"], result.transactions["mvo"]  # pyfolio layout
    qs_returns = result.to_quantstats("mvo")           # quantstats.reports.html(qs_returns, ...)
    returns, positions, transactions = result.to_pyfolio("mvo")
    result.write("results/my-run")                     # the runner's files: results.json, report...

Every figure comes from the plugin's analyzers, exactly as the command line reports it
(``bt-lstm-mvo run`` is a thin wrapper over :func:`run` and :meth:`RunResult.write`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from bt_lstm_mvo.errors import ConfigError
from bt_lstm_mvo.experiment.config import ExperimentConfig, load_config, parse_config
from bt_lstm_mvo.experiment.report.results import add_sweep, collect
from bt_lstm_mvo.experiment.run import ExperimentResult, run_experiment
from bt_lstm_mvo.experiment.summary import METRICS, run_label


@dataclass
class RunResult:
    """One experiment's results as pandas objects (first seed where a strategy has several,
    unless the table says otherwise).

    Attributes:
        config: the validated :class:`~bt_lstm_mvo.experiment.config.ExperimentConfig`.
        experiment: the raw :class:`~bt_lstm_mvo.experiment.run.ExperimentResult` (every run).
        results: the plain dict written to ``results.json``.
        sweep: the :class:`~bt_lstm_mvo.experiment.sweep.SweepResult`, when the config has one.
    """

    config: ExperimentConfig
    experiment: ExperimentResult
    results: dict
    sweep: object | None = None

    # ------------------------------------------------------------------ tables
    @property
    def metrics(self) -> pd.DataFrame:
        """One row per run (``lstm_seed0``... for several seeds) and buy-and-hold line
        (``hold_<TICKER>``); the columns of :data:`~bt_lstm_mvo.experiment.summary.METRICS`."""
        rows = {}
        for name, runs in self.experiment.runs.items():
            for r in runs:
                rows[run_label(name, r.seed, len(runs))] = r.metrics()
        for ticker, b in self.experiment.benchmarks.items():
            rows[f"hold_{ticker}"] = b.metrics()
        return pd.DataFrame.from_dict(rows, orient="index", columns=list(METRICS))

    def _runs(self):
        for name, runs in self.experiment.runs.items():
            for r in runs:
                yield run_label(name, r.seed, len(runs)), r
        for ticker, b in self.experiment.benchmarks.items():
            yield f"hold_{ticker}", b

    @property
    def returns(self) -> pd.DataFrame:
        """Daily test-period returns of every run and line (``PaperMetrics.portfolio_returns()``)."""
        return pd.DataFrame({label: r.returns for label, r in self._runs()}).rename_axis("date")

    @property
    def equity(self) -> pd.DataFrame:
        """Growth of 1 over the test period, from :attr:`returns`."""
        return (1.0 + self.returns.fillna(0.0)).cumprod()

    @property
    def weights(self) -> dict[str, pd.DataFrame]:
        """The weights and cash held during each test return (dated like :attr:`returns`), by run."""
        return {label: r.held_weights() for label, r in self._runs()}

    @property
    def positions(self) -> dict[str, pd.DataFrame]:
        """Value per asset and cash after each bar's fills (``Holdings``), by run."""
        return {label: r.positions for label, r in self._runs()}

    @property
    def transactions(self) -> dict[str, pd.DataFrame]:
        """One row per fill: amount, price, symbol, value, commission (``Holdings``), by run."""
        return {label: r.transactions for label, r in self._runs()}

    @property
    def fits(self) -> pd.DataFrame:
        """Every fit of every run: run, date, rows, first and last date of the data it saw."""
        rows = [{"run": label, **f} for label, r in self._runs() for f in r.fits]
        return pd.DataFrame(rows, columns=["run", "date", "rows", "first", "last"])

    @property
    def fallbacks(self) -> pd.DataFrame:
        """Every recorded fallback: run, date, reason, what was used instead."""
        rows = [{"run": label, **f} for label, r in self._runs() for f in r.fallbacks]
        return pd.DataFrame(rows, columns=["run", "date", "reason", "used"])

    # ------------------------------------------------------------------ exports
    def _run(self, name: str):
        runs = dict(self._runs())
        if name not in runs:
            raise ConfigError(f"run {name!r} is not in this result; runs are {sorted(runs)}")
        return runs[name]

    def to_quantstats(self, name: str) -> pd.Series:
        """Daily returns of run ``name`` as QuantStats takes them (tz-naive DatetimeIndex)."""
        return self._run(name).returns.rename(name)

    def to_pyfolio(self, name: str) -> tuple[pd.Series, pd.DataFrame, pd.DataFrame]:
        """``(returns, positions, transactions)`` of run ``name`` on UTC dates, as pyfolio's
        ``create_full_tear_sheet(returns, positions=..., transactions=...)`` takes them."""
        run = self._run(name)
        start = run.trade_start

        def utc(x):
            x = x.copy()
            x.index = pd.DatetimeIndex(x.index).tz_localize("UTC")
            return x

        positions = run.positions[run.positions.index >= start]
        transactions = run.transactions[run.transactions.index >= start]
        return utc(run.returns.rename(name)), utc(positions), utc(transactions)

    def write(self, out: str | Path, reserve: bool = True) -> Path:
        """Write the runner's output folder (results.json, CSVs, plots, report.md/html) into
        ``out``, which must not exist; atomically, and (``reserve``) refused while another run
        writes it. The command line reserves the folder before running and passes False."""
        from bt_lstm_mvo.experiment.report.files import release_output, reserve_output, write_outputs
        from bt_lstm_mvo.experiment.report.plots import sweep_plot

        out = Path(out)
        lock = reserve_output(out, "out") if reserve else None
        try:
            extra = ({"Sweep: return, drawdown and turnover": lambda folder: sweep_plot(self.sweep, folder)}
                     if self.sweep is not None else {})
            return write_outputs(self.experiment, self.results, out, make_plots=self.config.output.plots,
                                 extra_plots=extra)
        finally:
            release_output(lock)


def as_config(config, source: str = "config") -> ExperimentConfig:
    """An :class:`ExperimentConfig` from a path, a mapping or a config object."""
    if isinstance(config, ExperimentConfig):
        return config
    if isinstance(config, (str, Path)):
        return load_config(config)
    if isinstance(config, dict):
        return parse_config(config, source=source)
    raise ConfigError(f"config: expected a YAML path, a dict or an ExperimentConfig, got {type(config).__name__}")


def run(config, data_dir: str | Path | None = None, progress: bool = False, stage=lambda msg: None,
        frames: dict[str, pd.DataFrame] | None = None) -> RunResult:
    """Run an experiment (``mode: backtest``) and return its :class:`RunResult`.

    ``config``: a YAML path, a dict with the YAML's keys, or an ExperimentConfig. ``data_dir``
    overrides ``data.data_dir``; ``progress`` shows the LSTM training bars; ``stage`` receives
    one line per stage. ``frames``: your own prices, one DataFrame per ticker (Yahoo columns,
    ``Date`` a column or the index), with ``data.source: frames``; checked like a CSV file.
    """
    cfg = as_config(config)
    if cfg.mode != "backtest":
        raise ConfigError(f"mode: run() runs mode 'backtest'; {cfg.mode!r} runs with the command line "
                          "(bt-lstm-mvo run CONFIG)")
    if frames is not None and cfg.data.source != "frames":
        raise ConfigError(f"data.source: frames were given but the config reads {cfg.data.source!r}; set "
                          "data.source: frames")
    if cfg.data.source == "frames" and cfg.sweep is not None:
        raise ConfigError("sweep: a sweep's workers load the data themselves, so it needs a data source on disk "
                          "(csv, yahoo or synthetic), not frames")
    if cfg.output.interactive:  # before any work: the view is written at the very end
        try:
            import plotly  # noqa: F401
        except ImportError:
            raise ConfigError("output.interactive: needs plotly (pip install 'bt-lstm-mvo[interactive]'); or set "
                              "output.interactive: false") from None
    experiment = run_experiment(cfg, data_dir=data_dir, progress=progress, stage=stage, frames=frames)
    stage("collecting results")
    results = collect(experiment)
    sweep = None
    if cfg.sweep is not None:
        from bt_lstm_mvo.experiment.sweep import run_sweep

        stage(f"sweep over {', '.join(cfg.sweep.grid) or 'seeds'} ({cfg.sweep.backend}, {cfg.sweep.workers} workers)")
        sweep = run_sweep(cfg, data_dir=data_dir, progress=progress)
        add_sweep(results, sweep)
    return RunResult(config=cfg, experiment=experiment, results=results, sweep=sweep)
