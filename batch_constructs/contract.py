"""Publish a platform's queue contract, and import queues from it in other stacks and apps.

The platform team publishes, for each queue, what the library's checks need (:mod:`batch_constructs.model.contract`)
as one SSM String parameter of JSON; a workload anywhere imports a queue from it and keeps every check a local
:class:`~batch_constructs.queue.BatchQueue` gets (job fits an environment, GPUs, architecture, platform, fair share)::

    # platform app
    publish_contract(stack, "QueueContract", parameter_name="/platform/batch/contract", queues={"default": queue})

    # workload app (stack with an explicit account and region: context lookups need them)
    queue = import_queue(stack, "PlatformQueue", parameter_name="/platform/batch/contract", queue="default")
    ContainerJob(stack, "Job", image=..., queue=queue)  # checked against the platform's environments

``import_queue`` reads the parameter at synth through a context lookup (``ssm.StringParameter.value_from_lookup``):
the CDK CLI fetches the value once and caches it in ``cdk.context.json``; commit that file so CI synthesizes offline
(and again after the platform changes its queues: ``cdk context --reset KEY``, then synth with credentials). In the
same app, pass the queue object, or ``BatchQueue.from_contract(scope, id, queue.contract())``.
"""

from __future__ import annotations

import json
import pathlib
from collections.abc import Mapping
from dataclasses import replace
from typing import Final

from aws_cdk import Token
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from ._internal.memo import stack_of
from ._internal.validation import raise_if_any
from .errors import BatchConfigurationError
from .model import registry
from .model.contract import PlatformContract
from .queue import ImportedQueue, KnownQueue

__all__ = ["context_from_file", "contract_of", "import_queue", "publish_contract"]

#: SSM String parameter value limits (PutParameter: 4 KB standard tier, 8 KB advanced tier).
STANDARD_LIMIT: Final = 4096
ADVANCED_LIMIT: Final = 8192
#: What a queue ARN can take at most when it is a token at synth: partition, region, account and a 128-character name.
_ARN_ESTIMATE: Final = "arn:aws-us-gov:batch:us-gov-west-1:123456789012:job-queue/" + "q" * 128
#: The prefix ``value_from_lookup`` returns while the value is not in the context yet (aws-cdk-lib ssm).
_DUMMY_PREFIX: Final = "dummy-value-for-"


def contract_of(queues: Mapping[str, KnownQueue]) -> PlatformContract:
    """The platform contract of ``queues`` (name -> queue): each queue's :meth:`~KnownQueue.contract`."""
    return PlatformContract(queues={name: queue.contract() for name, queue in queues.items()})


def publish_contract(
    scope: Construct,
    construct_id: str,
    *,
    parameter_name: str,
    queues: Mapping[str, KnownQueue],
    description: str | None = None,
) -> ssm.StringParameter:
    """An SSM String parameter holding the contract of ``queues`` as JSON (queue ARNs resolve at deploy).

    Args:
        parameter_name: the name workloads look up, e.g. ``/platform/batch/contract``. It is the platform's public
            API (like an export name): keep it stable.
        queues: name -> queue; the names are what workloads pass as ``import_queue(queue=...)``.
        description: Default: one naming the queues.

    The standard tier holds 4 KB; a larger contract (many queues or GPU families) goes to the advanced tier (8 KB,
    charged per parameter-month: see AWS Systems Manager pricing); above 8 KB it is an error (``[queue-contract]``):
    publish the queues under two parameters. The size is estimated with the longest ARN a queue can have.
    """
    problems: list[str] = []
    if not queues:
        problems.append(registry.QUEUE_CONTRACT.fix("no queues to publish", "pass queues={'name': queue}"))
    raise_if_any(scope, problems)
    contract = contract_of(queues)
    estimate = PlatformContract(
        queues={
            n: replace(q, job_queue_arn=_ARN_ESTIMATE) if Token.is_unresolved(q.job_queue_arn) else q
            for n, q in contract.queues.items()
        }
    )
    size = len(estimate.to_json().encode())
    if size > ADVANCED_LIMIT:
        raise_if_any(
            scope,
            [
                registry.QUEUE_CONTRACT.fix(
                    f"the contract of {sorted(queues)} may take {size} bytes, more than an SSM parameter holds "
                    f"({ADVANCED_LIMIT} bytes in the advanced tier)",
                    "publish the queues under two parameters (two publish_contract calls)",
                )
            ],
        )
    tier = ssm.ParameterTier.STANDARD if size <= STANDARD_LIMIT else ssm.ParameterTier.ADVANCED
    value = stack_of(scope).to_json_string(contract.to_dict())
    return ssm.StringParameter(
        scope,
        construct_id,
        parameter_name=parameter_name,
        string_value=value,
        tier=tier,
        description=description or f"batch-constructs queue contract: {', '.join(sorted(queues))}",
    )


def import_queue(
    scope: Construct,
    construct_id: str,
    *,
    parameter_name: str,
    queue: str,
    job_queue_arn: str | None = None,
) -> ImportedQueue:
    """Queue ``queue`` of the contract published under ``parameter_name``, read at synth by a context lookup.

    The stack needs an explicit account and region (a context lookup is per environment). While the value is not in
    the context yet (the CLI's first pass, before it fetches the parameter), the queue is *pending*: jobs on it are
    not checked, and the CLI synthesizes again with the value.

    Args:
        job_queue_arn: the ARN to submit to. Default: the contract's (a literal in this template). Pass e.g.
            ``Fn.import_value(export_name)`` so that CloudFormation refuses to delete the queue while this stack uses
            it.
    """
    value = ssm.StringParameter.value_from_lookup(scope, parameter_name)
    try:
        contract = None if value.startswith(_DUMMY_PREFIX) else PlatformContract.from_json(value).queue(queue)
    except BatchConfigurationError as error:  # the reader knows the document, not where it was read for
        where = f"{scope.node.path}/{construct_id}"
        raise BatchConfigurationError(
            where, [f"{p} (SSM parameter {parameter_name})" for p in error.problems]
        ) from None
    return ImportedQueue(scope, construct_id, contract=contract, job_queue_arn=job_queue_arn)


def context_from_file(scope: Construct, path: str | pathlib.Path) -> None:
    """Load a ``cdk.context.json``-style file into ``scope``'s context (before ``scope`` has children).

    For an app that keeps its cached lookups next to its code rather than in the project's ``cdk.context.json``
    (e.g. one of several apps in one repository): lookups under ``scope`` then answer from the file, offline.
    """
    for key, value in json.loads(pathlib.Path(path).read_text()).items():
        scope.node.set_context(key, value)
