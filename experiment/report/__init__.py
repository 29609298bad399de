"""Turning results into files: ``results`` (plain dicts read from the analyzers), ``tables``
(Markdown/HTML tables), ``plots`` (PNG) and ``files`` (atomic output folders)."""
