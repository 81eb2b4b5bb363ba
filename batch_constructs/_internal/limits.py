"""Stack-level checks, added once per stack by the library's constructs and run at synth time.

CloudFormation rejects a stack of more than 500 resources (the CDK refuses to synthesize one, and only notes an info
message at 400) or a template above 1 MB (the CDK warns from 80% of it, ``@aws-cdk/core:Stack.templateSize``, measuring
the written template exactly, so the library adds nothing for size). Resource counts grow unnoticed until a deploy
fails: the library warns at 450 resources. The same check warns about tags on compute environments (tags are
create-only there, so changing one replaces the environment) and rejects more than 50 tags on a Batch resource, after
``Tags.of(...)`` has applied its tags.

The checks run as a construct validation (after every Aspect, so after tagging), held by one child construct
``BatchConstructsChecks`` of the stack, which keeps them to one per stack however many of the library's constructs the
stack holds. Warnings are acknowledgeable like every other: ``Annotations.of(stack or resource)
.acknowledge_warning("batch-constructs:stack-resources", reason)``.
"""

from __future__ import annotations

from typing import Final

from aws_cdk import CfnResource, Stack
from aws_cdk import aws_batch as batch
from constructs import Construct, IConstruct

from ..model import registry
from ..model import rules as _rules
from .memo import adopt_stack, node_of, stack_of
from .validation import validate_later, warn

RESOURCES_WARNING: Final = 450
RESOURCES_LIMIT: Final = 500
CHECKS_ID: Final = "BatchConstructsChecks"
#: Set on the stack's Python object once its checks exist (saves three jsii round trips per construct).
_REGISTERED: Final = "_batch_constructs_checks_registered"

_REPLACED_BY_TAGS: Final = (batch.CfnComputeEnvironment,)
_BATCH_TAGGABLE: Final = (
    batch.CfnComputeEnvironment,
    batch.CfnJobQueue,
    batch.CfnSchedulingPolicy,
    batch.CfnJobDefinition,
)

_TYPE_NAMES: Final[dict[type[CfnResource], str]] = {
    batch.CfnComputeEnvironment: "AWS::Batch::ComputeEnvironment",
    batch.CfnJobQueue: "AWS::Batch::JobQueue",
    batch.CfnSchedulingPolicy: "AWS::Batch::SchedulingPolicy",
    batch.CfnJobDefinition: "AWS::Batch::JobDefinition",
}


def register_stack_checks(construct: IConstruct, scope: IConstruct, construct_id: str | None = None) -> None:
    """Add the stack checks to the stack of ``construct`` (just created in ``scope`` with id ``construct_id``) unless
    already there."""
    adopt_stack(construct, scope, construct_id)
    stack = stack_of(construct)
    if getattr(stack, _REGISTERED, False):
        return
    if node_of(stack).try_find_child(CHECKS_ID) is None:
        holder = Construct(stack, CHECKS_ID)
        validate_later(holder, lambda: check_stack(stack))
    setattr(stack, _REGISTERED, True)


def resources_warning(count: int) -> str | None:
    if count < RESOURCES_WARNING:
        return None
    return (
        f"the stack has {count} resources; CloudFormation allows {RESOURCES_LIMIT} per stack and the CDK refuses to "
        f"synthesize more. Fix: move a part (e.g. one pipeline, or the monitoring) into its own stack or a "
        f"NestedStack before it grows further"
    )


def tags_replace_warning(resource_type: str, keys: list[str]) -> str | None:
    if not keys:
        return None
    return (
        f"tags on this {resource_type} ({', '.join(sorted(keys)[:5])}{' ...' if len(keys) > 5 else ''}) are "
        "create-only: adding, changing or removing one (including through an app-wide Tags.of(app)) replaces the "
        "compute environment. Fix: tag it once and leave the tags alone, exclude it "
        "(Tags.of(app).add(k, v, exclude_resource_types=['AWS::Batch::ComputeEnvironment'])), or acknowledge"
    )


def check_stack(stack: Stack) -> list[str]:
    """Warn about the stack's resource count and compute-environment tags; return errors for too many tags."""
    constructs = node_of(stack).find_all()
    nested = [c.node.path + "/" for c in constructs if isinstance(c, Stack) and c is not stack]
    resources = [
        c
        for c in constructs
        # MRO membership, not isinstance: isinstance walks CfnResource's ABC registry of ~285 L1 classes per class
        if CfnResource in type(c).__mro__ and not any(c.node.path.startswith(prefix) for prefix in nested)
    ]
    message = resources_warning(len(resources))
    if message:
        warn(stack, registry.STACK_RESOURCES_WARNING, message)
    errors: list[str] = []
    for resource in resources:
        if not isinstance(resource, _BATCH_TAGGABLE):
            continue
        keys = list(_tag_keys(resource))
        resource_type = _type_name(resource)
        if isinstance(resource, _REPLACED_BY_TAGS):
            message = tags_replace_warning(resource_type, keys)
            if message:
                warn(resource, registry.TAGS_REPLACE_WARNING, message)
        errors += [f"{resource.node.path}: {p}" for p in _rules.tags(resource_type, len(keys))]
    return errors


def _type_name(resource: CfnResource) -> str:
    """The CloudFormation type of one of ``_BATCH_TAGGABLE`` (a class constant: no jsii round trip)."""
    for cls, name in _TYPE_NAMES.items():
        if isinstance(resource, cls):
            return name
    return resource.cfn_resource_type


def _tag_keys(resource: CfnResource) -> dict[str, str]:
    manager = getattr(resource, "tags", None)
    tag_values = getattr(manager, "tag_values", None)
    if tag_values is None:
        return {}
    values: dict[str, str] = tag_values()
    return values
