"""What the triggers share: the job's command, the queue a job is submitted to, parameter and array-size rules."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias

from aws_cdk import Annotations
from aws_cdk import aws_iam as iam
from constructs import Construct

from .._internal.compliance import acknowledge, resource_finding
from .._internal.iam import ManagedPolicyRole, known_statement
from .._internal.memo import path_of
from .._internal.validation import is_known, validate_later, warn
from ..jobs import BatchJob, ImportedJob
from ..jobs.base import SUBMIT_REVISIONS_REASON
from ..model import registry
from ..model import rules as _rules
from ..queue import KnownQueue
from ..types import Queue

#: Any job the triggers submit: one of the library's, or a definition it did not create.
AnyJob: TypeAlias = BatchJob | ImportedJob

__all__ = [
    "AnyJob",
    "acknowledge_complete_parameters",
    "add_submit_permission",
    "array_size_problems",
    "declared_parameters",
    "job_command",
    "job_parameter_problems",
    "parameter_problems",
    "queue_problems",
    "share_problems",
]

#: Parameter names the job's command can reference as ``Ref::name``.
_PARAMETER_NAME = re.compile(r"^[A-Za-z0-9_]+$")


#: The library's own ``grant_submit_job`` implementations, whose effect :func:`add_submit_permission` reproduces.
_LIBRARY_SUBMIT_GRANTS: tuple[object, ...] = (BatchJob.grant_submit_job, ImportedJob.grant_submit_job)


def add_submit_permission(job: AnyJob, role: iam.IGrantable, queue: Queue) -> None:
    """``job.grant_submit_job(role, queue)`` for a caller that needs no ``Grant``.

    For a :class:`ManagedPolicyRole` and a job class that keeps the library's ``grant_submit_job``, the same statement
    (``batch:SubmitJob`` on the queue and every revision of the definition) goes through the role's Python
    ``add_to_principal_policy`` (its filters apply) and gets the same acknowledgement, without the jsii callback
    ``iam.Grant.add_to_principal`` makes into the role, nor the filter reading the statement back. Otherwise the job's
    own ``grant_submit_job`` runs.
    """
    if not isinstance(role, ManagedPolicyRole) or type(job).grant_submit_job not in _LIBRARY_SUBMIT_GRANTS:
        job.grant_submit_job(role, queue)
        return
    resources = [queue.job_queue_arn, job.job_definition_arn_pattern]
    role.add_to_principal_policy(known_statement(actions=["batch:SubmitJob"], resources=resources))
    policy = role.managed_policy
    if policy is not None:
        acknowledge(policy, resource_finding(policy, resources[1]), SUBMIT_REVISIONS_REASON)


def job_command(job: AnyJob) -> list[str] | None:
    """The command(s) of ``job``'s containers joined, or None when no container has a known command."""
    definition: Any = job.job_definition
    containers = []
    container = getattr(definition, "container", None)  # one jsii read (hasattr, then the read, would be two)
    if container is not None:
        containers.append(container)
    for node in getattr(definition, "containers", None) or []:
        containers.append(node.container)
    commands = [command for command in (getattr(c, "command", None) for c in containers) if command]
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


def queue_problems(
    job: AnyJob, queue: Queue | None, what: str, scope: Construct | None = None
) -> tuple[Queue | None, list[str]]:
    """The queue ``job`` is submitted to (``queue``, else the job's), and why that pairing can never work.

    A known queue (a :class:`~batch_constructs.queue.BatchQueue`, or one imported from its contract) is checked as
    the job's own: job-fits-queue (platform, size, multi-node) and the endpoints its secrets need (network-egress).
    A :class:`~batch_constructs.queue.BatchQueue` without environments yet is checked at synth on ``scope`` (its
    environments may come later with ``add_environment``), as a job checks its own queue.
    """
    target = queue or job.queue
    if target is None:
        return None, [
            registry.TRIGGER_QUEUE.fix(
                f"{what}: job {path_of(job)} has no queue, and none was passed",
                "pass queue= to the job, or to this construct",
            )
        ]
    problems: list[str] = []
    if isinstance(target, KnownQueue):
        known: KnownQueue = target
        if known.capacities() or scope is None:
            problems = _placement_problems(job, known)
        else:
            validate_later(scope, lambda: _placement_problems(job, known))
    return target, problems


def _placement_problems(job: AnyJob, queue: KnownQueue) -> list[str]:
    return _rules.job_placement(job.requirements, path_of(queue), queue.capacities())


def array_size_problems(what: str, array_size: int | None) -> list[str]:
    """The array-size rule (2-10,000) for ``array_size``, unless it is None or a token."""
    if array_size is None or not is_known(array_size):
        return []
    return _rules.array_size(array_size, f"{what}array_size")


def declared_parameters(job: AnyJob) -> tuple[set[str], set[str]] | None:
    """``(referenced, defaults)``: the ``Ref::`` names of the job's command and its default parameters.

    None when the job declares nothing checkable (no known command, or a command that is a token, as for a
    definition imported by ARN): then no parameter rule applies.
    """
    # A job definition's command and default parameters are fixed when it is created: read them (several jsii round
    # trips) once per job, however many triggers ask.
    cached: tuple[tuple[set[str], set[str]] | None] | None = getattr(job, _DECLARED, None)
    if cached is None:
        cached = (_declared_parameters(job),)
        try:
            setattr(job, _DECLARED, cached)
        except AttributeError:
            pass
    found = cached[0]
    return None if found is None else (set(found[0]), set(found[1]))


_DECLARED = "_batch_constructs_declared_parameters"


