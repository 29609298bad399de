"""The command line: ``bt-lstm-mvo run CONFIG``, ``python -m bt_lstm_mvo run CONFIG`` and
``python runner.py CONFIG`` are this one function, :func:`main`.

Exit codes: 0 success; 2 bad config or data (one clear message on stderr, no traceback);
130 interrupted (Ctrl-C), 143 terminated (SIGTERM); in both cases no complete-looking output is
left. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

from bt_lstm_mvo.errors import ConfigError, PluginError
from bt_lstm_mvo.experiment.api import run
from bt_lstm_mvo.experiment.config import load_config
from bt_lstm_mvo.experiment.report.files import release_output, reserve_output
from bt_lstm_mvo.experiment.report.tables import table1
from bt_lstm_mvo.malloc import keep_freed_memory
from bt_lstm_mvo.signals import install_sigterm, interrupted, restore_sigterm
from bt_lstm_mvo.text import one_line


def default_out(name: str) -> Path:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("results") / f"{name}-{stamp}"


def output_folder(args, cfg) -> tuple[Path, str]:
    """Where the results go, and the name of the setting that said so (for error messages)."""
    if args.out:
        return Path(args.out), "--out"
    if cfg.output.dir:
        return Path(cfg.output.dir), "output.dir"
    return default_out(cfg.name), "name"


def run_cli(args) -> int:
    cfg = load_config(args.config)
    out, field = output_folder(args, cfg)
    lock = reserve_output(out, field)
    try:
        return _run(cfg, args, out)
    finally:
        release_output(lock)


def _run(cfg, args, out: Path) -> int:
    t0 = time.perf_counter()

    def stage(msg):
        if not args.quiet:
            print(f"[{time.perf_counter() - t0:6.1f}s] {msg}", file=sys.stderr, flush=True)

    if cfg.mode == "notebook_replication":
        return _replication(cfg, args, out, stage)
    if cfg.mode == "study":
        return _study(cfg, args, out, stage)
    # tqdm bars only on a terminal: in a log file their \r frames would glue lines together
    bars = not args.quiet and sys.stderr.isatty()
    result = run(cfg, data_dir=args.data_dir, progress=bars, stage=stage)
    stage(f"writing report to {out}")
    result.write(out, reserve=False)  # reserved by run_cli before any work
    res = result.results
    if not args.quiet:
        for line in ("SYNTHETIC DATA" if res["data"]["synthetic"] else "", f"Data: {res['data']['label']}"):
            if line:
                print(line)
        print(table1(res).markdown())
        print(f"Report: {out / 'report.html'} (also report.md, results.json, CSVs, PNGs)")
        stage("done")
    else:
        print(out)  # --quiet: only where the results went
    return 0


def _study(cfg, args, out: Path, stage) -> int:
    from bt_lstm_mvo.experiment.report.study import claims_table, write_study_outputs
    from bt_lstm_mvo.experiment.study import run_study

    if cfg.data.source == "frames":
        raise ConfigError("data.source: a study's workers load the data themselves; use csv, yahoo or synthetic")
    res = run_study(cfg, data_dir=args.data_dir, progress=False, stage=stage)
    stage(f"writing report to {out}")
    write_study_outputs(res, out, make_plots=cfg.output.plots)
    if not args.quiet:
        print(claims_table(res).markdown())
        print(f"Report: {out / 'report.html'} (also report.md, results.json, configurations.csv, PNGs)")
        stage("done")
    else:
        print(out)
    return 0


def _replication(cfg, args, out: Path, stage) -> int:
    import torch

    from bt_lstm_mvo.experiment.paper.replication_mode import (
        replication_tables,
        run_notebook_replication,
        write_replication_outputs,
    )

    torch.set_num_threads(cfg.runtime.torch_threads)
    keep_freed_memory(cfg.runtime.malloc_keep_mib)
    data_dir = args.data_dir or cfg.data.data_dir
    if data_dir is None:
        raise ConfigError("data.data_dir: notebook_replication needs the real CSVs; set it or pass --data-dir")
    run = run_notebook_replication(cfg, data_dir, stage=stage, progress=not args.quiet and sys.stderr.isatty())
    stage(f"writing report to {out}")
    write_replication_outputs(run, out, make_plots=cfg.output.plots)
    if not args.quiet:
        for t in replication_tables(run["results"]):
            print(t.markdown())
        print(f"Report: {out / 'report.html'}")
    else:
        print(out)
    return 0



def parse_args(argv=None) -> argparse.Namespace:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["run"]:  # `bt-lstm-mvo run CONFIG`; the runner takes CONFIG directly
        argv = argv[1:]
    ap = argparse.ArgumentParser(
        prog="bt-lstm-mvo run",
        description="Compare an LSTM rebalancer with mean-variance optimisation in Backtrader.",
    )
    ap.add_argument("config", help="experiment YAML (e.g. config.yaml, configs/paper.yaml)")
    ap.add_argument("--data-dir", help="folder of Yahoo-format CSVs (overrides data.data_dir)")
    ap.add_argument("--out", help="output folder (default: results/<name>-<timestamp>)")
    ap.add_argument("--quiet", action="store_true", help="no progress output")
    return ap.parse_args(argv)


def main(argv=None) -> int:
    """Run the command line; returns the exit code."""
    previous = install_sigterm()
    try:
        return run_cli(parse_args(argv))
    except PluginError as exc:
        print(f"error: {one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM (launcher.Terminated)
        return interrupted(exc)
    finally:
        restore_sigterm(previous)


__all__ = ["main", "parse_args", "run_cli"]
