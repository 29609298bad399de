"""Shared core of the plugin: the error hierarchy and data-folder lookup."""
