"""Write an experiment's outputs into a folder, atomically, and only where the user said.

* :func:`reserve_output` runs before any work: the folder must not exist, its parent must be
  (or become) a writable folder, and a lock file ``.<name>.lock`` beside it (created with
  ``O_EXCL``) keeps a second run from writing the same folder at the same time. A lock left by
  a process that no longer runs is taken over.
* :func:`atomic_dir` writes everything into ``<out>.partial-<pid>`` and renames it to ``<out>``
  only when complete; on any error, Ctrl-C or SIGTERM the partial folder is removed, and a
  write that fails (a full disk) is one line, :class:`~bt_lstm_mvo.errors.OutputError`. So a
  folder named ``<out>`` always holds a complete result, and no complete-looking partial folder
  is ever left.

Files: ``results.json``, ``returns.csv`` and ``equity.csv`` (one column per run: the strategy's
name, ``<name>_seed<k>`` for each seed of a several-seed strategy, ``hold_<TICKER>`` for the
buy-and-hold lines), ``weights_<strategy>.csv`` (the weights and cash held during each return, dated like
returns.csv: after the previous bar's fills), ``targets_<strategy>.csv`` (per
rebalance), ``positions_<run>.csv`` and ``transactions_<run>.csv`` (pyfolio's layout, from the
``Holdings`` analyzer, test period); with per-asset costs ``fills_<run>.csv`` (every fill's fee,
spread and impact) and, when a volume cap cut orders, ``unfilled_<run>.csv`` (wanted, filled,
remainder and policy per order); PNG plots, ``report.md`` and a self-contained ``report.html``.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
import time
from pathlib import Path

import pandas as pd

from bt_lstm_mvo.errors import ConfigError, OutputError
from bt_lstm_mvo.experiment.report import plots
from bt_lstm_mvo.experiment.report.tables import render_html, render_markdown
from bt_lstm_mvo.experiment.summary import run_label


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


#: an unreadable lock file older than this is taken to be left by a crash
STALE_LOCK_SECONDS = 30.0


def _lock_path(out: Path) -> Path:
    return out.with_name(f".{out.name}.lock")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reserve_output(out: Path, field: str = "--out") -> Path:
    """Check that ``out`` can be written, before any work, and lock it; returns the lock file.

    ``field`` names where the folder came from (``--out``, ``output.dir``, ``name``) in errors.
    Release the lock with :func:`release_output`.
    """
    out = Path(out)
    if out.exists() or out.is_symlink():
        raise ConfigError(f"{field}: {out} already exists; choose a new folder (results are never overwritten)")
    ancestor = out.parent
    while not ancestor.exists():
        if ancestor.is_symlink():
            raise ConfigError(f"{field}: {ancestor} is a broken symbolic link; choose another folder")
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise ConfigError(f"{field}: {ancestor} is a file, not a folder; choose another output folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise ConfigError(f"{field}: cannot write in {ancestor} (permission denied); choose another output folder")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"{field}: cannot create {out.parent} ({exc.strerror or exc})") from None
    lock = _lock_path(out)
    for _ in range(3):
        if _take_lock(lock, field):
            return lock
        owner = _lock_owner(lock)
        if owner is not None:
            who = f"pid {owner}" if owner > 0 else f"lock file {lock}"
            raise ConfigError(f"{field}: another run ({who}) is writing {out}; wait for it to finish or "
                              "choose another folder")
    raise ConfigError(f"{field}: cannot lock {out} (lock file {lock} keeps coming back)")


def _take_lock(lock: Path, field: str) -> bool:
    """Create ``lock`` holding our pid, atomically (a hard link of a complete temporary file), so
    no other process ever reads it half-written. False when it exists already."""
    tmp = lock.with_name(f"{lock.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(str(os.getpid()))
        os.link(tmp, lock)
        return True
    except FileExistsError:
        return False
    except OSError as exc:
        raise ConfigError(f"{field}: cannot write in {lock.parent} ({exc.strerror or exc})") from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def _lock_owner(lock: Path) -> int | None:
    """The pid of a live run holding ``lock``; None after removing a lock its owner left behind."""
    try:
        before = lock.stat()
        pid = int(lock.read_text().strip())
    except FileNotFoundError:
        return None  # released meanwhile: try again
    except (OSError, ValueError):  # empty or garbled: being written now, or left by a crash long ago
        try:
            fresh = time.time() - lock.stat().st_mtime < STALE_LOCK_SECONDS
        except OSError:
            return None
        if fresh:
            return -1
        with contextlib.suppress(OSError):
            lock.unlink()
        return None
    if _pid_alive(pid):
        return pid
    with contextlib.suppress(OSError):
        if lock.stat().st_ino == before.st_ino:  # still the dead owner's file, not a newer lock
            lock.unlink()
    return None


def release_output(lock: Path | None) -> None:
    if lock is not None:
        with contextlib.suppress(OSError):
            if lock.read_text().strip() == str(os.getpid()):
                lock.unlink()


@contextlib.contextmanager
def atomic_dir(out: Path):
    out = Path(out)
    if out.exists():
        raise ConfigError(f"--out: {out} already exists; choose a new folder (results are never overwritten)")
    tmp = out.with_name(f"{out.name}.partial-{os.getpid()}")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
    except OSError as exc:
        raise OutputError(f"cannot create the output folder {tmp} ({exc.strerror or exc})") from None
    try:
        yield tmp
        tmp.rename(out)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        hint = " (the disk is full)" if exc.errno == errno.ENOSPC else ""
        raise OutputError(f"could not write the results into {out}: {exc.strerror or exc}{hint}; nothing was "
                          "kept") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_outputs(result, res: dict, out: Path, make_plots: bool = True, extra_plots=None) -> Path:
    """Write every output file of one experiment into ``out`` (created; must not exist)."""
    with atomic_dir(out) as tmp:
        bench = {f"hold {t}": b.returns for t, b in result.benchmarks.items()}
        labelled = {run_label(n, r.seed, len(runs)): r for n, runs in result.runs.items() for r in runs}
        labelled.update({f"hold_{t}": b for t, b in result.benchmarks.items()})
        all_returns = pd.DataFrame({label: r.returns for label, r in labelled.items()})
        all_returns.index.name = "date"
        all_returns.to_csv(tmp / "returns.csv", float_format="%.10g")
        equity = (1 + all_returns.fillna(0.0)).cumprod()
        equity.to_csv(tmp / "equity.csv", float_format="%.10g")
        for name, runs in result.runs.items():
            runs[0].held_weights().rename_axis("date").to_csv(tmp / f"weights_{_safe(name)}.csv", float_format="%.8g")
            runs[0].weights_target.rename_axis("date").to_csv(tmp / f"targets_{_safe(name)}.csv",
                                                              float_format="%.8g")
        for label, r in labelled.items():
            if r.positions is not None:
                r.positions[r.positions.index >= r.trade_start].to_csv(tmp / f"positions_{_safe(label)}.csv",
                                                                       float_format="%.10g")
                r.transactions[r.transactions.index >= r.trade_start].to_csv(
                    tmp / f"transactions_{_safe(label)}.csv", float_format="%.10g")
            if result.config.broker.costs is not None and r.fills:  # each fill's fee / spread / impact
                pd.DataFrame(list(r.fills)).to_csv(tmp / f"fills_{_safe(label)}.csv", index=False,
                                                   float_format="%.10g")
            if r.unfilled:  # every order a volume cap cut: wanted, filled, remainder, policy
                pd.DataFrame(r.unfilled).to_csv(tmp / f"unfilled_{_safe(label)}.csv", index=False,
                                                float_format="%.10g")

        images: dict[str, Path] = {}
        if make_plots:
            note = "SYNTHETIC market - not real prices" if res["data"]["synthetic"] else res["data"]["label"]
            seeds = {n: ([r.returns for r in runs] if len(runs) > 1 else runs[0].returns)
                     for n, runs in result.runs.items()}
            if result.benchmark is not None:
                bench = {**bench, f"benchmark {result.benchmark.name}": result.benchmark}
            images["Equity (growth of $1)"] = plots.equity_plot(
                seeds, bench, tmp / "equity.png", f"{res['name']}: growth of $1 over the test period", note)
            images["Drawdowns"] = plots.drawdown_plot(seeds, tmp / "drawdown.png",
                                                      f"{res['name']}: drawdowns", note)
            for name, runs in result.runs.items():
                images[f"Weights: {name}"] = plots.weights_plot(
                    runs[0].held_weights().drop(columns="cash"), tmp / f"weights_{_safe(name)}.png",
                    f"{name}: held weights (the rest is cash)", note)
            for name, s in res["strategies"].items():
                ts = s["runs"][0]["analyzers"].get("tearsheet") or {}
                if ts.get("monthly"):
                    label = name + (" (first seed)" if len(s["seeds"]) > 1 else "")
                    images[f"Monthly returns: {label}"] = plots.monthly_heatmap(
                        ts["monthly"], tmp / f"monthly_{_safe(name)}.png", f"{label}: monthly returns", note)
                rolling = ts.get("rolling")
                if rolling and rolling.get("sharpe"):
                    label = name + (" (first seed)" if len(s["seeds"]) > 1 else "")
                    images[f"Rolling Sharpe and volatility: {label}"] = plots.rolling_plot(
                        rolling, tmp / f"rolling_{_safe(name)}.png", f"{label}: rolling Sharpe and volatility", note)
            if res.get("alpha"):
                a, b = res["alpha"]["pair"]
                images[f"Alpha: {a} vs {b}"] = plots.alpha_plot(
                    res["alpha"]["windows"], tmp / "alpha.png", f"Excess return of {a} over {b}", note)
            for title, fn in (extra_plots or {}).items():
                images[title] = fn(tmp)

        if result.config.output.interactive:
            from bt_lstm_mvo.experiment.report.interactive import write_interactive

            write_interactive(result, res, tmp / "report-interactive.html")
        (tmp / "results.json").write_text(json.dumps(res, indent=2, allow_nan=False))
        rel = {title: p.name for title, p in images.items()}
        (tmp / "report.md").write_text(render_markdown(res, rel))
        (tmp / "report.html").write_text(render_html(res, images))
    return Path(out)
