"""How hard the property tests (Hypothesis) look: ``make test`` runs each with its own example count, quick enough for
every commit; ``make properties`` runs only them, ``PROPERTY_SCALE`` (default there: 20) times as many examples each,
to look for rare defects on purpose rather than find them by chance in a later run.

Standard library only, so that a test of pure code importing it loads no CDK.
"""

from __future__ import annotations

import os

#: The multiplier of every property test's example count (``PROPERTY_SCALE``, a positive integer; 1 by default).
SCALE_VARIABLE = "PROPERTY_SCALE"


def scale() -> int:
    """``PROPERTY_SCALE`` as a positive integer (1 when unset); anything else is an error naming the variable."""
    text = os.environ.get(SCALE_VARIABLE, "").strip()
    if not text:
        return 1
    if not text.isascii() or not text.isdigit() or int(text) < 1:
        raise ValueError(f"{SCALE_VARIABLE}={text!r}: use a positive integer (e.g. 20), or leave it unset for 1")
    return int(text)


def examples(count: int) -> int:
    """``count`` examples, times ``PROPERTY_SCALE``."""
    return count * scale()
