"""The runner's work: load the config, run the experiment, write and print the results."""

from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path

from experiment.config import load_config
from experiment.experiment import run_experiment
from experiment.outputs import write_outputs
from experiment.report import table1
from experiment.results import collect
from lmbt.paths import REPO_ROOT


def default_out(name: str) -> Path:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("results") / f"{name}-{stamp}"


def run_cli(args) -> int:
    cfg = load_config(args.config)
    t0 = time.perf_counter()
    out = Path(args.out) if args.out else (Path(cfg.output.dir) if cfg.output.dir else default_out(cfg.name))
    if out.exists():
        from lmbt.errors import ConfigError

        raise ConfigError(f"--out: {out} already exists; choose a new folder (results are never overwritten)")

    def stage(msg):
        if not args.quiet:
            print(f"[{time.perf_counter() - t0:6.1f}s] {msg}", file=sys.stderr, flush=True)

    if cfg.mode == "notebook_replication":
        return _replication(cfg, args, out, stage)
    result = run_experiment(cfg, data_dir=args.data_dir, progress=not args.quiet, stage=stage)
    stage("collecting results")
    res = collect(result)
    extra_plots = {}
    if cfg.sweep is not None:
        from experiment.results import add_sweep
        from experiment.sweep import run_sweep, sweep_plot

        stage(f"sweep over {', '.join(cfg.sweep.grid) or 'seeds'} ({cfg.sweep.backend}, {cfg.sweep.workers} workers)")
        sweep = run_sweep(cfg, data_dir=args.data_dir, progress=not args.quiet)
        add_sweep(res, sweep)
        extra_plots["Sweep: return, drawdown and turnover"] = lambda folder: sweep_plot(sweep, folder)
    stage(f"writing report to {out}")
    write_outputs(result, res, out, make_plots=cfg.output.plots, extra_plots=extra_plots)
    if not args.quiet:
        for line in ("SYNTHETIC DATA" if res["data"]["synthetic"] else "", f"Data: {res['data']['label']}"):
            if line:
                print(line)
        print(table1(res).markdown())
        print(f"Report: {out / 'report.html'} (also report.md, results.json, CSVs, PNGs)")
        stage("done")
    return 0


def _replication(cfg, args, out: Path, stage) -> int:
    import torch

    from experiment.notebook_run import replication_tables, run_notebook_replication
    from experiment.outputs import write_replication_outputs
    from lmbt.errors import ConfigError

    torch.set_num_threads(cfg.runtime.torch_threads)
    data_dir = args.data_dir or cfg.data.data_dir
    if data_dir is None:
        raise ConfigError("data.data_dir: notebook_replication needs the real CSVs; set it or pass --data-dir")
    run = run_notebook_replication(cfg, data_dir, stage=stage, progress=not args.quiet)
    stage(f"writing report to {out}")
    write_replication_outputs(run, out, make_plots=cfg.output.plots)
    if not args.quiet:
        for t in replication_tables(run["results"]):
            print(t.markdown())
        print(f"Report: {out / 'report.html'}")
    return 0


__all__ = ["run_cli", "REPO_ROOT"]
