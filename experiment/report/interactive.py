"""An optional interactive view of the results (``output.interactive: true``):
``report-interactive.html`` with zoomable growth-of-$1, drawdown and rolling-Sharpe charts.

It uses plotly (the ``interactive`` extra) with plotly.js embedded in the file, so it opens
offline and makes no network request; the cost is size: about 5 MB, almost all of it the
library (the static ``report.html`` stays the small, printable report). The numbers are the
same return series as the static report's (the analyzers' ``PaperMetrics.portfolio_returns()``
and ``TearsheetStats``).
"""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from bt_lstm_mvo.analyzers.metrics import underwater
from bt_lstm_mvo.errors import ConfigError


def write_interactive(result, res: dict, path: Path) -> Path:
    try:
        import plotly.graph_objects as go
    except ImportError:
        raise ConfigError("output.interactive: needs plotly (pip install 'bt-lstm-mvo[interactive]'); or set "
                          "output.interactive: false") from None
    growth = go.Figure()
    under = go.Figure()
    rolling = go.Figure()
    for name, runs in result.runs.items():
        r = runs[0].returns
        label = name + (" (first seed)" if len(runs) > 1 else "")
        wealth = (1 + r).cumprod()
        growth.add_trace(go.Scatter(x=wealth.index, y=wealth.to_numpy(), name=label, mode="lines"))
        dd = underwater(r)  # the plugin's drawdown (wealth from 1 before the first return)
        under.add_trace(go.Scatter(x=dd.index, y=100 * dd.to_numpy(), name=label, mode="lines"))
        sharpe = (runs[0].analyzers.get("tearsheet") or {}).get("rolling", {}).get("sharpe") or {}
        if sharpe:
            s = pd.Series(sharpe, dtype=float)
            rolling.add_trace(go.Scatter(x=pd.to_datetime(s.index), y=s.to_numpy(), name=label, mode="lines"))
    for ticker, b in result.benchmarks.items():
        wealth = (1 + b.returns).cumprod()
        growth.add_trace(go.Scatter(x=wealth.index, y=wealth.to_numpy(), name=f"hold {ticker}", mode="lines",
                                    line={"dash": "dot", "width": 1}))
    growth.update_layout(title="Growth of $1 over the test period", yaxis_type="log", yaxis_title="growth of $1")
    under.update_layout(title="Drawdowns (%)", yaxis_title="drawdown (%)")
    rolling.update_layout(title="Rolling Sharpe", yaxis_title="Sharpe")
    parts = [growth.to_html(full_html=False, include_plotlyjs=True)]
    parts += [fig.to_html(full_html=False, include_plotlyjs=False) for fig in (under, rolling)]
    banner = "SYNTHETIC DATA - not real prices. " if res["data"]["synthetic"] else ""
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(res['name'])} (interactive)"
            f"</title></head><body><h1>{html.escape(res['name'])}</h1><p>{html.escape(banner + res['data']['label'])}"
            f"; the full report with every table is report.html.</p>{''.join(parts)}</body></html>\n")
    path.write_text(page)
    return path
