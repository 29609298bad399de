"""bt_lstm_mvo: a Backtrader plugin comparing an LSTM portfolio rebalancer with mean-variance
optimisation, bar by bar, with a realistic broker.

Subpackages (each a folder of the repository's top level, mapped into this package):

* :mod:`bt_lstm_mvo.allocators`: framework-free models, price history -> target weights;
* :mod:`bt_lstm_mvo.strategies`: Backtrader strategies, commission scheme, sizing, schedules;
* :mod:`bt_lstm_mvo.feeds`: data sources, validation, calendars, Backtrader feeds;
* :mod:`bt_lstm_mvo.analyzers`: pure metrics and the analyzers every reported number comes from;
* :mod:`bt_lstm_mvo.experiment`: running a config (CLI, config, registry, split, run, sweep),
  reports, and :mod:`bt_lstm_mvo.experiment.paper` (the reference notebook and published numbers).

The package root holds the shared vocabulary: :mod:`~bt_lstm_mvo.errors`,
:mod:`~bt_lstm_mvo.vocab` (allowed values), :mod:`~bt_lstm_mvo.periods` (bars per year, ISO
dates), :mod:`~bt_lstm_mvo.jsonsafe` and :mod:`~bt_lstm_mvo.paths`, and :func:`run`, the
notebook API. Importing it loads neither backtrader nor torch.
"""

from bt_lstm_mvo.errors import AllocationError, ConfigError, DataError, OutputError, PluginError

__version__ = "0.5.0"


def run(config, data_dir=None, progress: bool = False, stage=lambda msg: None, frames=None):
    """Run an experiment from a notebook: ``bt_lstm_mvo.run("config.yaml")`` (or a dict, or an
    ExperimentConfig) returns a :class:`bt_lstm_mvo.experiment.api.RunResult` with ``metrics``,
    ``returns``, ``equity``, ``weights``, ``positions``, ``transactions``, ``fits``,
    ``fallbacks``, ``to_quantstats(name)``, ``to_pyfolio(name)`` and ``write(out_dir)``.
    Imports backtrader and torch on first use only."""
    from bt_lstm_mvo.experiment.api import run as run_experiment

    return run_experiment(config, data_dir=data_dir, progress=progress, stage=stage, frames=frames)


__all__ = ["AllocationError", "ConfigError", "DataError", "OutputError", "PluginError", "__version__", "run"]
