"""Regenerate REPRODUCTION.md: run every piece on the real data, store its results, render.

Usage::

    python scripts/make_reproduction.py --data-dir ../shared/data            # everything (~15 min, 2 cores)
    python scripts/make_reproduction.py --only paper-real walk-forward       # some pieces
    python scripts/make_reproduction.py --render-only                        # re-render from reproduction/
    python scripts/make_reproduction.py --only robustness --from-results OUT/results.json  # store a run made

Each piece's results are stored in ``reproduction/<piece>.json``; the commands are listed in
:data:`bt_lstm_mvo.experiment.paper.reproduction.PIECES` and in the document itself.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bt_lstm_mvo.experiment.paper.reproduction import PIECES, load, render  # noqa: E402

CONFIGS = {"paper-replication": "configs/paper-replication.yaml", "paper-real": "configs/paper-split.yaml",
           "walk-forward": "configs/walk-forward.yaml", "sweep-lambda": "configs/sweep-lambda.yaml",
           "robustness": "configs/robustness.yaml", "costs": "configs/costs.yaml"}
STUDIES = {"robustness": ("study_distributions.png", "study_seed_spread.png"), "costs": ("study_costs.png",)}


def store_results(name: str, results: Path, store: Path) -> None:
    """Copy a piece's results.json into the store; the study's without its daily return series
    (the document is rendered from its analysis and per-fold figures; the run's own folder keeps all)."""
    if name not in STUDIES:
        shutil.copy(results, store / f"{name}.json")
        return
    for png in STUDIES[name]:  # the study's plots, for the document
        if (results.parent / png).is_file():
            shutil.copy(results.parent / png, store / f"{name}_{png}")
    res = json.loads(results.read_text())
    for rec in res["records"]:
        for level in [*rec.get("levels", {}).values(), *rec.get("presets", {}).values()]:
            level.pop("returns", None)
    (store / f"{name}.json").write_text(json.dumps(res, indent=1, allow_nan=False))


def run_piece(name: str, data_dir: Path, store: Path) -> None:
    if name == "broker-check":
        from scripts.broker_check import main as check_main

        if check_main(["--data-dir", str(data_dir), "--json", str(store / f"{name}.json")]) != 0:
            raise SystemExit(f"{name} failed")
        return
    if name == "mvo-replication":
        from scripts.replicate_mvo import main as mvo_main

        if mvo_main(["--data-dir", str(data_dir), "--json", str(store / f"{name}.json")]) != 0:
            raise SystemExit(f"{name} failed")
        return
    import runner

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        rc = runner.main([str(ROOT / CONFIGS[name]), "--data-dir", str(data_dir), "--out", str(out), "--quiet"])
        if rc != 0:
            raise SystemExit(f"{name} failed with exit code {rc}")
        store_results(name, out / "results.json", store)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, default=None, help="folder of Yahoo CSVs (default ../shared/data)")
    ap.add_argument("--only", nargs="+", choices=list(PIECES), help="run only these pieces")
    ap.add_argument("--render-only", action="store_true", help="only re-render REPRODUCTION.md")
    ap.add_argument("--store", type=Path, default=ROOT / "reproduction")
    ap.add_argument("--from-results", type=Path, help="with --only PIECE: store this results.json of a run "
                    "already made (e.g. the robustness study's) instead of running it again")
    args = ap.parse_args(argv)
    from bt_lstm_mvo.paths import shared_data_dir

    os.chdir(ROOT)  # paths in the stored results are relative to the repository root
    data_dir = args.data_dir or Path(os.path.relpath(shared_data_dir(), ROOT))
    args.store.mkdir(parents=True, exist_ok=True)
    if args.from_results is not None:
        if not args.only or len(args.only) != 1:
            raise SystemExit("--from-results needs exactly one piece in --only")
        store_results(args.only[0], args.from_results, args.store)
    elif not args.render_only:
        for name in args.only or list(PIECES):
            print(f"running {name}: {PIECES[name]}", file=sys.stderr, flush=True)
            run_piece(name, data_dir, args.store)
    text = render(load(args.store))
    (ROOT / "REPRODUCTION.md").write_text(text)
    print(f"wrote REPRODUCTION.md from {args.store}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
