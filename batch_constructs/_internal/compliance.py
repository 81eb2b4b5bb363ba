"""Acknowledging cdk-nag findings that are inherent to what a construct builds.

Acknowledgements sit on the narrowest construct (the role, the resource), always with a reason a security reviewer
would accept. They use aws-cdk-lib's ``Validations`` API, so the library needs no cdk-nag import at run time.
Every acknowledgement the library places is listed in ``docs/compliance.md``; a test keeps the two in step.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct

from .memo import stack_of


def acknowledge(construct: IConstruct, finding: str, reason: str) -> None:
    """Acknowledge one finding, e.g. ``AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:...]``."""
    acknowledge_all(construct, [(finding, reason)])


def acknowledge_all(construct: IConstruct, findings: Iterable[tuple[str, str]]) -> None:
    """Acknowledge several ``(finding, reason)`` pairs on one construct in one ``Validations.acknowledge`` call.

    Two jsii round trips however many findings (one per finding would cost two each), one once the construct has been
    acknowledged before: aws-cdk-lib records each rule of one call exactly as it would record it alone (one
    ``aws:cdk:acknowledged-rules`` metadata entry per rule).
    """
    rules = [Acknowledgment(id=finding, reason=reason) for finding, reason in findings]
    if rules:
        _validations_of(construct).acknowledge(*rules)


_VALIDATIONS = "_batch_constructs_validations"


def _validations_of(construct: IConstruct) -> Validations:
    """``Validations.of(construct)``, remembered on the construct: aws-cdk-lib's ``Validations`` only holds the scope
    it was made for (``static of(scope) { return new Validations(scope) }``), so one serves every later call."""
    cached = getattr(construct, _VALIDATIONS, None)
    if isinstance(cached, Validations):
        return cached
    validations = Validations.of(construct)
    try:
        setattr(construct, _VALIDATIONS, validations)
    except AttributeError:  # an object that takes no attributes: ask again next time
        pass
    return validations


def resource_finding(scope: IConstruct, arn: str, pack_rule: str = "AwsSolutions::AwsSolutions-IAM5") -> str:
    """The finding id naming ``arn`` (a string or token) as cdk-nag prints it in the stack of ``scope``.

    The text depends on how the stack is synthesized: in an environment-agnostic stack a ``format_arn`` ARN resolves
    to ``arn:<AWS::Partition>:batch:<AWS::Region>:<AWS::AccountId>:...``, in a stack pinned to an account and region to
    ``arn:aws:batch:eu-west-1:123456789012:...``. Computing the id from the value resolved in that stack keeps the
    acknowledgement matching in both (and in any partition).
    """
    return f"{pack_rule}[Resource::{nag_text(stack_of(scope).resolve(arn))}]"


def managed_policy_finding(policy_name: str) -> str:
    """The AwsSolutions-IAM4 finding id of one AWS managed policy attached to a role."""
    return f"AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/{policy_name}]"


#: The three packs that share most rule names.
CONTROL_PACKS = ("NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321")


def in_packs(rule: str, reason: str, packs: tuple[str, ...] = CONTROL_PACKS) -> list[tuple[str, str]]:
    """The ``(finding, reason)`` pairs of ``rule`` in each of ``packs``, for :func:`acknowledge_all`."""
    return [(f"{pack}::{pack}-{rule}", reason) for pack in packs]


def acknowledge_in_packs(construct: IConstruct, rule: str, reason: str, packs: tuple[str, ...] = CONTROL_PACKS) -> None:
    """Acknowledge ``rule`` (e.g. ``EC2RestrictedCommonPorts``) in each pack that has it."""
    acknowledge_all(construct, in_packs(rule, reason, packs))


def nag_text(value: Any) -> str:
    """A resolved CloudFormation value as cdk-nag writes it in finding ids (``Fn::Join`` joined, ``Ref`` as <X>).

    cdk-nag 3 matches acknowledgement ids exactly, so an id naming a resource must be computed this way.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value.replace("${", "<").replace("}", ">")
    if isinstance(value, dict):
        if "Fn::Join" in value:
            delimiter, items = value["Fn::Join"]
            return str(delimiter).join(nag_text(i) for i in items)
        if "Fn::Sub" in value:
            return nag_text(value["Fn::Sub"])
        if "Fn::GetAtt" in value:
            resource, attribute = value["Fn::GetAtt"]
            return f"<{nag_text(resource)}.{nag_text(attribute)}>"
        if "Fn::ImportValue" in value:
            return nag_text(value["Fn::ImportValue"])
        if "Ref" in value:
            return f"<{nag_text(value['Ref'])}>"
    return json.dumps(value, separators=(",", ":"))
