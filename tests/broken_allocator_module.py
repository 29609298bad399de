"""A user module that fails at import (tests/test_bad_input_catalogue.py)."""

raise RuntimeError("this module is broken on purpose")
