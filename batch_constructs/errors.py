"""The one error type the library raises for configuration mistakes found at synth time."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["BatchConfigurationError"]


class BatchConfigurationError(ValueError):
    """A batch-constructs configuration that AWS would reject at deploy time, or that would leave jobs stuck.

    Raised while the construct tree is built (or during ``app.synth()`` for rules that later ``add_*`` calls can
    change). The message names the construct path, lists every problem found on that construct (each prefixed with
    its rule id, documented in ``docs/validation.md``), the value received, the limit and how to fix it.

    Attributes:
        path: the construct path the problems belong to.
        problems: one line per problem, each starting with ``[rule-id]``.
    """

    def __init__(self, path: str, problems: Sequence[str]) -> None:
        self.path = path
        self.problems = list(problems)
        count = len(self.problems)
        header = f"{path}: {count} configuration problem{'s' if count != 1 else ''} found by batch-constructs"
        super().__init__(header + "\n" + "\n".join(f"  - {p}" for p in self.problems))
