"""Running an experiment from a config, split by job.

* :mod:`~bt_lstm_mvo.experiment.cli`: the command line (``bt-lstm-mvo run``, ``runner.py``);
* :mod:`~bt_lstm_mvo.experiment.config`: the YAML schema (pydantic, one-line errors);
* :mod:`~bt_lstm_mvo.experiment.registry`: strategy kinds -> allocators (users' classes too);
* :mod:`~bt_lstm_mvo.experiment.split`: where the test period starts;
* :mod:`~bt_lstm_mvo.experiment.run`: one Cerebro per strategy and seed, analyzers attached;
* :mod:`~bt_lstm_mvo.experiment.summary`: a run's figures, read from its analyzers;
* :mod:`~bt_lstm_mvo.experiment.sweep`, :mod:`~bt_lstm_mvo.experiment.significance`: grids in
  parallel, paired block-bootstrap tests;
* :mod:`~bt_lstm_mvo.experiment.report`: results -> results.json, tables, plots, files;
* :mod:`~bt_lstm_mvo.experiment.paper`: everything about the reference notebook and the
  published numbers.
"""
