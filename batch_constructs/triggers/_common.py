"""What the triggers share: the job's command, the queue a job is submitted to, parameter and array-size rules."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .._internal.validation import is_known
from ..jobs import BatchJob
from ..model import registry
from ..model import rules as _rules
from ..queue import BatchQueue
from ..types import Queue

__all__ = ["array_size_problems", "job_command", "parameter_problems", "queue_problems"]

#: Parameter names the job's command can reference as ``Ref::name``.
_PARAMETER_NAME = re.compile(r"^[A-Za-z0-9_]+$")


def job_command(job: BatchJob) -> list[str] | None:
    """The command(s) of ``job``'s containers joined, or None when no container has a known command."""
    definition: Any = job.job_definition
    containers = []
    if hasattr(definition, "container"):
        containers.append(definition.container)
    for node in getattr(definition, "containers", None) or []:
        containers.append(node.container)
    commands = [c.command for c in containers if getattr(c, "command", None)]
    if not commands:
        return None
    return [part for command in commands for part in command]


def parameter_problems(names: Mapping[str, str]) -> list[str]:
    """``trigger-parameters``: parameter names a job command can reference as ``Ref::name``, and no duplicates."""
    problems = []
    for prop, value in names.items():
        if not _PARAMETER_NAME.match(value):
            problems.append(
                registry.TRIGGER_PARAMETERS.fix(
                    f"{prop}={value!r} cannot be referenced as Ref::{value} (letters, digits and '_' only)",
                    f"use e.g. {re.sub(r'[^A-Za-z0-9_]', '_', value) or 'name'!r}",
                )
            )
    seen: dict[str, str] = {}
    for prop, value in names.items():
        if value in seen:
            problems.append(
                registry.TRIGGER_PARAMETERS.fix(
                    f"{prop} and {seen[value]} are both {value!r}",
                    "give every parameter its own name",
                )
            )
        seen.setdefault(value, prop)
    return problems


def queue_problems(job: BatchJob, queue: Queue | None, what: str) -> tuple[Queue | None, list[str]]:
    """The queue ``job`` is submitted to (``queue``, else the job's), and why that pairing can never work.

    A :class:`~batch_constructs.queue.BatchQueue` is checked with the job-fits-queue rule (platform, size, multi-node);
    an imported queue cannot be checked.
    """
    target = queue or job.queue
    if target is None:
        return None, [
            registry.TRIGGER_QUEUE.fix(
                f"{what}: job {job.node.path} has no queue, and none was passed",
                "pass queue= to the job, or to this construct",
            )
        ]
    problems: list[str] = []
    if isinstance(target, BatchQueue):
        for req in job.requirements:
            problems += _rules.job_fits_queue(req, target.node.path, target.capacities())
    return target, problems


def array_size_problems(what: str, array_size: int | None) -> list[str]:
    """The array-size rule (2-10,000) for ``array_size``, unless it is None or a token."""
    if array_size is None or not is_known(array_size):
        return []
    return _rules.int_range(
        registry.ARRAY_SIZE,
        f"{what}array_size",
        array_size,
        *_rules.ARRAY_SIZE,
        "use 2-10000 children, or None for a single job (split larger work over several array jobs)",
    )
