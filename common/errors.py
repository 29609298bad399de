"""One base error for the plugin and a few specific ones.

Messages name the thing, the rule and the value, and what to do, e.g.
``NVDA.csv: column 'Close' has 3 non-positive prices (first on 2021-07-20); prices must be > 0``.
The runner turns any :class:`PluginError` into one line on stderr and exit code 2.
"""


class PluginError(Exception):
    """Base class of every error this plugin raises on purpose."""


class ConfigError(PluginError, ValueError):
    """A configuration value breaks a rule (unknown key, wrong type, bad range...)."""


class DataError(PluginError, ValueError):
    """Input data breaks a rule (missing file/column, bad dates, bad prices...)."""


class AllocationError(PluginError, ValueError):
    """An allocator could not produce valid weights (or produced invalid ones)."""


class OutputError(PluginError, OSError):
    """Results could not be written (a full disk, a folder that went away); nothing complete-looking is left."""
