"""bt_lstm_mvo.malloc: freed memory kept for reuse (glibc), applied by the runner and sweep workers,
results unchanged. Each check runs in a fresh interpreter, so malloc starts from its defaults."""

from __future__ import annotations

import json
import platform
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bt_lstm_mvo.malloc import keep_freed_memory

ROOT = Path(__file__).resolve().parent.parent

glibc = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt thresholds are glibc's")

# allocate and free a 64 MiB tensor 30 times (LSTM training does so, larger, every epoch);
# report this process's minor page faults meanwhile
_FAULTS = """
import json, resource, sys
import torch
from bt_lstm_mvo.malloc import keep_freed_memory
applied = keep_freed_memory(int(sys.argv[1]))
for _ in range(10):  # the heap grows to its working size
    a = torch.ones(16 * 2**20)
    del a
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(30):
    a = torch.ones(16 * 2**20)  # 64 MiB, written: every page is touched (numpy would ask for huge pages)
    del a
print(json.dumps({"applied": applied, "faults": resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before}))
"""

# a small seeded LSTM fit: its weights, as exact float lists
_FIT = """
import json, sys
from bt_lstm_mvo.malloc import keep_freed_memory
keep_freed_memory(int(sys.argv[1]))
import torch
from bt_lstm_mvo.allocators.lstm import LSTMAllocator
from tests.helpers import make_prices
torch.set_num_threads(1)
px = make_prices(n_rows=700, n_assets=3, seed=3)
alloc = LSTMAllocator(hidden_size=16, epochs=3, progress=False, device="cpu", seed=0).fit(px)
print(json.dumps({k: v.flatten().tolist() for k, v in alloc.model_.state_dict().items()}))
"""


def _python(code: str, *args) -> str:
    res = subprocess.run([sys.executable, "-c", textwrap.dedent(code), *map(str, args)],
                         capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert res.returncode == 0, res.stderr[-2000:]
    return res.stdout.strip().splitlines()[-1]


@glibc
def test_keeping_freed_memory_stops_refaulting_large_blocks():
    off = json.loads(_python(_FAULTS, 0))
    on = json.loads(_python(_FAULTS, 256))
    assert off["applied"] is False and on["applied"] is True
    pages = 64 * 2**20 // 4096
    assert off["faults"] > 20 * pages  # glibc's default: a fresh mmap, faulted in, on every allocation
    assert on["faults"] < pages  # the block is reused: no page is faulted in again


def test_results_do_not_depend_on_it():
    assert _python(_FIT, 0) == _python(_FIT, 512)


def test_bad_values():
    with pytest.raises(ValueError, match="-1"):
        keep_freed_memory(-1)
    with pytest.raises(ValueError, match="4096"):
        keep_freed_memory(4096)
    assert keep_freed_memory(0) is False


@glibc
def test_the_runner_and_sweep_workers_apply_the_config_value():
    code = """
    import json, sys
    from bt_lstm_mvo import malloc
    from bt_lstm_mvo.experiment.config import parse_config
    from bt_lstm_mvo.experiment.sweep import expand_grid, run_task
    from bt_lstm_mvo.experiment.run import run_experiment
    raw = {"name": "m", "data": {"source": "synthetic", "tickers": ["SPY", "GLD", "NVDA"],
                     "start": "2022-01-01", "end": "2023-12-31"},
           "split": {"train_fraction": 0.5},
           "strategies": {"ew": {"kind": "equal_weight", "schedule": "monthly"}},
           "runtime": {"malloc_keep_mib": int(sys.argv[1])}, "buy_and_hold_benchmarks": False}
    run_experiment(parse_config(raw), progress=False)
    after_run = malloc.applied_mib()
    malloc._applied = None
    raw["runtime"]["malloc_keep_mib"] = int(sys.argv[1]) + 1
    raw["sweep"] = {"strategy": "ew", "grid": {"schedule": ["monthly"]}, "workers": 1}
    rec = run_task(expand_grid(parse_config(raw), None)[0])
    print(json.dumps([after_run, malloc.applied_mib(), rec["status"]]))
    """
    assert json.loads(_python(code, 300)) == [300, 301, "ok"]
