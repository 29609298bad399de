"""Parameter sweeps: a grid over one strategy's config (and seeds), run in parallel.

The ``sweep`` section of a config names a strategy, a grid of dotted paths into its config and,
for an LSTM, the seeds::

    sweep:
      strategy: lstm
      grid:
        params.lambda_penalty: [0, 10, 25, 50]
      seeds: [0, 1, 2]
      compare_to: mvo        # optional: run once, tested against every grid point
      backend: loky          # local processes (joblib/loky), or ray
      workers: 2             # parallel tasks (loky processes; Ray: num_cpus of a local instance)
      torch_threads: 1       # torch threads per worker (default: runtime.torch_threads)
      address: null          # ray only: null = start a local instance, "auto" = join a running cluster
      n_boot: 2000           # bootstrap resamples of the significance test
      block_bars: null       # bootstrap block length (default ceil(n ** (1/3)))

Grid keys are dotted paths into ``strategies.<strategy>``: ``params.<key>`` (an allocator
parameter), ``weights.<asset>``, or a strategy field (``schedule``, ``refit``, ``fit_window``...).
Grid points are validated when the config is loaded (:class:`bt_lstm_mvo.experiment.config.SweepConfig`);
failures that only the data can reveal (too few training bars) come back as failure records.

Flow: :func:`expand_grid` turns the config into plain-dict tasks (grid point x seed, plus one
baseline task for ``compare_to``); :func:`run_task` runs one of them in a worker (a top-level
function of a plain dict, so it pickles to loky processes and Ray workers alike) and returns
metrics and the daily test returns, or a failure record with the parameters and the error;
:func:`run_sweep` runs all tasks on the chosen backend and aggregates them (mean, std and the
95% CI half-width over seeds, per grid point) into a :class:`SweepResult`.

Reporting (in :mod:`bt_lstm_mvo.experiment.report`): ``tables.sweep_tables`` gives ``Table`` objects (the aggregated
grid, the failures, and one significance table per grid point when ``compare_to`` is set), and
``plots.sweep_plot`` the return / max drawdown / turnover plot across the first grid parameter.

Results do not depend on the backend or the worker count: every task builds its own allocator
from its own seed, and torch runs with ``torch_threads`` threads in every worker (BLAS/OpenMP
threads of loky workers are capped to the same number, so workers do not oversubscribe the CPU).

Ray is imported only when ``backend: ray`` is used. A local instance's workers run this
interpreter, so they import the installed ``bt_lstm_mvo`` (wheel or editable) as the driver does;
with ``address`` set, the cluster's workers need ``bt_lstm_mvo`` and the same third-party
packages installed (e.g. ``pip install`` the wheel built with ``python -m build`` on every node).
"""

from __future__ import annotations

import itertools
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from bt_lstm_mvo.errors import ConfigError
from bt_lstm_mvo.experiment.config import ExperimentConfig, StrategyConfig
from bt_lstm_mvo.experiment.registry import KINDS
from bt_lstm_mvo.experiment.summary import METRICS, aggregate
from bt_lstm_mvo.jsonsafe import json_clean
from bt_lstm_mvo.malloc import keep_freed_memory
from bt_lstm_mvo.vocab import SWEEP_BACKENDS

log = logging.getLogger(__name__)


# per worker process: loaded markets, keyed by the data config and folder
_MARKETS: dict[str, object] = {}


@dataclass
class SweepResult:
    """What a sweep produced.

    Attributes:
        strategy: the swept strategy's name.
        params: the grid paths, in grid order (``params.lambda_penalty``).
        columns: the table column of each grid path (its last part when unique).
        records: one dict per successful task (``task_id``, ``strategy``, ``overrides``, ``seed``,
            ``metrics``, ``returns`` {ISO date: daily return}, ``periods_per_year``, ``seconds``).
        failures: one dict per failed task (``task_id``, ``strategy``, ``overrides``, ``seed``,
            ``error`` "Type: message").
        table: one row per grid point: the grid columns, ``n`` (ok runs), ``failed``, and
            ``<metric>_mean``, ``<metric>_std``, ``<metric>_ci95`` for every metric.
        baseline: the ``compare_to`` strategy's record (None without one, or if it failed).
        significance: grid point label -> :func:`bt_lstm_mvo.experiment.significance.compare` dict.
        backend, workers, seconds: how it ran (wall time of the whole sweep).
    """

    strategy: str
    params: list[str]
    columns: list[str]
    records: list[dict]
    failures: list[dict]
    table: pd.DataFrame
    backend: str
    workers: int
    seconds: float
    baseline: dict | None = None
    significance: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """Plain JSON-able form (for results.json)."""
        return json_clean({
            "strategy": self.strategy, "params": self.params, "backend": self.backend,
            "workers": self.workers, "seconds": self.seconds,
            "table": self.table.replace({np.nan: None}).to_dict(orient="records"),
            "records": self.records, "failures": self.failures, "baseline": self.baseline,
            "significance": self.significance,
        })


