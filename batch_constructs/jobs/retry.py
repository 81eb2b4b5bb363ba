"""Retry policies of job definitions: attempts and ordered ``evaluateOnExit`` conditions (Spot-aware by default)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from aws_cdk import aws_batch as batch

from .._internal import defaults as _defaults
from .._internal.validation import is_known
from ..model import rules as _rules

__all__ = ["RetryCondition", "RetryPolicy"]


@dataclass(frozen=True)
class RetryCondition:
    """One ``evaluateOnExit`` condition: an action and the glob patterns it matches (at least one).

    Patterns may end with ``*``; exit codes are digits. ``RetryCondition.exit_on_anything()`` is the catch-all.
    """

    action: Literal["RETRY", "EXIT"]
    on_exit_code: str | None = None
    on_reason: str | None = None
    on_status_reason: str | None = None

    @classmethod
    def retry(
        cls, *, on_exit_code: str | None = None, on_reason: str | None = None, on_status_reason: str | None = None
    ) -> RetryCondition:
        return cls("RETRY", on_exit_code, on_reason, on_status_reason)

    @classmethod
    def exit(
        cls, *, on_exit_code: str | None = None, on_reason: str | None = None, on_status_reason: str | None = None
    ) -> RetryCondition:
        return cls("EXIT", on_exit_code, on_reason, on_status_reason)

    @classmethod
    def exit_on_anything(cls) -> RetryCondition:
        """The catch-all that must end a condition list: AWS retries a failure that matches no condition."""
        return cls("EXIT", on_reason="*")

    def patterns(self) -> dict[str, str]:
        return {
            k: v
            for k, v in (
                ("on_exit_code", self.on_exit_code),
                ("on_reason", self.on_reason),
                ("on_status_reason", self.on_status_reason),
            )
            if v is not None
        }

    def to_l2(self) -> batch.RetryStrategy:
        """The L2 strategy. One object per distinct condition, shared by every job definition (an immutable value:
        two jsii round trips per condition once, not per job)."""
        return _l2_strategy(self)


@functools.cache
def _l2_strategy(condition: RetryCondition) -> batch.RetryStrategy:
    action = batch.Action.RETRY if condition.action.upper() == "RETRY" else batch.Action.EXIT
    return batch.RetryStrategy.of(action, batch.Reason.custom(**condition.patterns()))


class RetryPolicy:
    """A job's retry strategy: attempts plus ordered :class:`RetryCondition` s.

    Use :meth:`spot_aware` (every job's default), :meth:`none`, or your own conditions ending with
    ``RetryCondition.exit_on_anything()``.
    """

    #: Status reasons of lost infrastructure: an EC2 Spot reclaim ("Host EC2 (instance i-...) terminated.") and a
    #: Fargate Spot interruption ("Your Spot Task was interrupted.").
    SPOT_STATUS_REASONS = ("Host EC2*", "Your Spot Task was interrupted*")

    def __init__(self, attempts: int, conditions: Sequence[RetryCondition] = ()) -> None:
        self.attempts = attempts
        self.conditions = list(conditions)

    @classmethod
    def spot_aware(cls, attempts: int = _defaults.RETRY_ATTEMPTS) -> RetryPolicy:
        """Retry only when the instance or Spot task went away; fail at once on anything else (AWS best practice).

        Default attempts: 5.
        """
        return cls(
            attempts,
            [
                *(RetryCondition.retry(on_status_reason=r) for r in cls.SPOT_STATUS_REASONS),
                RetryCondition.exit_on_anything(),
            ],
        )

    @classmethod
    def none(cls) -> RetryPolicy:
        """One attempt, no retry."""
        return cls(1)

    def problems(self) -> list[str]:
        attempts = self.attempts if is_known(self.attempts) else None
        return _rules.retry(attempts, [(c.action, c.patterns()) for c in self.conditions])

    def l2_strategies(self) -> list[batch.RetryStrategy] | None:
        return [c.to_l2() for c in self.conditions] or None
