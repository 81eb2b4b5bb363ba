"""Container settings every job kind shares: Linux parameters, ulimits, consumable resources, ECS Exec.

One place builds a container's Linux parameters from what the user asked for plus what the job implies (e.g. the EFA
device of a multi-node job), and one place merges ulimits the same way, so implied settings compose with the user's:
an implied ulimit (EFA's ``memlock -1``) is added unless the user set that ulimit name, and implied devices come first
(their permission override in :mod:`.multinode` relies on the index).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence

from aws_cdk import CfnParameter, Reference, Size, Tokenization
from aws_cdk import aws_batch as batch
from aws_cdk import aws_iam as iam
from constructs import Construct

from .._internal.compliance import acknowledge
from .._internal.iam import ManagedPolicyRole
from .._internal.memo import mebibytes_of, stack_of
from .._internal.validation import is_known
from ..model import registry

__all__: list[str] = []

#: ECS Exec opens a Session Manager channel from the task (ECS developer guide, "Monitor Amazon ECS containers with
#: ECS Exec": the task role needs these four ssmmessages actions, which support no resource-level permissions).
EXEC_ACTIONS: tuple[str, ...] = (
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
)

ConsumableResources = Mapping["batch.IConsumableResource | str", int]


def secret_services(scope: Construct, secrets: Iterable[batch.Secret]) -> frozenset[str]:
    """The services ECS fetches ``secrets`` from before the container starts: ``ssm`` (SSM parameters) and
    ``secretsmanager``, for the check that needs their interface endpoints in subnets without a NAT.

    Read from each secret's ARN as resolved in the stack (:func:`_service_of`). A secret whose ARN the library cannot
    read (a template parameter's value, an ``Fn.import_value``) adds nothing: no false alarm.
    """
    found = (
        _service_of(stack_of(scope).resolve(secret.arn), functools.partial(_leads_with_parameter, secret.arn))
        for secret in secrets
    )
    return frozenset(service for service in found if service is not None)


def _leads_with_parameter(arn: str) -> bool:
    """Whether ``arn`` starts with a reference to a template parameter, of this stack or another one."""
    tokens = Tokenization.reverse_string(arn).tokens
    first = tokens[0] if tokens else None
    return isinstance(first, Reference) and isinstance(first.target, CfnParameter)


def _service_of(resolved: object, is_parameter: Callable[[], bool]) -> str | None:
    """``ssm``, ``secretsmanager`` or None (cannot tell) for a secret ARN as ``stack.resolve`` returns it.

    * ``arn:PARTITION:SERVICE:...`` (a literal, or an ``Fn::Join`` whose tokens stand in for partition, region and
      account): the ARN's own service field; aws-cdk-lib formats every SSM parameter ARN that way;
    * a ``Ref`` (alone, or first in an ``Fn::Join`` that appends a JSON field or version): a Secrets Manager secret,
      whose ``Ref`` is its ARN (an SSM parameter's ``Ref`` is its name, which aws-cdk-lib never passes as an ARN),
      unless it is a pseudo parameter or ``is_parameter()`` says it is a template parameter.
    """
    parts: list[object] = [resolved]
    if isinstance(resolved, dict) and isinstance(resolved.get("Fn::Join"), list):
        delimiter, items = resolved["Fn::Join"]
        if delimiter == "" and isinstance(items, list):
            parts = list(items)
    text = "".join(part if isinstance(part, str) else "\0" for part in parts)
    if text.startswith("arn:"):
        fields = text.split(":")
        service = fields[2] if len(fields) > 2 else ""
        return service if service in ("ssm", "secretsmanager") else None
    first = parts[0] if parts else None
    if isinstance(first, dict) and list(first) == ["Ref"] and isinstance(first["Ref"], str):
        if first["Ref"].startswith("AWS::") or is_parameter():
            return None
        return "secretsmanager"
    return None


def linux_parameters(
    scope: Construct,
    construct_id: str,
    *,
    init_process: bool,
    shared_memory_size: Size | None,
    tmpfs: Sequence[batch.Tmpfs],
    implied_devices: Sequence[batch.Device] = (),
) -> batch.LinuxParameters | None:
    """The L2 Linux parameters of one container, or None when nothing is set (so templates stay unchanged)."""
    if not (init_process or shared_memory_size is not None or tmpfs or implied_devices):
        return None
    params = batch.LinuxParameters(
        scope,
        construct_id,
        init_process_enabled=init_process or None,
        shared_memory_size=shared_memory_size,
    )
    if implied_devices:
        params.add_devices(*implied_devices)
    if tmpfs:
        params.add_tmpfs(*tmpfs)
    return params


def merge_ulimits(user: Sequence[batch.Ulimit], implied: Sequence[batch.Ulimit] = ()) -> list[batch.Ulimit]:
    """The user's ulimits, plus each implied one whose name the user did not set (the user's value wins)."""
    names = {u.name for u in user}
    return [*user, *(u for u in implied if u.name not in names)]


def settings_problems(
    *,
    ulimits: Sequence[batch.Ulimit],
    shared_memory_size: Size | None,
    tmpfs: Sequence[batch.Tmpfs],
    init_process: bool,
    consumable_resources: ConsumableResources,
    user_linux_parameters: batch.LinuxParameters | None,
) -> list[str]:
    """Well-formedness of the settings (rule container-settings); platform checks are the caller's."""
    problems: list[str] = []
    seen: set[str] = set()
    for u in ulimits:
        # the Python enum member is named NOFILE; the template (and docker) spell it nofile
        name = str(getattr(u.name, "name", u.name)).lower()
        if name in seen:
            problems.append(registry.CONTAINER_SETTINGS.fix(f"ulimit {name} is set twice", "keep one Ulimit per name"))
        seen.add(name)
        if is_known(u.soft_limit, u.hard_limit) and u.hard_limit != -1 and u.soft_limit > u.hard_limit:
            problems.append(
                registry.CONTAINER_SETTINGS.fix(
                    f"ulimit {name}: soft_limit={u.soft_limit} is above hard_limit={u.hard_limit}",
                    "make soft_limit at most hard_limit",
                )
            )
    if shared_memory_size is not None and is_known(mebibytes_of(shared_memory_size)):
        if mebibytes_of(shared_memory_size) < 1:
            problems.append(
                registry.CONTAINER_SETTINGS.fix(
                    f"shared_memory_size={mebibytes_of(shared_memory_size):g} MiB", "use at least 1 MiB"
                )
            )
    for t in tmpfs:
        if is_known(mebibytes_of(t.size)) and mebibytes_of(t.size) < 1:
            problems.append(
                registry.CONTAINER_SETTINGS.fix(f"tmpfs {t.container_path} has size 0", "use at least 1 MiB")
            )
    for resource, quantity in consumable_resources.items():
        if is_known(quantity) and quantity < 1:
            what = resource if isinstance(resource, str) else resource.node.path
            problems.append(
                registry.CONTAINER_SETTINGS.fix(
                    f"consumable resource {what} with quantity {quantity}", "consume at least 1"
                )
            )
    if user_linux_parameters is not None and (init_process or shared_memory_size is not None or tmpfs):
        problems.append(
            registry.CONTAINER_SETTINGS.fix(
                "linux_parameters together with init_process/shared_memory_size/tmpfs",
                "use the settings (the library builds the Linux parameters), or only linux_parameters",
            )
        )
    return problems


def ec2_only_problems(
    *, ulimits: Sequence[batch.Ulimit], shared_memory_size: Size | None, tmpfs: Sequence[batch.Tmpfs]
) -> list[str]:
    """Settings the Batch API says are not applicable to Fargate jobs (rule platform-props)."""
    names = [
        n
        for n, v in (
            ("ulimits", bool(ulimits)),
            ("shared_memory_size", shared_memory_size is not None),
            ("tmpfs", bool(tmpfs)),
        )
        if v
    ]
    if not names:
        return []
    return [
        registry.PLATFORM_PROPS.fix(
            f"{', '.join(names)} on a Fargate job (the Batch API: not applicable to jobs running on Fargate)",
            "run the job on EC2, or drop them",
        )
    ]


def consumable_resource_property(resources: ConsumableResources) -> dict[str, object] | None:
    """``ConsumableResourceProperties`` of the L1 (the 2.275 L2 job definitions have no prop for it)."""
    if not resources:
        return None
    return {
        "ConsumableResourceList": [
            {
                "ConsumableResource": r if isinstance(r, str) else r.consumable_resource_arn,
                "Quantity": q,
            }
            for r, q in resources.items()
        ]
    }


def acknowledge_execute_command(role: iam.IRole) -> None:
    """Acknowledge the ssmmessages grant where the library's own job role holds it (the L2 adds the statement)."""
    policy = role.managed_policy if isinstance(role, ManagedPolicyRole) else None
    if policy is not None:
        acknowledge(
            policy,
            "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
            "ECS Exec: the ssmmessages channel actions support no resource-level permissions (Service Authorization "
            "Reference, Amazon Session Manager Message Gateway Service); granted only because enable_execute_command "
            "is on.",
        )


def apply_consumable_resources(job_definition: batch.IJobDefinition, resources: ConsumableResources) -> None:
    """Write ``ConsumableResourceProperties`` on the job definition's L1 (the aws-cdk-lib 2.275 L2 has no prop)."""
    prop = consumable_resource_property(resources)
    if prop is None:
        return
    cfn = job_definition.node.default_child
    assert isinstance(cfn, batch.CfnJobDefinition)
    cfn.add_property_override("ConsumableResourceProperties", prop)
