"""Performance metrics (pure functions in :mod:`analyzers.metrics`) and Backtrader analyzers."""
