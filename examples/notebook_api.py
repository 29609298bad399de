"""The Python API, as a notebook would use it (run by tests/test_api.py).

    python examples/notebook_api.py [OUT_DIR]

Runs the default experiment (config.yaml, the offline synthetic market) with a shorter LSTM,
prints the metrics table, cross-checks one Sharpe ratio with QuantStats when it is installed,
shows the pyfolio inputs, and writes the runner's report folder to OUT_DIR (default:
results/notebook-api-example, which must not exist yet).
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

import bt_lstm_mvo

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str]) -> int:
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    config["strategies"]["lstm"]["seeds"] = [0]
    config["strategies"]["lstm"]["params"] = {**config["strategies"]["lstm"].get("params", {}), "epochs": 5}
    result = bt_lstm_mvo.run(config)

    print(result.metrics[["total_return", "sharpe", "max_drawdown", "turnover"]].round(4).to_string())
    ppy = result.results["data"]["periods_per_year"]
    try:
        import quantstats as qs

        sharpe = qs.stats.sharpe(result.to_quantstats("mvo"), periods=ppy, annualize=True)
        print(f"mvo Sharpe: ours {result.metrics.loc['mvo', 'sharpe']:.6f}, QuantStats {sharpe:.6f}")
    except ImportError:
        print("QuantStats not installed: skipping the cross-check")
    returns, positions, transactions = result.to_pyfolio("mvo")
    print(f"pyfolio inputs: {len(returns)} returns, positions {positions.shape}, {len(transactions)} transactions")
    out = Path(argv[0]) if argv else ROOT / "results" / "notebook-api-example"
    print("written:", result.write(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
