"""Registers cdk-nag's five packs on an app, so that any unacknowledged finding fails the synth."""

from __future__ import annotations

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, PCIDSS321Checks, ServerlessChecks


def add_compliance_packs(app: cdk.App) -> None:
    """AwsSolutions, NIST 800-53 R5, HIPAA, PCI DSS 3.2.1 and Serverless, as cdk-nag 3 validation plugins."""
    cdk.Validations.of(app).add_plugins(
        AwsSolutionsChecks(app),
        NIST80053R5Checks(app),
        HIPAASecurityChecks(app),
        PCIDSS321Checks(app),
        ServerlessChecks(app),
    )
