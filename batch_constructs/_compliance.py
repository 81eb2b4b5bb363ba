"""Acknowledging cdk-nag findings that are inherent to what a construct builds.

Acknowledgements sit on the narrowest construct (the role, the resource), always with a reason a security reviewer
would accept. They use aws-cdk-lib's ``Validations`` API, so the library needs no cdk-nag import at run time.
Every acknowledgement the library places is listed in ``docs/compliance.md``; a test keeps the two in step.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct


def acknowledge(construct: IConstruct, finding: str, reason: str) -> None:
    """Acknowledge one finding, e.g. ``AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:...]``."""
    Validations.of(construct).acknowledge(Acknowledgment(id=finding, reason=reason))


def managed_policy_finding(policy_name: str) -> str:
    """The AwsSolutions-IAM4 finding id of one AWS managed policy attached to a role."""
    return f"AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/{policy_name}]"


#: The three packs that share most rule names.
CONTROL_PACKS = ("NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321")


def acknowledge_in_packs(construct: IConstruct, rule: str, reason: str, packs: tuple[str, ...] = CONTROL_PACKS) -> None:
    """Acknowledge ``rule`` (e.g. ``EC2RestrictedCommonPorts``) in each pack that has it."""
    for pack in packs:
        acknowledge(construct, f"{pack}::{pack}-{rule}", reason)
