"""What a deployed stack holds: its Batch resources (CloudFormation ListStackResources) and outputs.

A job is named on the command line the way the app names it: by construct id or path (``ImportJob``,
``Platform/ImportJob``), by logical-id prefix (``PlatformImportJob``), by the job definition's name or ARN.
CDK logical ids are the construct path without ``/`` plus an 8-character hash, so a path matches a logical id whose
hash-less part ends with the path's joined segments.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ._aws import EXIT_AWS, CliError

if TYPE_CHECKING:
    from ._aws import Aws

JOB_DEFINITION = "AWS::Batch::JobDefinition"
JOB_QUEUE = "AWS::Batch::JobQueue"
COMPUTE_ENVIRONMENT = "AWS::Batch::ComputeEnvironment"
SCHEDULING_POLICY = "AWS::Batch::SchedulingPolicy"

_HASH = re.compile(r"[0-9A-F]{8}$")


@dataclass(frozen=True)
class StackResource:
    """One resource of a deployed stack."""

    logical_id: str
    physical_id: str
    resource_type: str

    @property
    def base_id(self) -> str:
        """The logical id without CDK's 8-character hash suffix."""
        return _HASH.sub("", self.logical_id)


def stack_resources(aws: Aws, stack: str) -> list[StackResource]:
    """Every resource of ``stack`` (ListStackResources, all pages)."""
    paginator = aws.cloudformation.get_paginator("list_stack_resources")
    found: list[StackResource] = []
    for page in paginator.paginate(StackName=stack):
        for summary in page["StackResourceSummaries"]:
            physical = summary.get("PhysicalResourceId")
            if physical:
                found.append(StackResource(summary["LogicalResourceId"], physical, summary["ResourceType"]))
    return found


def of_type(resources: list[StackResource], resource_type: str) -> list[StackResource]:
    return [r for r in resources if r.resource_type == resource_type]


def _key(name: str) -> str:
    return name.replace("/", "").replace("-", "").replace("_", "").lower()


def match(resources: list[StackResource], name: str, what: str, stack: str) -> StackResource:
    """The one resource ``name`` designates (exact logical id, ARN, physical name, construct path or id, prefix).

    Raises:
        CliError: when nothing or more than one resource matches (the message lists the candidates).
    """
    for resource in resources:
        if name in (resource.logical_id, resource.physical_id) or resource.physical_id.endswith(f"/{name}"):
            return resource
        if resource.physical_id.rsplit("/", 1)[-1].split(":")[0] == name:
            return resource
    key = _key(name)
    exact = [r for r in resources if _key(r.base_id) == key]
    candidates = exact or [r for r in resources if _key(r.base_id).endswith(key) or _key(r.logical_id).startswith(key)]
    if not candidates:  # a construct id in the middle of the path (``Report`` for ``Platform/ReportJob``)
        candidates = [r for r in resources if key in _key(r.base_id)]
    if len(candidates) == 1:
        return candidates[0]
    listing = ", ".join(sorted(r.logical_id for r in resources)) or "none"
    if not candidates:
        raise CliError(f"no {what} in stack {stack} matches {name!r} (the stack has: {listing})", EXIT_AWS)
    names = ", ".join(sorted(r.logical_id for r in candidates))
    raise CliError(f"{name!r} matches several {what}s in stack {stack}: {names}; name one of them", EXIT_AWS)


def queue_for(queues: list[StackResource], job: StackResource, stack: str) -> StackResource:
    """The queue a job definition belongs with: the only queue, or the one sharing the longest logical-id prefix.

    Decision: a CDK app usually builds a job next to its queue (``Platform/ImportJob`` and ``Platform/FargateQueue``),
    so the common prefix of the logical ids picks the queue; a tie is an error asking for ``--queue``, never a guess.
    """
    if not queues:
        raise CliError(f"stack {stack} has no job queue: pass --queue with a queue name or ARN", EXIT_AWS)
    if len(queues) == 1:
        return queues[0]

    def shared(queue: StackResource) -> int:
        n = 0
        for a, b in zip(queue.base_id, job.base_id, strict=False):
            if a != b:
                break
            n += 1
        return n

    ranked = sorted(queues, key=shared, reverse=True)
    if shared(ranked[0]) > shared(ranked[1]):
        return ranked[0]
    names = ", ".join(sorted(q.logical_id for q in queues))
    raise CliError(f"stack {stack} has several job queues ({names}): pass --queue", EXIT_AWS)


def stack_outputs(aws: Aws, stack: str) -> dict[str, str]:
    """The stack's outputs, by key."""
    stacks = aws.cloudformation.describe_stacks(StackName=stack)["Stacks"]
    return {o["OutputKey"]: o["OutputValue"] for s in stacks for o in s.get("Outputs", []) if "OutputKey" in o}