# ----------------------------------------------------------------------------- tasks


def _column_names(paths: list[str]) -> list[str]:
    short = [p.rsplit(".", 1)[-1] for p in paths]
    return [s if short.count(s) == 1 else p for s, p in zip(short, paths)]


def expand_grid(cfg: ExperimentConfig, data_dir: str | Path | None = None) -> list[dict]:
    """Plain-dict tasks: every grid point x every seed, then the ``compare_to`` baseline.

    Each task: ``task_id``, ``strategy``, ``overrides`` {path: value}, ``seed`` (None: the
    strategy's own), ``role`` ("grid" or "baseline"), ``config`` (the whole config as JSON-able
    data), ``data_dir`` and ``torch_threads``.
    """
    sweep = cfg.sweep
    if sweep is None:
        raise ConfigError("sweep: the config has no 'sweep' section")
    spec = cfg.strategies[sweep.strategy]
    if sweep.seeds is not None:
        seeds = list(sweep.seeds)
    elif KINDS[spec.kind].seeded and spec.seeds:
        seeds = list(spec.seeds)
    else:
        seeds = [None]
    plain = cfg.model_dump(mode="json")
    folder = None if data_dir is None else str(data_dir)
    threads = sweep.torch_threads or cfg.runtime.torch_threads
    common = {"config": plain, "data_dir": folder, "torch_threads": threads}
    tasks = []
    for values in itertools.product(*sweep.grid.values()):
        overrides = dict(zip(sweep.grid, values))
        for seed in seeds:
            tasks.append({"task_id": len(tasks), "strategy": sweep.strategy, "overrides": overrides,
                          "seed": seed, "role": "grid", **common})
    if sweep.compare_to is not None:
        tasks.append({"task_id": len(tasks), "strategy": sweep.compare_to, "overrides": {}, "seed": None,
                      "role": "baseline", **common})
    return tasks


def apply_overrides(spec: StrategyConfig, overrides: dict) -> StrategyConfig:
    """A validated copy of ``spec`` with dotted-path ``overrides`` (``params.lambda_penalty``) set."""
    raw = spec.model_dump()
    for path, value in overrides.items():
        head, _, key = path.partition(".")
        if key:
            raw[head] = {**(raw[head] or {}), key: value}
        else:
            raw[head] = value
    return StrategyConfig.model_validate(raw)


def _market(cfg: ExperimentConfig, data_dir):
    from bt_lstm_mvo.experiment.run import market_for

    key = json.dumps([cfg.data.model_dump(mode="json"), data_dir], sort_keys=True)
    if key not in _MARKETS:
        _MARKETS[key] = market_for(cfg, data_dir)
    return _MARKETS[key]


def run_task(task: dict) -> dict:
    """Run one sweep task (see :func:`expand_grid`); never raises.

    Returns ``status`` "ok" with ``metrics`` (read from the run's analyzers,
    :func:`bt_lstm_mvo.experiment.summary.run_metrics`),
    ``returns`` ({ISO date: daily test return}), ``periods_per_year``, ``trade_start`` and
    ``seconds``; or ``status`` "failed" with ``error`` ("Type: message"). Both carry the task's
    ``task_id``, ``strategy``, ``overrides``, ``seed`` and ``role``.
    """
    import torch

    from bt_lstm_mvo.experiment.run import analyzer_specs, check_against_data, run_backtest, split_for

    t0 = time.perf_counter()
    out = {k: task[k] for k in ("task_id", "strategy", "overrides", "seed", "role")}
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(int(task["torch_threads"]))
        cfg = ExperimentConfig.model_validate({**task["config"], "sweep": None})  # grid checked at load
        keep_freed_memory(cfg.runtime.malloc_keep_mib)
        market = _market(cfg, task["data_dir"])
        start, folds = split_for(cfg, market.index)
        spec = apply_overrides(cfg.strategies[task["strategy"]], task["overrides"])
        check_against_data(cfg.model_copy(update={"strategies": {task["strategy"]: spec}}), market, start, folds)
        run = run_backtest(market, task["strategy"], spec, cfg.broker, start, seed=task["seed"],
                           analyzers=analyzer_specs(cfg, start, folds), folds=folds, engine=cfg.engine)
        metrics = run.metrics()
        ppy = run.periods_per_year
        out.update(
            status="ok",
            metrics={k: (float(v) if v is not None and np.isfinite(v) else None) for k, v in metrics.items()},
            returns={d.strftime("%Y-%m-%d"): float(r) for d, r in run.returns.items()},
            periods_per_year=float(ppy),
            trade_start=start.strftime("%Y-%m-%d"),
            n_fallbacks=len(run.fallbacks),
            order_failures=len(run.order_failures),
        )
    except Exception as exc:  # a failed task is reported, never lost with the others
        msg = " ".join(str(exc).split())
        out.update(status="failed", error=f"{type(exc).__name__}: {msg}")
        log.warning("sweep task %s %s seed=%s failed: %s", out["task_id"], out["overrides"], out["seed"],
                    out["error"])
    finally:
        torch.set_num_threads(threads)
    out["seconds"] = time.perf_counter() - t0
    return out


