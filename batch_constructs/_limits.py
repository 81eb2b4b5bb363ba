"""Stack-level checks, added once per stack by the library's constructs and run at synth time.

CloudFormation rejects a stack of more than 500 resources (the CDK refuses to synthesize one) or a template above
1 MB (``cdk deploy`` uploads templates to S3; CloudFormation reads at most 1 MB from there). Both are found late, when a
stack has grown: the library warns well before them, at 450 resources and at an estimated 800 KB. The same check warns
about tags on compute environments (tags are create-only there, so changing one replaces the environment) and
rejects more than 50 tags on a Batch resource, after ``Tags.of(...)`` has applied its tags.

The checks run as a construct validation (after every Aspect, so after tagging): one child construct
``BatchConstructsChecks`` of the stack carries it, which keeps the check to one per stack however many of the library's
constructs the stack holds. Warnings are acknowledgeable like every other: ``Annotations.of(stack or resource)
.acknowledge_warning("batch-constructs:stack-resources", reason)``.
"""

from __future__ import annotations

import json
from typing import Any, Final

from aws_cdk import CfnResource, Stack
from aws_cdk import aws_batch as batch
from constructs import Construct, IConstruct

from . import _rules
from ._validation import validate_later, warn

RESOURCES_WARNING: Final = 450
RESOURCES_LIMIT: Final = 500
TEMPLATE_WARNING_BYTES: Final = 800 * 1024
TEMPLATE_LIMIT_BYTES: Final = 1024 * 1024
#: Below this many resources the template size is not estimated (estimating costs about 2 ms a resource at synth):
#: reaching 800 KB with fewer would take more than 8 KB a resource.
SIZE_ESTIMATE_FROM: Final = 100
CHECKS_ID: Final = "BatchConstructsChecks"

_REPLACED_BY_TAGS: Final = (batch.CfnComputeEnvironment,)
_BATCH_TAGGABLE: Final = (
    batch.CfnComputeEnvironment,
    batch.CfnJobQueue,
    batch.CfnSchedulingPolicy,
    batch.CfnJobDefinition,
)


def register_stack_checks(scope: IConstruct) -> None:
    """Add the stack checks to ``scope``'s stack unless already there."""
    stack = Stack.of(scope)
    if stack.node.try_find_child(CHECKS_ID) is None:
        holder = Construct(stack, CHECKS_ID)
        validate_later(holder, lambda: check_stack(stack))


def resources_warning(count: int) -> str | None:
    if count < RESOURCES_WARNING:
        return None
    return (
        f"the stack has {count} resources; CloudFormation allows {RESOURCES_LIMIT} per stack and the CDK refuses to "
        f"synthesize more. Fix: move a part (e.g. one pipeline, or the monitoring) into its own stack or a "
        f"NestedStack before it grows further"
    )


def template_size_warning(estimated_bytes: int) -> str | None:
    if estimated_bytes < TEMPLATE_WARNING_BYTES:
        return None
    over = "above" if estimated_bytes > TEMPLATE_LIMIT_BYTES else "near"
    return (
        f"the template is about {estimated_bytes // 1024} KB, {over} CloudFormation's 1 MB (1024 KB) limit, which "
        "fails the deploy. Fix: split the stack (NestedStack or a second stack), or shrink large inline content "
        "(state machine definitions, inline Lambda code, policies)"
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
    """Warn about the stack's size and compute-environment tags; return errors for too many tags."""
    constructs = stack.node.find_all()
    nested = [c.node.path + "/" for c in constructs if isinstance(c, Stack) and c.node.path != stack.node.path]
    resources = [
        c
        for c in constructs
        if isinstance(c, CfnResource) and not any(c.node.path.startswith(prefix) for prefix in nested)
    ]
    message = resources_warning(len(resources))
    if message:
        warn(stack, "stack-resources", message)
    if len(resources) >= SIZE_ESTIMATE_FROM:
        message = template_size_warning(estimate_template_bytes(stack, resources))
        if message:
            warn(stack, "stack-template-size", message)
    errors: list[str] = []
    for resource in resources:
        if not isinstance(resource, _BATCH_TAGGABLE):
            continue
        keys = list(_tag_keys(resource))
        if isinstance(resource, _REPLACED_BY_TAGS):
            message = tags_replace_warning(resource.cfn_resource_type, keys)
            if message:
                warn(resource, "tags-replace", message)
        errors += [f"{resource.node.path}: {p}" for p in _rules.tags(resource.cfn_resource_type, len(keys))]
    return errors


def _tag_keys(resource: CfnResource) -> dict[str, str]:
    manager = getattr(resource, "tags", None)
    tag_values = getattr(manager, "tag_values", None)
    if tag_values is None:
        return {}
    values: dict[str, str] = tag_values()
    return values


def estimate_template_bytes(stack: Stack, resources: list[CfnResource]) -> int:
    """About the size ``cdk synth`` writes (one-space indentation): resources' properties resolved, plus overhead.

    Property overrides are not included; the estimate is within about 10% of the written template on the example apps.
    """
    total = 64
    for resource in resources:
        body: dict[str, Any] = {
            "Type": resource.cfn_resource_type,
            "Properties": stack.resolve(resource._cfn_properties),
            "Metadata": {"aws:cdk:path": resource.node.path},
        }
        total += len(json.dumps({stack.get_logical_id(resource): body}, indent=1, default=str)) + 8
    return total
