"""Small text helpers for error messages: bounded reprs and one-line messages.

Messages show the offending value, but never more than a few dozen characters of it:
:func:`short_repr` formats with :mod:`reprlib`'s limits, so formatting a huge value (a YAML alias
bomb expands to billions of elements) costs no more than formatting a small one.
"""

from __future__ import annotations

import difflib
import reprlib

_REPR = reprlib.Repr()
_REPR.maxlevel = 3
_REPR.maxlist = _REPR.maxtuple = _REPR.maxset = _REPR.maxdict = 6
_REPR.maxstring = _REPR.maxother = 60
_REPR.maxlong = 40


def short_repr(value, limit: int = 80) -> str:
    """``repr(value)``, bounded in work and length (at most ``limit`` characters)."""
    text = _REPR.repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def one_line(text) -> str:
    """``text`` with every run of white space (newlines included) folded to one space."""
    return " ".join(str(text).split())


def did_you_mean(key, allowed, otherwise: str | None = None) -> str:
    """``did you mean 'x'?`` for the closest of ``allowed`` to ``key``; else ``otherwise``
    (default ``allowed: a, b, c``). The one spelling-hint rule of every "unknown key" message."""
    allowed = [str(a) for a in allowed]
    close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.5)
    if close:
        return f"did you mean {close[0]!r}?"
    return otherwise if otherwise is not None else f"allowed: {', '.join(allowed)}"
