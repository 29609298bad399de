"""Backtrader's own tools with our parts: headless plotting and multi-process optimisation."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import backtrader as bt
import pytest

from bt_lstm_mvo.analyzers import PaperMetrics
from bt_lstm_mvo.feeds.market import load_market
from bt_lstm_mvo.strategies.commission import ProportionalCommission
from bt_lstm_mvo.strategies.naive import EqualWeightStrategy


def _market():
    return load_market(["SPY", "GLD"], source="synthetic", start="2019-01-01", end="2019-12-31", seed=2)


def test_save_plot_works_without_a_display(tmp_path):
    """In a fresh process with no DISPLAY (Backtrader's plot import forces TkAgg otherwise)."""
    code = textwrap.dedent(f"""
        import backtrader as bt
        from bt_lstm_mvo.feeds.market import load_market
        from bt_lstm_mvo.strategies.naive import EqualWeightStrategy
        from bt_lstm_mvo.strategies.plotting import save_plot
        m = load_market(["SPY", "GLD"], source="synthetic", start="2019-01-01", end="2019-06-30")
        c = bt.Cerebro(); m.add_to(c); c.broker.setcash(1e5); c.addstrategy(EqualWeightStrategy); c.run()
        print(save_plot(c, {str(tmp_path / "plot.png")!r}))
    """)
    env = {"PATH": "/usr/bin:/bin", "MPLBACKEND": "", "HOME": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    png = tmp_path / "plot.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000


@pytest.mark.parametrize("maxcpus", [1, 2])
def test_optstrategy_on_several_cpus_gives_the_single_runs(maxcpus):
    """``optstrategy`` with ``maxcpus=2`` needs ``stdstats=False`` (Backtrader's DataTrades
    observer does not pickle); with it, each variant equals its own single run."""
    schedules = ["daily", "weekly", "monthly"]
    c = bt.Cerebro(stdstats=False, maxcpus=maxcpus)
    _market().add_to(c)
    c.broker.setcash(1e5)
    c.broker.addcommissioninfo(ProportionalCommission())
    c.optstrategy(EqualWeightStrategy, schedule=schedules)
    c.addanalyzer(PaperMetrics, _name="pm")
    got = {r[0].p.schedule: r[0].analyzers.pm.get_analysis()["total_return"] for r in c.run()}
    for schedule in schedules:
        single = bt.Cerebro(stdstats=False)
        _market().add_to(single)
        single.broker.setcash(1e5)
        single.broker.addcommissioninfo(ProportionalCommission())
        single.addstrategy(EqualWeightStrategy, schedule=schedule)
        single.addanalyzer(PaperMetrics, _name="pm")
        want = single.run()[0].analyzers.pm.get_analysis()["total_return"]
        assert got[schedule] == pytest.approx(want, rel=1e-12)