# ----------------------------------------------------------------------------- backends


def _progress(iterable, total: int, enabled: bool):
    if not enabled:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc="sweep", unit="task")


def _lost(tasks: list[dict], got: list[dict], exc: Exception) -> list[dict]:
    """Failure records for the tasks a crashed backend did not return."""
    seen = {r["task_id"] for r in got}
    error = f"{type(exc).__name__}: {' '.join(str(exc).split())}"
    keys = ("task_id", "strategy", "overrides", "seed", "role", "universe")
    return [{**{k: t[k] for k in keys if k in t}, "status": "failed", "error": error, "seconds": None}
            for t in tasks if t["task_id"] not in seen]


def _run_loky(tasks: list[dict], workers: int, progress: bool, fn=run_task, on_result=None) -> list[dict]:
    """Run ``fn`` (a top-level function of one task dict) over ``tasks`` on loky processes;
    ``on_result`` is called with each record as it comes back."""
    from joblib import Parallel, delayed

    # BLAS/OpenMP threads per worker follow torch_threads (torch itself is set in run_task)
    inner = int(tasks[0]["torch_threads"]) if workers > 1 else None
    out: list[dict] = []
    try:
        with Parallel(n_jobs=workers, backend="loky", return_as="generator_unordered",
                      inner_max_num_threads=inner) as parallel:
            for rec in _progress(parallel(delayed(fn)(t) for t in tasks), len(tasks), progress):
                out.append(rec)
                if on_result is not None:
                    on_result(rec)
    except Exception as exc:  # a worker process died (e.g. out of memory): keep what came back
        log.error("sweep: loky backend failed after %d of %d tasks: %s", len(out), len(tasks), exc)
        out += _lost(tasks, out, exc)
    return out


def _run_ray(tasks: list[dict], workers: int, address: str | None, progress: bool, fn=run_task,
             on_result=None) -> list[dict]:
    try:
        import ray
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ConfigError("sweep.backend: 'ray' needs the ray package (pip install 'ray[default]'), "
                          "or use backend: loky") from exc
    started = False
    if not ray.is_initialized():
        if address is None:  # a private local instance, sized to the worker count
            ray.init(address="local", num_cpus=workers, include_dashboard=False, log_to_driver=False,
                     configure_logging=False, object_store_memory=200 * 1024**2)
        else:  # an existing cluster: its workers have bt_lstm_mvo installed (see the module doc)
            ray.init(address=address, include_dashboard=False, log_to_driver=False, configure_logging=False)
        started = True
    try:
        remote = ray.remote(num_cpus=1, max_retries=0)(fn)
        by_ref = {remote.remote(t): t for t in tasks}
        pending = list(by_ref)
        out: list[dict] = []
        bar = _progress(None, len(tasks), progress) if progress else None
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            for ref in done:
                try:
                    out.append(ray.get(ref))
                except Exception as exc:  # the worker died: report this task, keep the others
                    out += _lost([by_ref[ref]], [], exc)
                if on_result is not None:
                    on_result(out[-1])
                if bar is not None:
                    bar.update(1)
        if bar is not None:
            bar.close()
        return out
    finally:
        if started:
            ray.shutdown()


# ----------------------------------------------------------------------------- run + aggregate


