"""``save_plot``: Backtrader's ``cerebro.plot()`` on a machine without a display.

Backtrader's ``backtrader.plot`` package calls ``matplotlib.use("TKAgg")`` when it is first
imported, which, with a current matplotlib, switches away from ``Agg`` and fails headless
("Cannot load backend 'TKAgg'"). :func:`save_plot` imports it with that call disabled, keeps the
``Agg`` backend, plots without showing, and writes one PNG per figure::

    from bt_lstm_mvo.strategies.plotting import save_plot
    cerebro.run()
    save_plot(cerebro, "plot.png")            # plot.png, or plot-1.png, plot-2.png... for several
"""

from __future__ import annotations

from pathlib import Path


def _import_backtrader_plot():
    import matplotlib

    matplotlib.use("Agg")
    real_use = matplotlib.use
    matplotlib.use = lambda *args, **kwargs: None  # backtrader.plot would force TKAgg
    try:
        import backtrader.plot  # noqa: F401
    finally:
        matplotlib.use = real_use


def save_plot(cerebro, path: str | Path, dpi: int = 110, **plot_kwargs) -> list[Path]:
    """Plot a cerebro that has run (``cerebro.plot(iplot=False, **plot_kwargs)``) into PNG files;
    returns their paths. Works without a display."""
    _import_backtrader_plot()
    import matplotlib.pyplot as plt

    figures = [fig for strategy_figs in cerebro.plot(iplot=False, **plot_kwargs) for fig in strategy_figs]
    path = Path(path)
    paths = [path] if len(figures) == 1 else [path.with_name(f"{path.stem}-{i}{path.suffix}")
                                              for i in range(1, len(figures) + 1)]
    for fig, p in zip(figures, paths):
        fig.set_size_inches(12, 8)
        if fig.axes:  # Backtrader hides the dates; show them under the lowest panel
            fig.canvas.draw()  # tick labels exist only once drawn
            low = min(ax.get_position().y0 for ax in fig.axes)
            for ax in fig.axes:
                if ax.get_position().y0 == low:
                    ax.tick_params(axis="x", labelbottom=True)
                    for label in ax.get_xticklabels():
                        label.set_visible(True)
                        label.set_rotation(20)
        fig.savefig(p, dpi=dpi, bbox_inches="tight")  # the rotated dates stay inside the image
        plt.close(fig)
    return paths