def _declared_parameters(job: AnyJob) -> tuple[set[str], set[str]] | None:
    command = job_command(job)
    if command is None or not is_known(*command):
        return None
    defaults = getattr(job.job_definition, "parameters", None) or {}
    referenced = set(re.findall(r"Ref::([A-Za-z0-9_]+)", " ".join(command)))
    return referenced, {str(k) for k in defaults}


def job_parameter_problems(
    job: AnyJob,
    what: str,
    supplied: Mapping[str, object] | None,
    *,
    complete: bool,
    may_be_unread: Sequence[str] = (),
) -> list[str]:
    """``trigger-unread-parameter`` and ``trigger-unset-parameter`` for the parameters a trigger passes to ``job``.

    Args:
        supplied: the parameter names the trigger passes (values are not inspected). None: the parameters come from
            somewhere the construct cannot see (an execution input), so nothing is checked.
        complete: True when ``supplied`` is every parameter of every submission (a fixed mapping); then each
            ``Ref::`` with no default must be in it. False when the submission may add more at run time.
        may_be_unread: supplied names exempt from the unread check (a trigger's own names that a warning covers).
    """
    declared = declared_parameters(job)
    if declared is None or supplied is None:
        return []
    referenced, defaults = declared
    known = referenced | defaults
    listing = ", ".join(sorted(known)) or "none"
    problems = []
    unread = sorted(n for n in supplied if is_known(n) and n not in known and n not in may_be_unread)
    if unread:
        problems.append(
            registry.TRIGGER_UNREAD_PARAMETER.fix(
                f"{what} passes {', '.join(map(repr, unread))} to job {path_of(job)}, which declares no such "
                f"parameter (declared: {listing}); AWS Batch ignores it",
                "correct the name to one the job declares, or add Ref::<name> to the job's command",
            )
        )
    if complete:
        unset = sorted(referenced - defaults - set(supplied))
        if unset:
            problems.append(
                registry.TRIGGER_UNSET_PARAMETER.fix(
                    f"{what} leaves {', '.join('Ref::' + n for n in unset)} of job {path_of(job)} without a value "
                    f"and the job has no default for it (declared: {listing}); the literal text reaches the container",
                    "pass it in parameters=, or give the job a default parameter",
                )
            )
    return problems


def acknowledge_complete_parameters(job: AnyJob, supplied: Mapping[str, object] | None, who: str) -> bool:
    """Acknowledge the job's ``required-parameters`` warning when ``supplied`` (a fixed mapping every submission of
    ``who`` passes) gives each ``Ref::`` without a default a value; return whether it did.

    The warning tells the job's author that submissions must pass those parameters; a submitter that provably does
    has answered it (the ``trigger-unset-parameter`` rule refuses a fixed mapping that does not).
    """
    declared = declared_parameters(job)
    if declared is None or supplied is None or not is_known(*supplied):
        return False
    referenced, defaults = declared
    if not referenced - defaults <= set(supplied):
        return False
    Annotations.of(job).acknowledge_warning(
        f"batch-constructs:{registry.REQUIRED_PARAMETERS_WARNING.id}",
        f"{who} passes every parameter without a default on each submission",
    )
    return True


def share_problems(
    submitter: Construct,
    queue: Queue | None,
    what: str,
    share_identifier: str | None,
    scheduling_priority_override: int | None,
    job: AnyJob | None = None,
) -> list[str]:
    """The ``share-identifier`` rule for one submitter, plus the scheduling-priority override's range (0-9999).

    A :class:`~batch_constructs.queue.BatchQueue` (or a queue imported with a contract that says) knows whether it is
    fair-share: the identifier is then required, and refused on any other queue. A queue imported by ARN alone cannot
    be checked beyond the identifier's syntax. When the queue's fair-share identifiers are known and a literal
    identifier matches none of them, ``submitter`` gets the ``share-unlisted`` warning (AWS gives it weight 1.0).
    With ``job`` (a submitter whose every submission is known here, unlike the Lambda's per-request overrides), a job
    of another queue without a scheduling priority needs ``scheduling_priority_override`` on a fair-share queue
    (``fair-share-priority``; a job's own queue was checked when the job was created).
    """
    problems: list[str] = []
    if isinstance(queue, KnownQueue) and queue.fair_share_known:
        queue_path = path_of(queue)
        problems += [
            p.replace("the submission", f"{what}", 1)
            for p in _rules.share_identifier(queue_path, queue.fair_share, share_identifier)
        ]
        if isinstance(job, BatchJob) and job.queue is not queue:
            # The job's own queue was checked when it was created (fair-share-priority); this is another queue.
            problems += _rules.fair_share_priority(
                queue_path,
                queue.fair_share,
                job.scheduling_priority,
                submission=f"{what}: job {path_of(job)}",
                override=scheduling_priority_override,
            )
        unlisted = None if problems else _rules.unlisted_share(queue_path, queue.share_identifiers, share_identifier)
        if unlisted is not None:
            warn(submitter, registry.SHARE_UNLISTED_WARNING, f"{what}: {unlisted}")
        if scheduling_priority_override is not None and not queue.fair_share:
            problems.append(
                registry.SHARE_IDENTIFIER.fix(
                    f"{what}: scheduling_priority_override on queue {path_of(queue)}, which has no fair-share "
                    "policy; it would have no effect",
                    "drop scheduling_priority_override, or give the queue fair_share={...}",
                )
            )
    elif share_identifier is not None:
        problems += _rules.share_identifier("(imported)", True, share_identifier)
    if scheduling_priority_override is not None and is_known(scheduling_priority_override):
        problems += _rules.scheduling_priority(scheduling_priority_override)
    return problems