def run_sweep(cfg: ExperimentConfig, data_dir: str | Path | None = None, backend: str | None = None,
              workers: int | None = None, progress: bool = False) -> SweepResult:
    """Run the config's sweep; ``backend``/``workers`` override ``sweep.backend``/``sweep.workers``.

    Failed tasks are collected in ``failures`` (with their parameters and error); the others
    are aggregated. With ``compare_to`` set, every grid point is tested against that strategy
    (:func:`bt_lstm_mvo.experiment.significance.compare`). Ray: a new local instance (``address`` None,
    ``num_cpus=workers``) is shut down afterwards; a connection already open in this process is
    used as it is and left open.
    """
    sweep = cfg.sweep
    if sweep is None:
        raise ConfigError("sweep: the config has no 'sweep' section")
    backend = backend or sweep.backend
    workers = int(workers or sweep.workers)
    if backend not in SWEEP_BACKENDS:
        raise ConfigError(f"sweep.backend: must be one of {list(SWEEP_BACKENDS)}, got {backend!r}")
    tasks = expand_grid(cfg, data_dir)
    log.info("sweep: %d tasks on %s with %d workers", len(tasks), backend, workers)
    t0 = time.perf_counter()
    if backend == "ray":
        records = _run_ray(tasks, workers, sweep.address, progress)
    else:
        records = _run_loky(tasks, workers, progress)
    seconds = time.perf_counter() - t0
    records.sort(key=lambda r: r["task_id"])
    ok = [r for r in records if r["status"] == "ok"]
    failures = [r for r in records if r["status"] != "ok"]
    grid_ok = [r for r in ok if r["role"] == "grid"]
    baseline = next((r for r in ok if r["role"] == "baseline"), None)
    columns = _column_names(list(sweep.grid))
    result = SweepResult(
        strategy=sweep.strategy, params=list(sweep.grid), columns=columns, records=grid_ok,
        failures=failures, table=aggregate_table(cfg, grid_ok, failures), backend=backend, workers=workers,
        seconds=seconds, baseline=baseline,
    )
    if baseline is not None:
        result.significance = _significance(cfg, result)
    return result


def point_label(overrides: dict) -> str:
    """``lambda_penalty=10`` style label of a grid point (``(no grid)`` for an empty grid)."""
    if not overrides:
        return "(no grid)"
    cols = _column_names(list(overrides))
    return ", ".join(f"{c}={v}" for c, v in zip(cols, overrides.values()))


def _key(overrides: dict) -> str:
    return json.dumps(overrides, sort_keys=True, default=str)


def aggregate_table(cfg: ExperimentConfig, records: list[dict], failures: list[dict] | None = None) -> pd.DataFrame:
    """One row per grid point (grid order): grid columns, ``n``, ``failed`` and mean/std/ci95 per metric."""
    sweep = cfg.sweep
    paths = list(sweep.grid)
    columns = _column_names(paths)
    rows = []
    for values in itertools.product(*sweep.grid.values()):
        overrides = dict(zip(paths, values))
        key = _key(overrides)
        runs = [r for r in records if _key(r["overrides"]) == key]
        failed = sum(1 for r in failures or [] if r.get("role") == "grid" and _key(r["overrides"]) == key)
        row = dict(zip(columns, values))
        row.update(n=len(runs), failed=failed)
        mean, std, ci = aggregate([r["metrics"] for r in runs]) if runs else ({}, {}, {})
        for m in METRICS:
            row[f"{m}_mean"] = mean.get(m)
            row[f"{m}_std"] = std.get(m)
            row[f"{m}_ci95"] = ci.get(m)
        rows.append(row)
    table = pd.DataFrame(rows)
    stat_cols = [c for c in table.columns if c.endswith(("_mean", "_std", "_ci95"))]
    table[stat_cols] = table[stat_cols].astype(float)
    return table


def _series(returns: dict) -> pd.Series:
    return pd.Series(returns, dtype=float).rename(index=pd.Timestamp).sort_index()


def _significance(cfg: ExperimentConfig, result: SweepResult) -> dict:
    from bt_lstm_mvo.experiment.significance import compare

    sweep = cfg.sweep
    base = result.baseline
    out = {}
    for values in itertools.product(*sweep.grid.values()):
        overrides = dict(zip(result.params, values))
        runs = [r for r in result.records if _key(r["overrides"]) == _key(overrides)]
        if not runs:
            continue
        out[point_label(overrides)] = compare(
            [_series(r["returns"]) for r in runs], _series(base["returns"]), base["periods_per_year"],
            seeds=[r["seed"] for r in runs], name_a=result.strategy, name_b=sweep.compare_to,
            n_boot=sweep.n_boot, block=sweep.block_bars,
        )
    return out
