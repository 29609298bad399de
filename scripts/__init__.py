"""Maintenance scripts (calibration, data checks). Importable so tests can re-run their measuring code."""
