"""Collecting problems and warnings the way every construct in the library reports them.

Rules themselves are pure functions in ``batch_constructs.model.rules``; this module only turns their findings into one
:class:`~batch_constructs.errors.BatchConfigurationError` per construct, or acknowledgeable warnings.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable

import jsii
from aws_cdk import Annotations, Token
from constructs import Construct, IValidation

from ..errors import BatchConfigurationError
from ..model.registry import Advice
from .memo import node_of

WARNING_PREFIX = "batch-constructs"


def _is_token(value: object) -> bool:
    # Answered here where CDK's own test (Token.isUnresolved, core/lib/token.ts) is plain data, saving a jsii round
    # trip per value: Python ints are never tokens; a string token carries "${Token["; a list token is one string
    # carrying "#{Token["; a number token is a float whose upper 16 bits are CDK's marker 0xFBFF
    # (core/lib/private/encoding.ts, extractTokenDouble). Everything else (IResolvable objects) is asked of CDK.
    if isinstance(value, int):
        return False
    if isinstance(value, str):
        return "${Token[" in value
    if isinstance(value, float):
        high: int = struct.unpack("<II", struct.pack("<d", value))[1]
        return (high & 0xFFFF0000) == _DOUBLE_TOKEN_MARKER
    if isinstance(value, list | tuple):
        return len(value) == 1 and isinstance(value[0], str) and "#{Token[" in value[0]
    return bool(Token.is_unresolved(value))


#: The upper 16 bits of the high 32-bit word of every number token (``DOUBLE_TOKEN_MARKER_BITS``).
_DOUBLE_TOKEN_MARKER = 0xFBFF << 16


def is_known(*values: object) -> bool:
    """True when none of the values is a token only resolved at deploy time (those are never validated)."""
    return not any(_is_token(v) for v in values if v is not None)


def raise_if_any(scope: Construct, problems: Iterable[str]) -> None:
    """Raise one error naming every problem of ``scope``, or do nothing when there is none."""
    found = [p for p in problems if p]
    if found:
        raise BatchConfigurationError(scope.node.path, found)


@jsii.implements(IValidation)
class _DeferredCheck:
    """Adapts a plain function to constructs' ``IValidation`` protocol."""

    def __init__(self, check: Callable[[], list[str]]) -> None:
        self._check = check

    def validate(self) -> list[str]:
        return self._check()


def validate_later(scope: Construct, check: Callable[[], list[str]]) -> None:
    """Run ``check`` at synth time, for conditions that later ``add_*`` calls can change.

    CDK collects the messages of every construct and fails the synth with all of them; each message already names the
    rule, the value and the fix.
    """
    node_of(scope).add_validation(_DeferredCheck(check))


def warn(scope: Construct, warning: Advice, message: str) -> None:
    """A non-fatal, acknowledgeable warning: ``Annotations.of(scope).acknowledge_warning('batch-constructs:<id>')``."""
    Annotations.of(scope).add_warning_v2(f"{WARNING_PREFIX}:{warning.id}", message)
